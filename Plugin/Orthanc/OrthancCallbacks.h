// The Orthanc callbacks that are not REST routes, over the SDK: changes
// (OrthancPluginRegisterOnChangeCallback), the received-instance callback
// and the C-STORE instance filter (both SDK 1.10.0). Registered from
// OrthancPluginInitialize() only; each kind keeps a list of handlers.
#pragma once

#include <orthanc/OrthancCPlugin.h>

#include <cstdint>
#include <functional>
#include <string>

namespace Deid
{
  namespace OrthancApi
  {
    // Called by Orthanc's thread that signals changes: must be quick and never throw.
    typedef std::function<void(OrthancPluginChangeType change, OrthancPluginResourceType level,
                               const std::string& resourceId)> ChangeHandler;
    void RegisterChangeHandler(ChangeHandler handler);

    // What to do with a received instance.
    struct ReceivedInstanceAnswer
    {
      OrthancPluginReceivedInstanceAction action = OrthancPluginReceivedInstanceAction_KeepAsIs;
      std::string modified;   // the new content for OrthancPluginReceivedInstanceAction_Modify
    };

    // One handler only (Orthanc accepts one per process). Called before the
    // instance is stored, synchronously with Orthanc's core: the handler
    // must not call Orthanc's REST API. An exception discards the instance.
    typedef std::function<ReceivedInstanceAnswer(const void* dicom, size_t size,
                                                 OrthancPluginInstanceOrigin origin)> ReceivedInstanceHandler;
    void RegisterReceivedInstanceHandler(ReceivedInstanceHandler handler);

    // A DICOM C-STORE about to be accepted: its remote AET and content.
    // Returns true to accept; false to refuse with "dimseStatus". An
    // exception refuses with 0xC000 ("cannot understand").
    typedef std::function<bool(uint16_t& dimseStatus, const std::string& remoteAet,
                               const void* dicom, size_t size)> CStoreFilter;
    void RegisterCStoreFilter(CStoreFilter filter);
  }
}
