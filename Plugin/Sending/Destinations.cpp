// Whether a destination is configured in Orthanc: "DicomModalities"
// (GET /modalities), "OrthancPeers" (GET /peers), the DICOMweb plugin's
// "DicomWeb.Servers" (GET {Root}servers). Asked at each check, so that
// modalities and peers added through the REST API count too.
#include "Sending/DestinationSender.h"
#include "Sending/Senders.h"

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

    static bool Contains(const Json::Value& names, const std::string& name)
    {
      if (names.isArray())
      {
        for (const Json::Value& n : names)
        {
          if (n.isString() && n.asString() == name)
          {
            return true;
          }
        }
      }
      else if (names.isObject())
      {
        return names.isMember(name);
      }
      return false;
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

      Json::Value names;
      std::string where;
      if (kind == "Modality")
      {
        RestGet(names, "/modalities");
        where = "Orthanc's \"DicomModalities\"";
      }
      else if (kind == "Peer")
      {
        RestGet(names, "/peers");
        where = "Orthanc's \"OrthancPeers\"";
      }
      else
      {
        if (!RestGetAfterPlugins(names, GetDicomWebRoot() + "servers", true))
        {
          throw HttpError::BadRequest("Cannot send to " + DescribeDestination(destination) +
                                      ": DicomWeb destinations need the orthanc-dicomweb plugin "
                                      "(libOrthancDicomWeb.so in \"Plugins\")");
        }
        where = "\"DicomWeb.Servers\"";
      }

      if (!Contains(names, destination.name))
      {
        throw HttpError(OrthancPluginErrorCode_InexistentItem,
                        "Unknown destination: " + DescribeDestination(destination) + " is not in " + where);
      }
    }
  }
}
