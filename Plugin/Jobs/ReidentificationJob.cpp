#include "Jobs/ReidentificationJob.h"

#include "Jobs/SavedJobState.h"
#include "Operations/InstanceReidentifier.h"
#include "Orthanc/OrthancApi.h"

#include "Engine/DicomFile.h"

namespace Deid
{
  using namespace OrthancApi;

  namespace
  {
    const int STATE_VERSION = 1;

    std::mutex configurationMutex_;
    bool enabled_ = false;
    std::shared_ptr<const RecipientPrivateKey> configuredKey_;

    const char* const NO_KEY_ERROR =
      "This re-identification job was saved before a restart of Orthanc: the private key is not stored; "
      "submit again (or configure Deidentification.PrivateKeyFile)";
    const char* const DISABLED_ERROR =
      "This re-identification job was saved before a restart of Orthanc, and re-identification is now "
      "disabled (Deidentification.EnableReidentification)";
  }


  void ReidentificationOperation::Configure(std::shared_ptr<const RecipientPrivateKey> configuredKey)
  {
    std::lock_guard<std::mutex> lock(configurationMutex_);
    enabled_ = true;
    configuredKey_ = configuredKey;
  }


  ReidentificationOperation::ReidentificationOperation(std::shared_ptr<const RecipientPrivateKey> key,
                                                       bool keyFromConfiguration,
                                                       const ResourceLevel& level,
                                                       const std::string& sourceId,
                                                       const Json::Value& body) :
    key_(key),
    keyFromConfiguration_(keyFromConfiguration),
    description_(InstanceReidentifier::Describe(level.singular, sourceId, body)),
    level_(&level),
    sourceId_(sourceId)
  {
    Json::Value instances;
    if (!RestGet(instances, level.GetUri(sourceId) + "/instances", true) || !instances.isArray())
    {
      throw HttpError::NotFound("Unknown " + std::string(level.singular) + ": " + sourceId);
    }
    for (Json::ArrayIndex i = 0; i < instances.size(); i++)
    {
      Instance instance;
      instance.sourceId = instances[i].isObject() ? instances[i]["ID"].asString() : instances[i].asString();
      instances_.push_back(instance);
    }

    // Check the key on the first instance, so that a wrong key is a 400
    // answer rather than a failed job.
    if (!instances_.empty())
    {
      const std::string dicom = InstanceReidentifier::ReadInstance(instances_[0].sourceId);
      try
      {
        std::unique_ptr<DcmFileFormat> file = ParseDicom(dicom.data(), dicom.size());
        DecryptModifiedAttributes(*file->getDataset(), *key_);
      }
      catch (const DeidError& e)
      {
        InstanceReidentifier::Report(description_, instances_.size(), instances_.size());
        InstanceReidentifier::RethrowAsHttp(e, "instance " + instances_[0].sourceId);
      }
    }
  }


