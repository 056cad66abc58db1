// A long operation run as an Orthanc job (OrthancPluginCreateJob): the one
// adapter between the plugin's operations and Orthanc's jobs engine.
#pragma once

#include <json/value.h>

#include <memory>
#include <string>

namespace Deid
{
  class IJobOperation
  {
  public:
    virtual ~IJobOperation() = default;

    // Processes the next part of the work. Returns false when nothing is left.
    virtual bool Step() = 0;

    // Called once after the last Step().
    virtual void Finish() = 0;

    // A job started again by Orthanc (resubmit): retry what failed.
    virtual void Reset() = 0;

    // The ID Orthanc gave the job ("" if the submission failed).
    virtual void SetJobId(const std::string& jobId) = 0;

    virtual float GetProgress() const = 0;
    virtual bool HasFailures() const = 0;
    virtual Json::Value GetContent() const = 0;   // the job's public content: no patient data
  };

  // Submits the operation as an Orthanc job of this type; returns the job ID.
  // With waitForCompletion, returns only once the job has succeeded, failed
  // or was canceled ("Synchronous": true, as Orthanc's own jobs do: the work
  // still runs in the jobs engine and shows in /jobs).
  // The job is not serialized: it does not survive a restart of Orthanc.
  // Throws HttpError if Orthanc refuses the job.
  std::string SubmitOrthancJob(std::shared_ptr<IJobOperation> operation,
                               const std::string& jobType,
                               int priority,
                               bool waitForCompletion = false);
}
