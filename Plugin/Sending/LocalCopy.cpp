// A de-identified copy stored in this Orthanc: kept for "Store" (and
// "Store": true on a send), or stored only for as long as the DICOMweb
// plugin needs to send it. The copy records its source in the
// "DeidentifiedFrom" metadata, as the copies of the de-identification jobs.
#include "Sending/Senders.h"

#include "Configuration/Configuration.h"
#include "Orthanc/OrthancApi.h"

namespace Deid
{
  namespace Sending
  {
    using namespace OrthancApi;

    LocalCopy StoreLocalCopy(const std::string& dicom, const std::string& sourceId, const std::string& label)
    {
      Json::Value stored;
      if (!RestPost(stored, "/instances", dicom.data(), dicom.size(), true) ||
          !stored.isObject() || !stored["ID"].isString())
      {
        throw HttpError(OrthancPluginErrorCode_InternalError,
                        "Orthanc refused to store the de-identified copy of " + label);
      }

      LocalCopy copy;
      copy.id = stored["ID"].asString();
      copy.alreadyStored = (stored["Status"].isString() && stored["Status"].asString() == "AlreadyStored");
      if (copy.id == sourceId)
      {
        // Would only happen if nothing identifying was changed at all.
        throw HttpError(OrthancPluginErrorCode_InternalError,
                        "The de-identified copy of " + label + " has the same Orthanc ID as its source");
      }

      const std::string& metadata = Configuration::Get().GetSourceMetadata();
      if (!RestPut("/instances/" + copy.id + "/metadata/" + metadata, sourceId, true))
      {
        if (!copy.alreadyStored)
        {
          RestDelete("/instances/" + copy.id, true);
        }
        throw HttpError(OrthancPluginErrorCode_InternalError,
                        "Cannot link the de-identified copy " + copy.id + " to " + label);
      }
      return copy;
    }

    bool DeleteLocalCopy(const LocalCopy& copy)
    {
      if (copy.alreadyStored)
      {
        return true;   // it was there before this send: not ours
      }
      return RestDelete("/instances/" + copy.id, true);
    }
  }
}
