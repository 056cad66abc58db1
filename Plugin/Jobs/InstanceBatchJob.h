// What the instance jobs (de-identification, re-identification, send) share:
// the list of source instances and their state, the wait for the job ID,
// the steps (a batch of pending instances processed in parallel), progress,
// Reset() for a resubmitted job, the failed instances of the content and
// the per-instance part of the saved state (SavedJobState.h):
//   "Instances": "<source>,..", "States": "PDAFR..", "Copies": "<new ID>,,..",
//   "Errors": { "<source>": "<reason>" }
// Each job keeps what a step does to one instance, Finish() and its content.
#pragma once

#include "Orthanc/OrthancJob.h"
#include "Orthanc/ResourceLevel.h"

#include <json/value.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace Deid
{
  class InstanceBatchJob : public IJobOperation
  {
  public:
    // Records the ID and releases a first step waiting for it.
    void SetJobId(const std::string& jobId) override;

    // Waits for the job ID (if submitted through Submit()), then processes
    // the next batch of pending instances. False when none is left.
    bool Step() override;

    // Failed instances become pending again (refused ones stay refused).
    void Reset() override;

    float GetProgress() const override;   // instances processed / total

  protected:
    enum class State
    {
      Pending,
      Done,
      Failed,
      Refused   // send: the destination's rule refused it (never retried)
    };

    struct Instance
    {
      std::string sourceId;
      State state = State::Pending;
      std::string newId;            // the copy stored in this Orthanc ("" if none)
      std::string error;            // reason of a failure or refusal (no DICOM value)
      bool alreadyStored = false;   // Orthanc had the copy already (same UIDs)
    };

    InstanceBatchJob() = default;

    // Processes instances_[index] (the vector is never resized after the
    // construction); called without the lock, possibly from several threads.
    virtual void ProcessInstance(size_t index) = 0;

    // How many instances a step processes in parallel (lock held).
    virtual size_t GetBatchSize() const;

    // False if the job cannot run at all (e.g. restored without its key):
    // Step() then returns false and Finish() reports it (lock held).
    virtual bool CanRun() const
    {
      return true;
    }

    // Extra clean-up of Reset() (lock held).
    virtual void OnReset()
    {
    }

    // Submits the job; its first step waits for the returned ID (the copies
    // record it, JobMetadata).
    static std::string Submit(std::shared_ptr<InstanceBatchJob> job, const char* jobType,
                              int priority, bool waitForCompletion);

    // The Orthanc IDs of the instances of a resource ("Instance": itself);
    // HttpError 404 if it does not exist.
    static std::vector<std::string> ListInstances(const ResourceLevel& level, const std::string& id);
    void AddInstances(const std::vector<std::string>& sourceIds);

    // Marks the job finished; false if it already was (Finish() runs once).
    bool MarkFinished();

    // The following expect mutex_ to be held.
    size_t CountLocked(State state) const;
    Json::Value GetFailedInstancesLocked() const;   // [{"Instance": .., "Error": ..}]
    void SaveInstancesLocked(Json::Value& state) const;

    // [{"ID": .., "Path": .., "Type": ..}] of new resources at "level".
    static Json::Value DescribeResources(const std::set<std::string>& ids, const ResourceLevel& level);

    // Reads back what SaveInstancesLocked() wrote, accepting only the state
    // letters of this job (e.g. "PDAF"); HttpError(BadFileFormat) on a bad state.
    void RestoreInstances(const Json::Value& state, const std::string& letters);

    // "Level" of a saved state: "Patient", "Study", "Series" (or "Instance").
    static std::string RestoreLevel(const Json::Value& state, bool allowInstance = false);

    mutable std::mutex mutex_;
    std::vector<Instance> instances_;
    std::string jobId_;
    bool finished_ = false;

  private:
    std::condition_variable jobIdSet_;
    bool waitForJobId_ = false;   // submitted as a job: the first step waits for its ID
    size_t next_ = 0;
  };
}
