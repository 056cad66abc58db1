// Re-identification of a patient, study or series (PS3.15 E.1.2), run as an
// Orthanc job: each instance is decrypted with a recipient's private key and
// the restored copy is stored. One instance per step; progress = instances
// processed / total. The content (GET /jobs/<id>) holds counts and Orthanc
// IDs, never DICOM values and never the key.
//
// Restart ("SaveJobs": true, OrthancJob.h). The private key is never saved.
// The saved state (version 1):
//   { "Version": 1, "Level": "Study", "Source": "<Orthanc ID>",
//     "Caller": "{\"RemoteIP\":..}", "KeyFromConfiguration": false,
//     "Instances": "<source>,<source>,..", "States": "DDFP..",   // Pending, Done, Failed
//     "Copies": "<new ID>,,..", "Errors": { "<source>": "<reason>" },
//     "NewResources": [..], "Finished": false }
// After a restart the job resumes only with the configured "PrivateKeyFile";
// without it, the restored job fails with "the private key is not stored;
// submit again" (the caller's key lived in memory only). Instances redone
// after a restart are stored again under the same original UIDs: Orthanc
// answers "AlreadyStored", so there is no duplicate.
#pragma once

#include "Operations/ProviderFactory.h"
#include "Orthanc/OrthancJob.h"
#include "Orthanc/ResourceLevel.h"

#include "Engine/Reidentifier.h"

#include <json/value.h>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace Deid
{
  class ReidentificationOperation : public IJobOperation
  {
  public:
    static constexpr const char* JOB_TYPE = "Reidentification";

    // Lists the instances of the source (HttpError 404 if unknown) and checks
    // the key on the first one, so that a wrong key is a 400 answer rather
    // than a failed job. "body" is the request (its secrets are not kept).
    ReidentificationOperation(std::shared_ptr<const RecipientPrivateKey> key, bool keyFromConfiguration,
                              const ResourceLevel& level, const std::string& sourceId, const Json::Value& body);

    bool Step() override;
    void Finish() override;
    void Reset() override;
    void SetJobId(const std::string& jobId) override;
    float GetProgress() const override;
    bool HasFailures() const override;
    Json::Value GetContent() const override;
    Json::Value Serialize() const override;

    // Re-identification is enabled (the routes are registered), with the key
    // of "PrivateKeyFile" or null. Restored jobs resume only with that key.
    static void Configure(std::shared_ptr<const RecipientPrivateKey> configuredKey);

    // The saved state back (HttpError(BadFileFormat) if it cannot be read).
    static std::shared_ptr<IJobOperation> Unserialize(const Json::Value& state);

    // Lets Orthanc restore the saved jobs of this type (from OrthancPluginInitialize()).
    static void RegisterUnserializer();

  private:
    enum class State
    {
      Pending,
      Done,
      Failed
    };

    struct Instance
    {
      std::string sourceId;
      State state = State::Pending;
      std::string newId;
      std::string error;
    };

    mutable std::mutex mutex_;
    std::shared_ptr<const RecipientPrivateKey> key_;   // null: restored without a key
    bool keyFromConfiguration_ = false;
    std::string keyError_;                             // why a restored job cannot run
    OperationDescription description_;
    const ResourceLevel* level_ = nullptr;
    std::string sourceId_;
    std::vector<Instance> instances_;
    size_t next_ = 0;
    std::string jobId_;
    std::set<std::string> newResources_;
    bool finished_ = false;

    ReidentificationOperation() = default;   // Unserialize()
  };
}
