// Whether a destination can be sent to: a kind that sends, a name that
// can be put in a route, and configured in Orthanc (ConfiguredDestinations:
// "DicomModalities", "OrthancPeers", the DICOMweb plugin's servers, asked
// at each check so that destinations added through the REST API count too).
#include "Sending/DestinationSender.h"
#include "Sending/Senders.h"

#include "Operations/ConfiguredDestinations.h"
#include "Orthanc/OrthancApi.h"

namespace Deid
{
  namespace Sending
  {
    using namespace OrthancApi;

    std::string DescribeDestination(const Rules::Destination& destination)
    {
      if (destination.name.empty())
      {
        return destination.kind;
      }
      return destination.kind + " " + WriteJson(Json::Value(destination.name), false);   // quoted, escaped
    }

    void CheckDestination(const Rules::Destination& destination)
    {
      const std::string& kind = destination.kind;
      if (kind == "Store")
      {
        return;
      }
      if (kind != "Modality" && kind != "Peer" && kind != "DicomWeb")
      {
        throw HttpError::BadRequest("Cannot send to a destination of kind " +
                                    WriteJson(Json::Value(kind), false) +
                                    " (Modality, Peer, DicomWeb or Store)");
      }
      if (destination.name.empty() || destination.name.find('/') != std::string::npos)
      {
        throw HttpError::BadRequest("Bad name of the " + kind + " destination: " +
                                    WriteJson(Json::Value(destination.name), false));
      }
      ConfiguredDestinations::CheckConfigured(destination);   // 404 naming it
    }
  }
}
