#include "OrthancJob.h"

#include "OrthancApi.h"

namespace Deid
{
  using namespace OrthancApi;

  namespace
  {
    struct JobHolder
    {
      std::shared_ptr<IJobOperation> operation;
      std::string type;
      std::string content;   // must stay valid until the next GetContent call
    };

    void JobFinalize(void* job)
    {
      delete static_cast<JobHolder*>(job);
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
        // Failed instances are listed in the content; the job's state shows them.
        return holder->operation->HasFailures() ?
          OrthancPluginJobStepStatus_Failure : OrthancPluginJobStepStatus_Success;
      }
      catch (...)
      {
        std::string message;
        DescribeCurrentException(message);
        LogError(holder->type + " job: " + message);
        return OrthancPluginJobStepStatus_Failure;
      }
    }

    OrthancPluginErrorCode JobStop(void* /* job */, OrthancPluginJobStopReason /* reason */)
    {
      return OrthancPluginErrorCode_Success;   // steps are short: nothing to interrupt
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
                               int priority)
  {
    std::unique_ptr<JobHolder> holder(new JobHolder);
    holder->operation = operation;
    holder->type = jobType;

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
    return id.ToString();
  }
}
