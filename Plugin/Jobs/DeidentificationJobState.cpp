// Saving and restoring a de-identification job across a restart of Orthanc
// (the format is described in DeidentificationJob.h).
#include "Jobs/DeidentificationJob.h"

#include "Jobs/SavedJobState.h"
#include "Operations/EncryptionRecipients.h"
#include "Orthanc/OrthancApi.h"
#include "Orthanc/ResourceLevel.h"

namespace Deid
{
  using namespace OrthancApi;

  // --- Saving and restoring (see DeidentificationJob.h) ---

  namespace
  {
    const int STATE_VERSION = 1;

    // The request keys that are saved: names only (no certificate, no key,
    // no patient data).
    const char* const SAVED_REQUEST_KEYS[] = { "Project", "Recipients", "Cipher" };
  }


  Json::Value DeidentificationOperation::SaveRequest() const
  {
    Json::Value request(Json::objectValue);
    request["Profile"] = request_.profileName;
    request["Options"] = optionNames_;
    request["KeepSource"] = request_.keepSource;
    for (const char* key : SAVED_REQUEST_KEYS)
    {
      if (request_.body.isObject() && request_.body.isMember(key))
      {
        request[key] = request_.body[key];
      }
    }
    return request;
  }


  Json::Value DeidentificationOperation::Serialize() const
  {
    std::lock_guard<std::mutex> lock(mutex_);

    Json::Value state(Json::objectValue);
    state["Version"] = STATE_VERSION;
    state["Level"] = level_;
    state["Source"] = sourceId_;
    state["Request"] = SaveRequest();
    state["Caller"] = description_.caller;

    SaveInstancesLocked(state);   // Instances, States (P, D, A, F), Copies, Errors
    state["NewResources"] = SavedJobState::ToArray(newResources_);
    state["NewPatients"] = SavedJobState::ToArray(newPatients_);
    state["Finished"] = finished_;
    state["SourceDeleted"] = sourceDeleted_;
    if (!finishError_.empty())
    {
      state["FinishError"] = finishError_;
    }
    return state;
  }


  std::shared_ptr<IJobOperation> DeidentificationOperation::Unserialize(const Json::Value& state)
  {
    using namespace SavedJobState;
    CheckVersion(state, STATE_VERSION, JOB_TYPE);

    std::shared_ptr<DeidentificationOperation> operation(new DeidentificationOperation);
    DeidentificationOperation& o = *operation;

    o.level_ = RestoreLevel(state);
    o.sourceId_ = GetOrthancId(state, "Source");
    o.RestoreInstances(state, "PDAF");
    o.pixelRegions_.resize(o.instances_.size());   // not saved: the audit of a restored job lists none

    o.newResources_ = GetOrthancIds(state, "NewResources");
    o.newPatients_ = GetOrthancIds(state, "NewPatients");
    o.finished_ = GetBool(state, "Finished");
    o.sourceDeleted_ = GetBool(state, "SourceDeleted");
    o.finishError_ = GetString(state, "FinishError");

    const Json::Value& request = GetObject(state, "Request");
    o.request_.profileName = GetString(request, "Profile");
    o.request_.keepSource = GetBool(request, "KeepSource", true);
    o.optionNames_ = GetArray(request, "Options");
    const std::string caller = GetString(state, "Caller", "{}");
    const ResourceLevel& l = ResourceLevel::FromName(o.level_);

    // A job that had succeeded only shows in the history: nothing to rebuild.
    bool allDone = true;
    for (const Instance& i : o.instances_)
    {
      allDone = allDone && (i.state == State::Done);
    }
    auto describeWithoutProviders = [&]()
    {
      o.providers_.reset();
      o.description_.kind = "job";
      o.description_.level = l.singular;
      o.description_.sourceId = o.sourceId_;
      o.description_.profileName = o.request_.profileName;
      o.description_.caller = caller;
    };
    if (o.finished_ && allDone && o.finishError_.empty())
    {
      describeWithoutProviders();
      return operation;
    }

    // The same request against the current configuration: the same profile,
    // options, project and recipients give the same keyed providers. The
    // request was checked against the caller policy when it was submitted.
    try
    {
      DeidentificationRequest rebuilt = DeidentificationRequest::FromConfiguration(request);
      if (rebuilt.GetOptionNames() != o.optionNames_)
      {
        throw HttpError::BadRequest("the options of the profile \"" + rebuilt.profileName +
                                    "\" have changed in the configuration");
      }
      rebuilt.keepSource = o.request_.keepSource;
      o.request_ = rebuilt;
      o.description_ = o.request_.Describe("job", l.singular, o.sourceId_);
      o.description_.caller = caller;
      o.providers_ = ProviderFactory::Create(o.description_);
      EncryptionRecipients::ForOperation(o.description_);
    }
    catch (...)
    {
      std::string message;
      DescribeCurrentException(message);
      o.restoreError_ = "This job was saved before a restart of Orthanc and cannot resume: " + message +
        ". It deletes nothing; submit the request again.";
      describeWithoutProviders();
      LogWarning("De-identification job on " + std::string(l.singular) + " " + o.sourceId_ + ": " + o.restoreError_);
    }
    return operation;
  }


  void DeidentificationOperation::RegisterUnserializer()
  {
    RegisterJobUnserializer(JOB_TYPE, [](const Json::Value& state) { return Unserialize(state); });
  }
}
