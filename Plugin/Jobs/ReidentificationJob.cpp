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
    AddInstances(ListInstances(level, sourceId));

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


  void ReidentificationOperation::ProcessInstance(size_t index)
  {
    Instance* instance = &instances_[index];
    std::shared_ptr<const RecipientPrivateKey> key;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      key = key_;
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
  }


  void ReidentificationOperation::Finish()
  {
    std::vector<std::string> newInstances;
    std::vector<std::string> newResources;
    size_t failed = 0;
    std::string jobId;
    if (!MarkFinished())
    {
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
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
    return CountLocked(State::Done) != instances_.size();   // failed, or pending (no key)
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

    const size_t done = CountLocked(State::Done);
    const Json::Value failed = GetFailedInstancesLocked();
    Json::Value instances(Json::arrayValue);
    for (const Instance& i : instances_)
    {
      if (i.state == State::Done)
      {
        instances.append(i.newId);
      }
    }
    content["ReidentifiedInstancesCount"] = static_cast<Json::UInt64>(done);
    content["FailedInstancesCount"] = static_cast<Json::UInt64>(failed.size());
    content["FailedInstances"] = failed;
    content["Instances"] = instances;

    content["Resources"] = DescribeResources(newResources_, *level_);
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

    SaveInstancesLocked(state);   // Instances, States (P, D, F), Copies, Errors
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

    const std::string level = RestoreLevel(state);
    o.level_ = &ResourceLevel::FromName(level);
    o.sourceId_ = GetOrthancId(state, "Source");
    o.keyFromConfiguration_ = GetBool(state, "KeyFromConfiguration");

    o.RestoreInstances(state, "PDF");
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
