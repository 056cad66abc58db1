#include "Orthanc/OrthancCallbacks.h"

#include "Orthanc/OrthancApi.h"

#include <cstring>
#include <stdexcept>
#include <vector>

namespace Deid
{
  namespace OrthancApi
  {
    namespace
    {
      std::vector<ChangeHandler> changeHandlers_;
      ReceivedInstanceHandler receivedHandler_;
      CStoreFilter cstoreFilter_;

      OrthancPluginErrorCode OnChange(OrthancPluginChangeType change, OrthancPluginResourceType level,
                                      const char* resourceId)
      {
        for (const ChangeHandler& handler : changeHandlers_)
        {
          try
          {
            handler(change, level, resourceId == nullptr ? std::string() : std::string(resourceId));
          }
          catch (...)
          {
          }
        }
        return OrthancPluginErrorCode_Success;
      }

      OrthancPluginReceivedInstanceAction OnReceived(OrthancPluginMemoryBuffer64* modified,
                                                     const void* dicom, uint64_t size,
                                                     OrthancPluginInstanceOrigin origin)
      {
        try
        {
          ReceivedInstanceAnswer answer = receivedHandler_(dicom, static_cast<size_t>(size), origin);
          if (answer.action == OrthancPluginReceivedInstanceAction_Modify)
          {
            if (OrthancPluginCreateMemoryBuffer64(GetContext(), modified, answer.modified.size()) !=
                OrthancPluginErrorCode_Success)
            {
              LogError("De-identification: out of memory for a received instance: discarded");
              return OrthancPluginReceivedInstanceAction_Discard;
            }
            if (!answer.modified.empty())
            {
              memcpy(modified->data, answer.modified.data(), answer.modified.size());
            }
          }
          return answer.action;
        }
        catch (...)
        {
          std::string message;
          DescribeCurrentException(message);
          LogError("De-identification: a received instance is discarded: " + message);
          return OrthancPluginReceivedInstanceAction_Discard;
        }
      }

      int32_t OnCStore(uint16_t* dimseStatus, const OrthancPluginDicomInstance* instance)
      {
        try
        {
          const char* aet = OrthancPluginGetInstanceRemoteAet(GetContext(), instance);
          const void* data = OrthancPluginGetInstanceData(GetContext(), instance);
          int64_t size = OrthancPluginGetInstanceSize(GetContext(), instance);
          uint16_t status = 0;
          if (cstoreFilter_(status, aet == nullptr ? std::string() : std::string(aet), data,
                            size < 0 ? 0 : static_cast<size_t>(size)))
          {
            return 1;
          }
          *dimseStatus = status;
          return 0;
        }
        catch (...)
        {
          std::string message;
          DescribeCurrentException(message);
          LogError("De-identification: a C-STORE instance is refused: " + message);
          *dimseStatus = 0xC000;
          return 0;
        }
      }
    }


    void RegisterChangeHandler(ChangeHandler handler)
    {
      if (changeHandlers_.empty())
      {
        OrthancPluginRegisterOnChangeCallback(GetContext(), OnChange);
      }
      changeHandlers_.push_back(std::move(handler));
    }


    void RegisterReceivedInstanceHandler(ReceivedInstanceHandler handler)
    {
      if (receivedHandler_)
      {
        throw std::logic_error("Only one received-instance handler can be registered");
      }
      receivedHandler_ = std::move(handler);
      if (OrthancPluginRegisterReceivedInstanceCallback(GetContext(), OnReceived) != OrthancPluginErrorCode_Success)
      {
        throw std::runtime_error("Orthanc refused the received-instance callback (another plugin has one)");
      }
    }


    void RegisterCStoreFilter(CStoreFilter filter)
    {
      if (cstoreFilter_)
      {
        throw std::logic_error("Only one C-STORE filter can be registered");
      }
      cstoreFilter_ = std::move(filter);
      if (OrthancPluginRegisterIncomingCStoreInstanceFilter(GetContext(), OnCStore) != OrthancPluginErrorCode_Success)
      {
        throw std::runtime_error("Orthanc refused the C-STORE instance filter");
      }
    }
  }
}
