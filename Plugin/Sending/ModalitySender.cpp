// Modality destinations: DICOM C-STORE (PS3.4 B.2) to a modality of Orthanc's
// "DicomModalities", through Orthanc's own SCU:
// POST /modalities/{name}/store-straight with the Part 10 file as body
// (Orthanc >= 1.6.1). One association per instance.
#include "Sending/Senders.h"

#include "Orthanc/OrthancApi.h"

namespace Deid
{
  namespace Sending
  {
    using namespace OrthancApi;

    void SendToModality(const std::string& dicom, const Rules::Destination& destination,
                        const std::string& label)
    {
      std::string answer;
      const std::string uri = "/modalities/" + destination.name + "/store-straight";
      try
      {
        RestPost(answer, uri, dicom.data(), dicom.size());
      }
      catch (const HttpError& e)
      {
        throw HttpError(e.GetCode(), "C-STORE of " + label + " to " + DescribeDestination(destination) +
                        " failed: " + DescribeError(e.GetCode()));
      }
    }
  }
}
