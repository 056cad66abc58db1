#include "Orthanc/OrthancJob.h"

#include "Orthanc/OrthancApi.h"

#include <condition_variable>
#include <mutex>

namespace Deid
{
  using namespace OrthancApi;

  namespace
  {
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

    struct JobHolder
    {
      std::shared_ptr<IJobOperation> operation;
      std::string type;
      std::string content;   // must stay valid until the next GetContent call
      std::shared_ptr<JobCompletion> completion = std::make_shared<JobCompletion>();
    };

    void JobFinalize(void* job)
    {
      JobHolder* holder = static_cast<JobHolder*>(job);
      holder->completion->Signal();
      delete holder;
    }

    float JobGetProgress(void* job)
    {
      return static_cast<JobHolder*>(job)->operation->GetProgress();
    }

    const char* JobGetContent(void* job)
    {
      JobHolder* holder = static_cast<JobHolder*>(job);
      try
      {
        holder->content = WriteJson(holder->operation->GetContent(), false);
      }
      catch (...)
      {
        holder->content = "{}";
      }
      return holder->content.c_str();
    }

    const char* JobGetSerialized(void* /* job */)
    {
      return nullptr;   // not persisted: jobs may hold keys, and providers live in memory
    }

    OrthancPluginJobStepStatus JobStep(void* job)
    {
      JobHolder* holder = static_cast<JobHolder*>(job);
      try
      {
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

    OrthancPluginJob* job = OrthancPluginCreateJob(
      GetContext(), holder.get(), JobFinalize, holder->type.c_str(), JobGetProgress, JobGetContent,
      JobGetSerialized, JobStep, JobStop, JobReset);
    if (job == nullptr)
    {
      operation->SetJobId("");
      throw HttpError(OrthancPluginErrorCode_InternalError, "Cannot create the " + jobType + " job");
    }
    holder.release();   // owned by the job now (JobFinalize)

    OrthancString id(OrthancPluginSubmitJob(GetContext(), job, priority));
    if (id.IsNull())
    {
      // Orthanc has freed the job (and called JobFinalize) on failure.
      operation->SetJobId("");
      throw HttpError(OrthancPluginErrorCode_InternalError, "Cannot submit the " + jobType + " job");
    }
    operation->SetJobId(id.ToString());   // the job may already run: SetJobId must be thread-safe

    if (waitForCompletion)
    {
      completion->Wait();
    }
    return id.ToString();
  }
}
