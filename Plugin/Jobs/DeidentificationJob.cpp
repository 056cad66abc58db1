#include "Jobs/DeidentificationJob.h"

#include "Operations/EncryptionRecipients.h"
#include "Orthanc/OrthancJob.h"

#include "Operations/InstanceDeidentifier.h"
#include "Orthanc/OrthancApi.h"
#include "Orthanc/ResourceLevel.h"

#include "Engine/DeidError.h"

#include <algorithm>

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
    AddInstances(ListInstances(l, sourceId));
    pixelRegions_.resize(instances_.size());

    description_ = request_.Describe("job", l.singular, sourceId);
    optionNames_ = request_.GetOptionNames();
    providers_ = ProviderFactory::Create(description_);

    // An unknown recipient or cipher is the caller's error: answer 400 now
    // rather than accept a job whose every instance would fail.
    EncryptionRecipients::ForOperation(description_);
  }


  bool DeidentificationOperation::CanRun() const
  {
    return restoreError_.empty() && providers_;   // else a restored job that cannot run: Finish() reports it
  }


  void DeidentificationOperation::OnReset()
  {
    finishError_.clear();
  }


  void DeidentificationOperation::ProcessInstance(size_t index)
  {
    Instance& instance = instances_[index];
    const std::string label = "instance " + instance.sourceId;
    std::string error;
    std::string newId;
    bool alreadyStored = false;
    Json::Value stored;
    std::vector<PixelRectangle> pixelRegions;

    try
    {
      MemoryBuffer dicom;   // Orthanc's buffer, not copied; freed before the store
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
        dicom.GetData(), dicom.GetSize(), description_, providers_->GetContext(),
        DeidentificationSettings(), label);
      dicom.Clear();
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
      pixelRegions_[index] = pixelRegions;
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
    if (!MarkFinished())
    {
      return;
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
      for (size_t k = 0; k < instances_.size(); k++)
      {
        const Instance& i = instances_[k];
        if (i.state == State::Failed)
        {
          report.failedInstancesCount++;
        }
        else if (i.state == State::Done)
        {
          report.newInstances.push_back(i.newId);
          if (!pixelRegions_[k].empty())
          {
            report.pixelRegions[i.sourceId] = pixelRegions_[k];
          }
        }
      }
      report.newResources.assign(newResources_.begin(), newResources_.end());
      report.stored = true;
      report.sourceDeleted = sourceDeleted_;
    }

    DeidentificationEvents::ReportFinished(report);
  }


  bool DeidentificationOperation::HasFailures() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    return CountLocked(State::Failed) > 0 || !finishError_.empty() || !restoreError_.empty();
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

    const size_t done = CountLocked(State::Done);
    const size_t alreadyStored = static_cast<size_t>(std::count_if(
      instances_.begin(), instances_.end(),
      [](const Instance& i) { return i.state == State::Done && i.alreadyStored; }));
    const Json::Value failed = GetFailedInstancesLocked();
    content["DeidentifiedInstancesCount"] = static_cast<Json::UInt64>(done);
    // Copies that Orthanc already held (same identifiers): the stored file is
    // the earlier one (Orthanc's "OverwriteInstances" decides).
    content["AlreadyStoredInstancesCount"] = static_cast<Json::UInt64>(alreadyStored);
    content["FailedInstancesCount"] = static_cast<Json::UInt64>(failed.size());
    content["FailedInstances"] = failed;

    content["Resources"] = DescribeResources(newResources_, l);
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
    return InstanceBatchJob::Submit(operation, JOB_TYPE, priority, waitForCompletion);
  }
}
