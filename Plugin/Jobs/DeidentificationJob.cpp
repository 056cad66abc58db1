#include "Jobs/DeidentificationJob.h"

#include "Operations/EncryptionRecipients.h"
#include "Orthanc/OrthancJob.h"

#include "Operations/InstanceDeidentifier.h"
#include "Orthanc/OrthancApi.h"
#include "Orthanc/ResourceLevel.h"

#include "Engine/DeidError.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace Deid
{
  using namespace OrthancApi;

  DeidentificationOperation::DeidentificationOperation(const DeidentificationRequest& request,
                                                       const std::string& level,
                                                       const std::string& sourceId) :
    request_(request),
    level_(level),
    sourceId_(sourceId)
  {
    const ResourceLevel& l = ResourceLevel::FromName(level);

    Json::Value resource;
    if (!RestGet(resource, l.GetUri(sourceId), true /* tolerate */))
    {
      throw HttpError::NotFound("Unknown " + std::string(l.singular) + ": " + sourceId);
    }

    Json::Value instances;
    RestGet(instances, l.GetUri(sourceId) + "/instances");
    if (!instances.isArray())
    {
      throw HttpError(OrthancPluginErrorCode_InternalError, "Cannot list the instances of " + sourceId);
    }

    for (Json::ArrayIndex i = 0; i < instances.size(); i++)
    {
      Instance instance;
      if (instances[i].isString())
      {
        instance.sourceId = instances[i].asString();
      }
      else if (instances[i].isObject() && instances[i]["ID"].isString())
      {
        instance.sourceId = instances[i]["ID"].asString();
      }
      else
      {
        throw HttpError(OrthancPluginErrorCode_InternalError, "Cannot list the instances of " + sourceId);
      }
      instances_.push_back(instance);
    }

    description_ = request_.Describe("job", l.singular, sourceId);
    optionNames_ = request_.GetOptionNames();
    providers_ = ProviderFactory::Create(description_);

    // An unknown recipient or cipher is the caller's error: answer 400 now
    // rather than accept a job whose every instance would fail.
    EncryptionRecipients::ForOperation(description_);
  }


  void DeidentificationOperation::SetJobId(const std::string& jobId)
  {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobId_ = jobId;
      waitForJobId_ = false;
    }
    jobIdSet_.notify_all();
  }


  bool DeidentificationOperation::Step()
  {
    // Orthanc calls Step() from one thread; a step de-identifies a batch of
    // instances in parallel (Deidentification.ThreadsPerJob), with the same
    // thread-safe providers.
    std::vector<Instance*> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);

      // The job may start before OrthancPluginSubmitJob() has returned its ID,
      // which the copies record (JobMetadata).
      jobIdSet_.wait_for(lock, std::chrono::seconds(10), [this] { return !waitForJobId_; });

      if (!restoreError_.empty() || !providers_)
      {
        return false;   // a restored job that cannot run: Finish() reports it
      }

      const size_t threads = std::max<size_t>(1, Configuration::Get().GetThreadsPerJob());
      while (next_ < instances_.size() && batch.size() < threads)
      {
        if (instances_[next_].state == State::Pending)
        {
          batch.push_back(&instances_[next_]);   // the vector is never resized after construction
        }
        next_++;
      }
    }

    if (batch.empty())
    {
      return false;
    }
    else if (batch.size() == 1)
    {
      Process(*batch[0]);
    }
    else
    {
      std::vector<std::thread> workers;
      for (size_t i = 1; i < batch.size(); i++)
      {
        workers.emplace_back([this, &batch, i] { Process(*batch[i]); });
      }
      Process(*batch[0]);
      for (std::thread& worker : workers)
      {
        worker.join();
      }
    }
    return true;
  }


  void DeidentificationOperation::Process(Instance& instance)
  {
    const std::string label = "instance " + instance.sourceId;
    std::string error;
    std::string newId;
    bool alreadyStored = false;
    Json::Value stored;
    std::vector<PixelRectangle> pixelRegions;

    try
    {
      std::string dicom;
      try
      {
        RestGet(dicom, "/instances/" + instance.sourceId + "/file");
      }
      catch (const HttpError& e)
      {
        throw HttpError(e.GetCode(), "Cannot read " + label + " from the Orthanc storage: " +
                        DescribeError(e.GetCode()));
      }

      DeidentifiedInstance output = InstanceDeidentifier::Apply(
        dicom.data(), dicom.size(), description_, providers_->GetContext(),
        DeidentificationSettings(), label);
      dicom.clear();
      pixelRegions = output.result.pixels.regions;

      if (!RestPost(stored, "/instances", output.dicom.data(), output.dicom.size(), true) ||
          !stored.isObject() || !stored["ID"].isString())
      {
        throw HttpError(OrthancPluginErrorCode_InternalError,
                        "Orthanc refused to store the de-identified copy of " + label);
      }
      newId = stored["ID"].asString();
      alreadyStored = (stored["Status"].isString() && stored["Status"].asString() == "AlreadyStored");

      if (newId == instance.sourceId)
      {
        // Would only happen if nothing identifying was changed at all.
        throw HttpError(OrthancPluginErrorCode_InternalError,
                        "The de-identified copy of " + label + " has the same Orthanc ID as its source");
      }

      const Configuration& configuration = Configuration::Get();
      if (!RestPut("/instances/" + newId + "/metadata/" + configuration.GetSourceMetadata(),
                   instance.sourceId, true))
      {
        throw HttpError(OrthancPluginErrorCode_InternalError,
                        "Cannot link the de-identified copy " + newId + " to " + label);
      }

      std::string jobId;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        jobId = jobId_;
      }
      if (!configuration.GetJobMetadata().empty() && !jobId.empty())
      {
        RestPut("/instances/" + newId + "/metadata/" + configuration.GetJobMetadata(), jobId, true);
      }
    }
    catch (...)
    {
      DescribeCurrentException(error);
      if (error.find(instance.sourceId) == std::string::npos)
      {
        error = label + ": " + error;
      }
    }

    std::lock_guard<std::mutex> lock(mutex_);
    if (error.empty())
    {
      instance.state = State::Done;
      instance.newId = newId;
      instance.alreadyStored = alreadyStored;
      instance.pixelRegions = pixelRegions;
      instance.error.clear();

      const ResourceLevel& l = ResourceLevel::FromName(level_);
      const Json::Value& parent = stored[l.parentKey];
      if (parent.isString())
      {
        newResources_.insert(parent.asString());
      }
      if (stored["ParentPatient"].isString())
      {
        newPatients_.insert(stored["ParentPatient"].asString());
      }
    }
    else
    {
      instance.state = State::Failed;
      instance.error = error;
      LogWarning("De-identification of " + label + " failed: " + error);
    }
  }


  void DeidentificationOperation::Finish()
  {
    OperationReport report;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (finished_)
      {
        return;
      }
      finished_ = true;
    }

    bool failures = HasFailures();
    bool allStored = true;   // never delete an original whose copy is not stored
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const Instance& i : instances_)
      {
        allStored = allStored && (i.state == State::Done);
      }
    }
    if (!request_.keepSource && !failures && allStored && !instances_.empty())
    {
      // Only now that every copy is stored (PS3.15 leaves this to the
      // application; we never lose data on a partial failure).
      const ResourceLevel& l = ResourceLevel::FromName(level_);

      // The copies may share the source's Orthanc resource (e.g. a patient
      // without Patient ID keeps an empty one): then delete instance by
      // instance, never the resource that holds the copies.
      bool shared;
      std::vector<std::string> sources;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        shared = (newResources_.count(sourceId_) > 0 || newPatients_.count(sourceId_) > 0);
        for (const Instance& i : instances_)
        {
          sources.push_back(i.sourceId);
        }
      }

      // A resource that is already gone was deleted by this job before a
      // restart of Orthanc (the deletion step had not been saved).
      auto deleteIfPresent = [](const std::string& uri)
      {
        Json::Value ignored;
        return RestDelete(uri, true) || !RestGet(ignored, uri, true);
      };

      bool deleted = true;
      if (shared)
      {
        for (const std::string& id : sources)
        {
          deleted = deleteIfPresent("/instances/" + id) && deleted;
        }
      }
      else
      {
        deleted = deleteIfPresent(l.GetUri(sourceId_));
      }

      if (deleted)
      {
        std::lock_guard<std::mutex> lock(mutex_);
        sourceDeleted_ = true;
      }
      else
      {
        std::lock_guard<std::mutex> lock(mutex_);
        finishError_ = "Cannot delete the source " + std::string(l.singular) + " " + sourceId_;
        LogWarning("De-identification: " + finishError_);
      }
    }

    {
      std::lock_guard<std::mutex> lock(mutex_);
      report.operation = description_;
      report.jobId = jobId_;
      report.instancesCount = instances_.size();
      for (const Instance& i : instances_)
      {
        if (i.state == State::Failed)
        {
          report.failedInstancesCount++;
        }
        else if (i.state == State::Done)
        {
          report.newInstances.push_back(i.newId);
          if (!i.pixelRegions.empty())
          {
            report.pixelRegions[i.sourceId] = i.pixelRegions;
          }
        }
      }
      report.newResources.assign(newResources_.begin(), newResources_.end());
      report.stored = true;
      report.sourceDeleted = sourceDeleted_;
    }

    DeidentificationEvents::ReportFinished(report);
  }


  void DeidentificationOperation::Reset()
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
    finishError_.clear();
  }


  float DeidentificationOperation::GetProgress() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (instances_.empty())
    {
      return 1.0f;
    }
    size_t done = 0;
    for (const Instance& i : instances_)
    {
      if (i.state != State::Pending)
      {
        done++;
      }
    }
    return static_cast<float>(done) / static_cast<float>(instances_.size());
  }


  bool DeidentificationOperation::HasFailures() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Instance& i : instances_)
    {
      if (i.state == State::Failed)
      {
        return true;
      }
    }
    return !finishError_.empty() || !restoreError_.empty();
  }


  Json::Value DeidentificationOperation::GetContent() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const ResourceLevel& l = ResourceLevel::FromName(level_);

    Json::Value content(Json::objectValue);
    content["Description"] = "De-identification (PS3.15 Annex E)";
    content["Level"] = l.singular;
    content["Source"] = sourceId_;
    content["Profile"] = request_.profileName;
    content["Options"] = optionNames_;
    content["KeepSource"] = request_.keepSource;
    content["InstancesCount"] = static_cast<Json::UInt64>(instances_.size());

    size_t done = 0;
    size_t alreadyStored = 0;
    Json::Value failed(Json::arrayValue);
    for (const Instance& i : instances_)
    {
      if (i.state == State::Done)
      {
        done++;
        if (i.alreadyStored)
        {
          alreadyStored++;
        }
      }
      else if (i.state == State::Failed)
      {
        Json::Value f(Json::objectValue);
        f["Instance"] = i.sourceId;
        f["Error"] = i.error;
        failed.append(f);
      }
    }
    content["DeidentifiedInstancesCount"] = static_cast<Json::UInt64>(done);
    // Copies that Orthanc already held (same identifiers): the stored file is
    // the earlier one (Orthanc's "OverwriteInstances" decides).
    content["AlreadyStoredInstancesCount"] = static_cast<Json::UInt64>(alreadyStored);
    content["FailedInstancesCount"] = static_cast<Json::UInt64>(failed.size());
    content["FailedInstances"] = failed;

    Json::Value resources(Json::arrayValue);
    for (const std::string& id : newResources_)
    {
      Json::Value r(Json::objectValue);
      r["ID"] = id;
      r["Path"] = l.GetUri(id);
      r["Type"] = l.singular;
      resources.append(r);
    }
    content["Resources"] = resources;
    if (newPatients_.size() == 1)
    {
      content["PatientID"] = *newPatients_.begin();
    }
    content["SourceDeleted"] = sourceDeleted_;
    if (!restoreError_.empty() && done < instances_.size())
    {
      content["Error"] = restoreError_;
    }
    else if (!finishError_.empty())
    {
      content["Error"] = finishError_;
    }
    return content;
  }


  Json::Value DeidentificationOperation::GetSynchronousAnswer() const
  {
    Json::Value content = GetContent();
    const ResourceLevel& l = ResourceLevel::FromName(level_);

    // As Orthanc's /anonymize: the new resource at the same level.
    Json::Value answer(Json::objectValue);
    if (content["Resources"].size() >= 1)
    {
      answer["ID"] = content["Resources"][0]["ID"];
      answer["Path"] = content["Resources"][0]["Path"];
    }
    else
    {
      answer["ID"] = Json::nullValue;
      answer["Path"] = Json::nullValue;
    }
    answer["Type"] = l.singular;
    answer["PatientID"] = content.isMember("PatientID") ? content["PatientID"] : Json::Value(Json::nullValue);
    answer["InstancesCount"] = content["InstancesCount"];
    answer["FailedInstancesCount"] = content["FailedInstancesCount"];
    answer["FailedInstances"] = content["FailedInstances"];
    answer["SourceDeleted"] = content["SourceDeleted"];
    if (content["Resources"].size() > 1)
    {
      answer["Resources"] = content["Resources"];
    }
    return answer;
  }


  std::string DeidentificationOperation::Submit(std::shared_ptr<DeidentificationOperation> operation,
                                                int priority,
                                                bool waitForCompletion)
  {
    {
      std::lock_guard<std::mutex> lock(operation->mutex_);
      operation->waitForJobId_ = true;
    }
    return SubmitOrthancJob(operation, JOB_TYPE, priority, waitForCompletion);
  }
}