  void ReidentificationOperation::SetJobId(const std::string& id)
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobId_ = id;
  }


  bool ReidentificationOperation::Step()
  {
    Instance* instance = nullptr;
    std::shared_ptr<const RecipientPrivateKey> key;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!key_)
      {
        return false;   // restored without a key: Finish() reports it
      }
      key = key_;
      while (next_ < instances_.size() && instances_[next_].state != State::Pending)
      {
        next_++;
      }
      if (next_ >= instances_.size())
      {
        return false;
      }
      instance = &instances_[next_];   // the vector is never resized after construction
    }

    const std::string label = "instance " + instance->sourceId;
    std::string error, newId, parent;
    try
    {
      const std::string dicom = InstanceReidentifier::ReadInstance(instance->sourceId);
      const std::string restored = InstanceReidentifier::Apply(dicom.data(), dicom.size(), *key, label);
      Json::Value stored;
      if (!RestPost(stored, "/instances", restored.data(), restored.size(), true) ||
          !stored.isObject() || !stored["ID"].isString())
      {
        throw HttpError(OrthancPluginErrorCode_InternalError,
                        "Orthanc refused to store the re-identified copy of " + label);
      }
      newId = stored["ID"].asString();
      if (stored[level_->parentKey].isString())
      {
        parent = stored[level_->parentKey].asString();
      }
    }
    catch (...)
    {
      DescribeCurrentException(error);
      if (error.empty())
      {
        error = label + ": unknown error";
      }
    }

    std::lock_guard<std::mutex> lock(mutex_);
    if (error.empty())
    {
      instance->state = State::Done;
      instance->newId = newId;
      if (!parent.empty())
      {
        newResources_.insert(parent);
      }
    }
    else
    {
      instance->state = State::Failed;
      instance->error = error;
      LogWarning("Re-identification of " + label + " failed: " + error);
    }
    next_++;
    return true;
  }


  void ReidentificationOperation::Reset()
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Instance& i : instances_)
    {
      if (i.state == State::Failed)
      {
        i.state = State::Pending;
        i.error.clear();
      }
    }
    next_ = 0;
    finished_ = false;
  }


  void ReidentificationOperation::Finish()
  {
    std::vector<std::string> newInstances;
    std::vector<std::string> newResources;
    size_t failed = 0;
    std::string jobId;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (finished_)
      {
        return;
      }
      finished_ = true;
      for (const Instance& i : instances_)
      {
        if (i.state == State::Done)
        {
          newInstances.push_back(i.newId);
        }
        else
        {
          failed++;
        }
      }
      newResources.assign(newResources_.begin(), newResources_.end());
      jobId = jobId_;
    }
    InstanceReidentifier::Report(description_, instances_.size(), failed, newInstances, newResources, jobId);
  }


  bool ReidentificationOperation::HasFailures() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Instance& i : instances_)
    {
      if (i.state != State::Done)
      {
        return true;
      }
    }
    return false;
  }


  float ReidentificationOperation::GetProgress() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (instances_.empty())
    {
      return 1.0f;
    }
    size_t processed = 0;
    for (const Instance& i : instances_)
    {
      if (i.state != State::Pending)
      {
        processed++;
      }
    }
    return static_cast<float>(processed) / static_cast<float>(instances_.size());
  }


  // Orthanc IDs and counts only: never DICOM values, never the key.
  Json::Value ReidentificationOperation::GetContent() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Json::Value content(Json::objectValue);
    content["Description"] = "Re-identification (PS3.15 E.1.2)";
    content["Level"] = level_->singular;
    content["Source"] = sourceId_;
    content["InstancesCount"] = static_cast<Json::UInt64>(instances_.size());

    size_t done = 0;
    Json::Value failed(Json::arrayValue);
    Json::Value instances(Json::arrayValue);
    for (const Instance& i : instances_)
    {
      if (i.state == State::Done)
      {
        done++;
        instances.append(i.newId);
      }
      else if (i.state == State::Failed)
      {
        Json::Value f(Json::objectValue);
        f["Instance"] = i.sourceId;
        f["Error"] = i.error;
        failed.append(f);
      }
    }
    content["ReidentifiedInstancesCount"] = static_cast<Json::UInt64>(done);
    content["FailedInstancesCount"] = static_cast<Json::UInt64>(failed.size());
    content["FailedInstances"] = failed;
    content["Instances"] = instances;

    Json::Value resources(Json::arrayValue);
    for (const std::string& id : newResources_)
    {
      Json::Value r(Json::objectValue);
      r["ID"] = id;
      r["Path"] = level_->GetUri(id);
      r["Type"] = level_->singular;
      resources.append(r);
    }
    content["Resources"] = resources;
    if (!keyError_.empty() && done < instances_.size())
    {
      content["Error"] = keyError_;
    }
    return content;
  }


  Json::Value ReidentificationOperation::Serialize() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Json::Value state(Json::objectValue);
    state["Version"] = STATE_VERSION;
    state["Level"] = level_->singular;
    state["Source"] = sourceId_;
    state["Caller"] = description_.caller;
    state["KeyFromConfiguration"] = keyFromConfiguration_;

    // One string per list (SavedJobState.h): the sources, one state letter
    // per instance (P pending, D done, F failed), the copies ("" unless
    // done), and the errors by source.
    std::vector<std::string> sources, copies;
    std::string states;
    Json::Value errors(Json::objectValue);
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
          states.push_back('D');
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
    state["Finished"] = finished_;
    return state;
  }


  std::shared_ptr<IJobOperation> ReidentificationOperation::Unserialize(const Json::Value& state)
  {
    using namespace SavedJobState;
    CheckVersion(state, STATE_VERSION, JOB_TYPE);

    std::shared_ptr<ReidentificationOperation> operation(new ReidentificationOperation);
    ReidentificationOperation& o = *operation;

    const std::string level = GetString(state, "Level");
    if (level != "Patient" && level != "Study" && level != "Series")
    {
      throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the field \"Level\" of the saved state is invalid");
    }
    o.level_ = &ResourceLevel::FromName(level);
    o.sourceId_ = GetOrthancId(state, "Source");
    o.keyFromConfiguration_ = GetBool(state, "KeyFromConfiguration");

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
          if (copies[k].empty())
          {
            throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the field \"Copies\" of the saved state is invalid");
          }
          instance.state = State::Done;
          instance.newId = copies[k];
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
    o.finished_ = GetBool(state, "Finished");

    o.description_.kind = "reidentify";
    o.description_.level = o.level_->singular;
    o.description_.sourceId = o.sourceId_;
    o.description_.request = Json::Value(Json::objectValue);
    o.description_.caller = GetString(state, "Caller", "{}");

    // The caller's key lived in memory only: a restored job resumes with the
    // configured PrivateKeyFile, or fails with a clear message.
    {
      std::lock_guard<std::mutex> lock(configurationMutex_);
      if (!enabled_)
      {
        o.keyError_ = DISABLED_ERROR;
      }
      else if (configuredKey_)
      {
        o.key_ = configuredKey_;
      }
      else
      {
        o.keyError_ = NO_KEY_ERROR;
      }
    }

    bool pending = false;
    for (const Instance& i : o.instances_)
    {
      pending = pending || (i.state == State::Pending);
    }
    if (!o.keyError_.empty() && pending && !o.finished_)
    {
      LogWarning("Re-identification job on " + level + " " + o.sourceId_ + ": " + o.keyError_);
    }
    return operation;
  }


  void ReidentificationOperation::RegisterUnserializer()
  {
    RegisterJobUnserializer(JOB_TYPE, [](const Json::Value& state) { return Unserialize(state); });
  }
}
