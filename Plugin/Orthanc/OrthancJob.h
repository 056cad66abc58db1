// A long operation run as an Orthanc job (OrthancPluginCreateJob): the one
// adapter between the plugin's operations and Orthanc's jobs engine,
// including their saving across restarts ("SaveJobs": true).
//
// Saving. Orthanc asks a job for its serialized state after every step and
// stores the whole jobs registry in its database (every 10 s, on each job
// submission or completion, and at a graceful stop); at start, it gives the
// saved state of each job back to the unserializer registered here, which
// rebuilds the operation with the unserializer of its job type. The saved
// document (what Orthanc keeps in its database, besides its own "Type"):
//   { "DeidentificationPlugin": 1,      // the format version of this envelope
//     "JobID": "<Orthanc job ID>",      // the same ID after the restart
//     "Operation": { ... } }            // IJobOperation::Serialize()
// It must hold no patient data and no key: Orthanc IDs, request settings,
// per-instance states. A document that cannot be read (garbage, another
// format version, a refused operation) is logged and dropped; Orthanc then
// starts without that job.
#pragma once

#include <json/value.h>

#include <functional>
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

    // The state to save so that the job resumes after a restart, as a JSON
    // object (no patient data, no key), or null: the job is not saved.
    // Called between steps, never during one.
    virtual Json::Value Serialize() const
    {
      return Json::Value(Json::nullValue);
    }
  };

  // Rebuilds an operation from its Serialize() output. Throws (any
  // exception, with a message naming no patient data) to refuse it.
  typedef std::function<std::shared_ptr<IJobOperation>(const Json::Value& serialized)> JobUnserializer;

  // Job types that can be saved: call before Orthanc loads its saved jobs
  // (i.e. from OrthancPluginInitialize()).
  void RegisterJobUnserializer(const std::string& jobType, JobUnserializer unserializer);

  // Registers the plugin's one Orthanc callback (OrthancPluginRegisterJobsUnserializer).
  void RegisterOrthancJobsUnserializer();

  // Submits the operation as an Orthanc job of this type; returns the job ID.
  // With waitForCompletion, returns only once the job has succeeded, failed
  // or was canceled ("Synchronous": true, as Orthanc's own jobs do: the work
  // still runs in the jobs engine and shows in /jobs).
  // Throws HttpError if Orthanc refuses the job.
  std::string SubmitOrthancJob(std::shared_ptr<IJobOperation> operation,
                               const std::string& jobType,
                               int priority,
                               bool waitForCompletion = false);
}
