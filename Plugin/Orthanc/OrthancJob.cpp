#include "Orthanc/OrthancJob.h"

#include "Orthanc/OrthancApi.h"

#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>

namespace Deid
{
  using namespace OrthancApi;

  namespace
  {
    const char* const FORMAT_KEY = "DeidentificationPlugin";
    const int FORMAT_VERSION = 1;

    // Signaled when the job stops running for good (success, failure, cancel).
    class JobCompletion
    {
    private:
      std::mutex mutex_;
      std::condition_variable done_;
      bool isDone_ = false;

    public:
      void Signal()
      {
        {
          std::lock_guard<std::mutex> lock(mutex_);
          isDone_ = true;
        }
        done_.notify_all();
      }

      void Wait()
      {
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return isDone_; });
      }
    };

    // The ID Orthanc gave the job: known only once OrthancPluginSubmitJob()
    // has returned, while the job may already be running (and be saved).
    class JobIdentity
    {
    private:
      mutable std::mutex mutex_;
      std::string id_;

    public:
      void Set(const std::string& id)
      {
        std::lock_guard<std::mutex> lock(mutex_);
        id_ = id;
      }

      std::string Get() const
      {
        std::lock_guard<std::mutex> lock(mutex_);
        return id_;
      }
    };

    struct JobHolder
    {
      std::shared_ptr<IJobOperation> operation;
      std::string type;
      std::shared_ptr<JobCompletion> completion = std::make_shared<JobCompletion>();
      std::shared_ptr<JobIdentity> identity = std::make_shared<JobIdentity>();
      bool findIdentity = false;   // restored from a state saved before its ID was known
    };

    // The strings returned to Orthanc must stay valid until the next call;
    // Orthanc copies them at once, on the calling thread.
    thread_local std::string content_;
    thread_local std::string serialized_;

    std::mutex unserializersMutex_;
    std::map<std::string, JobUnserializer> unserializers_;

    void JobFinalize(void* job)
    {
      JobHolder* holder = static_cast<JobHolder*>(job);
      holder->completion->Signal();
      delete holder;
    }

    float JobGetProgress(void* job)
    {
      try
      {
        return static_cast<JobHolder*>(job)->operation->GetProgress();
      }
      catch (...)
      {
        return 0.0f;
      }
    }

    const char* JobGetContent(void* job)
    {
      JobHolder* holder = static_cast<JobHolder*>(job);
      try
      {
        content_ = WriteJson(holder->operation->GetContent(), false);
      }
      catch (...)
      {
        content_ = "{}";
      }
      return content_.c_str();
    }

    const char* JobGetSerialized(void* job)
    {
      JobHolder* holder = static_cast<JobHolder*>(job);
      try
      {
        Json::Value operation = holder->operation->Serialize();
        if (!operation.isObject())
        {
          return nullptr;   // this job type is not saved
        }
        Json::Value document(Json::objectValue);
        document[FORMAT_KEY] = FORMAT_VERSION;
        document["JobID"] = holder->identity->Get();
        document["Operation"] = operation;
        serialized_ = WriteJson(document, false);
        return serialized_.c_str();
      }
      catch (...)
      {
        std::string message;
        DescribeCurrentException(message);
        LogError(holder->type + " job: cannot save its state: " + message);
        return nullptr;
      }
    }

    // A job restored from a state saved before OrthancPluginSubmitJob()
    // returned does not know its ID. Before its first step after the restart,
    // Orthanc's public content of the job is still the one computed at the
    // restore: the one running job of this type with that content is this
    // job (none or several: the ID stays unknown).
    void FindIdentity(JobHolder& holder)
    {
      holder.findIdentity = false;
      Json::Value jobs;
      if (!RestGet(jobs, "/jobs?expand", true) || !jobs.isArray())
      {
        return;
      }
      // Through JSON text, as Orthanc has it (jsoncpp compares number types).
      const std::string text = WriteJson(holder.operation->GetContent(), false);
      const Json::Value content = ParseJson(text.data(), text.size());
      std::string found;
      for (Json::ArrayIndex i = 0; i < jobs.size(); i++)
      {
        const Json::Value& j = jobs[i];
        if (j.isObject() && j["ID"].isString() && j["Type"] == holder.type && j["State"] == "Running" &&
            j["Content"] == content)
        {
          if (!found.empty())
          {
            return;   // ambiguous
          }
          found = j["ID"].asString();
        }
      }
      if (!found.empty())
      {
        holder.identity->Set(found);
        holder.operation->SetJobId(found);
      }
    }

    OrthancPluginJobStepStatus JobStep(void* job)
    {
      JobHolder* holder = static_cast<JobHolder*>(job);
      try
      {
        if (holder->findIdentity)
        {
          FindIdentity(*holder);
        }

        if (holder->operation->Step())
        {
          return OrthancPluginJobStepStatus_Continue;
        }
        holder->operation->Finish();
        holder->completion->Signal();
        // Failed instances are listed in the content; the job's state shows them.
        return holder->operation->HasFailures() ?
          OrthancPluginJobStepStatus_Failure : OrthancPluginJobStepStatus_Success;
      }
      catch (...)
      {
        std::string message;
        DescribeCurrentException(message);
        LogError(holder->type + " job: " + message);
        holder->completion->Signal();
        return OrthancPluginJobStepStatus_Failure;
      }
    }

    OrthancPluginErrorCode JobStop(void* job, OrthancPluginJobStopReason reason)
    {
      // Steps are short: nothing to interrupt. A canceled job runs no more.
      if (reason == OrthancPluginJobStopReason_Canceled)
      {
        static_cast<JobHolder*>(job)->completion->Signal();
      }
      return OrthancPluginErrorCode_Success;
    }

    OrthancPluginErrorCode JobReset(void* job)
    {
      try
      {
        static_cast<JobHolder*>(job)->operation->Reset();
        return OrthancPluginErrorCode_Success;
      }
      catch (...)
      {
        std::string message;
        return DescribeCurrentException(message);
      }
    }

    // Orthanc's job around the operation, or null. Takes the holder.
    OrthancPluginJob* CreateJob(std::unique_ptr<JobHolder> holder)
    {
      OrthancPluginJob* job = OrthancPluginCreateJob(
        GetContext(), holder.get(), JobFinalize, holder->type.c_str(), JobGetProgress, JobGetContent,
        JobGetSerialized, JobStep, JobStop, JobReset);
      if (job != nullptr)
      {
        holder.release();   // owned by the job now (JobFinalize)
      }
      return job;
    }

    // Orthanc job IDs are UUIDs: anything else is not echoed into the log.
    // Empty if saved before OrthancPluginSubmitJob() returned.
    bool IsJobId(const Json::Value& value)
    {
      if (!value.isString() || value.asString().size() > 64)
      {
        return false;
      }
      for (char c : value.asString())
      {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-'))
        {
          return false;
        }
      }
      return true;
    }

    // OrthancPluginJobsUnserializer: called by Orthanc at start for each
    // saved job. Never throws; null = "not ours" or refused (Orthanc then
    // logs that it skips the job).
    OrthancPluginJob* UnserializeJob(const char* jobType, const char* serialized)
    {
      if (jobType == nullptr || serialized == nullptr)
      {
        return nullptr;
      }

      const std::string type(jobType);
      JobUnserializer unserializer;
      {
        std::lock_guard<std::mutex> lock(unserializersMutex_);
        auto found = unserializers_.find(type);
        if (found == unserializers_.end())
        {
          return nullptr;   // another plugin's job
        }
        unserializer = found->second;
      }

      std::string jobId;
      try
      {
        const Json::Value document = ParseJson(serialized, strlen(serialized));
        if (!document.isObject() || !document[FORMAT_KEY].isInt())
        {
          throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the saved state is not in a known format");
        }
        if (document[FORMAT_KEY].asInt() != FORMAT_VERSION)
        {
          throw HttpError(OrthancPluginErrorCode_BadFileFormat,
                          "the saved state has format version " + std::to_string(document[FORMAT_KEY].asInt()) +
                          ", this plugin reads version " + std::to_string(FORMAT_VERSION));
        }
        if (!IsJobId(document["JobID"]) || !document["Operation"].isObject())
        {
          throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the saved state is incomplete");
        }
        jobId = document["JobID"].asString();

        std::shared_ptr<IJobOperation> operation = unserializer(document["Operation"]);
        if (!operation)
        {
          throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the saved state was refused");
        }

        std::unique_ptr<JobHolder> holder(new JobHolder);
        holder->operation = operation;
        holder->type = type;
        holder->identity->Set(jobId);
        holder->findIdentity = jobId.empty();
        operation->SetJobId(jobId);

        OrthancPluginJob* job = CreateJob(std::move(holder));
        if (job == nullptr)
        {
          throw HttpError(OrthancPluginErrorCode_InternalError, "Orthanc cannot create the job");
        }
        LogWarning("De-identification plugin: " + type + " job " + (jobId.empty() ? "(saved before its ID was known)" : jobId) +
                   " restored from the last execution");
        return job;
      }
      catch (...)
      {
        std::string message;
        DescribeCurrentException(message);
        LogWarning("De-identification plugin: cannot restore the saved " + type + " job" +
                   (jobId.empty() ? std::string() : " " + jobId) + ": " + message + "; the job is dropped");
        return nullptr;
      }
    }
  }


  void RegisterJobUnserializer(const std::string& jobType, JobUnserializer unserializer)
  {
    std::lock_guard<std::mutex> lock(unserializersMutex_);
    unserializers_[jobType] = unserializer;
  }


  void RegisterOrthancJobsUnserializer()
  {
    OrthancPluginRegisterJobsUnserializer(GetContext(), UnserializeJob);
  }


  std::string SubmitOrthancJob(std::shared_ptr<IJobOperation> operation,
                               const std::string& jobType,
                               int priority,
                               bool waitForCompletion)
  {
    std::unique_ptr<JobHolder> holder(new JobHolder);
    holder->operation = operation;
    holder->type = jobType;
    std::shared_ptr<JobCompletion> completion = holder->completion;
    std::shared_ptr<JobIdentity> identity = holder->identity;

    OrthancPluginJob* job = CreateJob(std::move(holder));
    if (job == nullptr)
    {
      operation->SetJobId("");
      throw HttpError(OrthancPluginErrorCode_InternalError, "Cannot create the " + jobType + " job");
    }

    OrthancString id(OrthancPluginSubmitJob(GetContext(), job, priority));
    if (id.IsNull())
    {
      // Orthanc has freed the job (and called JobFinalize) on failure.
      operation->SetJobId("");
      throw HttpError(OrthancPluginErrorCode_InternalError, "Cannot submit the " + jobType + " job");
    }
    identity->Set(id.ToString());
    operation->SetJobId(id.ToString());   // the job may already run: SetJobId must be thread-safe

    if (waitForCompletion)
    {
      completion->Wait();
    }
    return id.ToString();
  }
}
