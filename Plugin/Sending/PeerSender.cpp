// Peer destinations: another Orthanc of "OrthancPeers", through Orthanc's
// own HTTP client: POST /peers/{name}/store-straight with the Part 10 file
// as body (Orthanc >= 1.6.1).
#include "Sending/Senders.h"

#include "Orthanc/OrthancApi.h"

namespace Deid
{
  namespace Sending
  {
    using namespace OrthancApi;

    void SendToPeer(const std::string& dicom, const Rules::Destination& destination,
                    const std::string& label)
    {
      std::string answer;
      const std::string uri = "/peers/" + destination.name + "/store-straight";
      try
      {
        RestPost(answer, uri, dicom.data(), dicom.size());
      }
      catch (const HttpError& e)
      {
        throw HttpError(e.GetCode(), "Sending " + label + " to " + DescribeDestination(destination) +
                        " failed: " + DescribeError(e.GetCode()));
      }
    }
  }
}
