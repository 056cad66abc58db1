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

    // One string per list (SavedJobState.h): the sources, one state letter
    // per instance (P pending, D done, A done and already stored, F failed),
    // the copies ("" unless done), and the errors by source.
    std::vector<std::string> sources, copies;
    std::string states;
    Json::Value errors(Json::objectValue);
    sources.reserve(instances_.size());
    copies.reserve(instances_.size());
    for (const Instance& i : instances_)
    {
      sources.push_back(i.sourceId);
      copies.push_back(i.state == State::Done ? i.newId : std::string());
      switch (i.state)
      {
        case State::Pending:
          states.push_back('P');
          break;
        case State::Done:
          states.push_back(i.alreadyStored ? 'A' : 'D');
          break;
        default:
          states.push_back('F');
          errors[i.sourceId] = i.error;
          break;
      }
    }
    state["Instances"] = SavedJobState::JoinIds(sources);
    state["States"] = states;
    state["Copies"] = SavedJobState::JoinIds(copies);
    state["Errors"] = errors;
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

    o.level_ = GetString(state, "Level");
    if (o.level_ != "Patient" && o.level_ != "Study" && o.level_ != "Series")
    {
      throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the field \"Level\" of the saved state is invalid");
    }
    o.sourceId_ = GetOrthancId(state, "Source");

    const std::vector<std::string> sources = GetIdList(state, "Instances", false);
    const std::string states = GetString(state, "States");
    const std::vector<std::string> copies = GetIdList(state, "Copies", true, sources.size());
    const Json::Value& errors = state.isMember("Errors") ? GetObject(state, "Errors") : Json::Value::nullSingleton();
    if (states.size() != sources.size())
    {
      throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the field \"States\" of the saved state is invalid");
    }
    for (size_t k = 0; k < sources.size(); k++)
    {
      Instance instance;
      instance.sourceId = sources[k];
      switch (states[k])
      {
        case 'P':
          instance.state = State::Pending;
          break;
        case 'D':
        case 'A':
          if (copies[k].empty())
          {
            throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the field \"Copies\" of the saved state is invalid");
          }
          instance.state = State::Done;
          instance.newId = copies[k];
          instance.alreadyStored = (states[k] == 'A');
          break;
        case 'F':
          instance.state = State::Failed;
          instance.error = GetString(errors, sources[k].c_str(), "Failed before the restart of Orthanc");
          break;
        default:
          throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the field \"States\" of the saved state is invalid");
      }
      o.instances_.push_back(instance);
    }

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
