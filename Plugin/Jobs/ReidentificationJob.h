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
#include "Jobs/InstanceBatchJob.h"

#include "Engine/Reidentifier.h"

#include <json/value.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace Deid
{
  class ReidentificationOperation : public InstanceBatchJob
  {
  public:
    static constexpr const char* JOB_TYPE = "Reidentification";

    // Lists the instances of the source (HttpError 404 if unknown) and checks
    // the key on the first one, so that a wrong key is a 400 answer rather
    // than a failed job. "body" is the request (its secrets are not kept).
    ReidentificationOperation(std::shared_ptr<const RecipientPrivateKey> key, bool keyFromConfiguration,
                              const ResourceLevel& level, const std::string& sourceId, const Json::Value& body);

    void Finish() override;
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
    std::shared_ptr<const RecipientPrivateKey> key_;   // null: restored without a key
    bool keyFromConfiguration_ = false;
    std::string keyError_;                             // why a restored job cannot run
    OperationDescription description_;
    const ResourceLevel* level_ = nullptr;
    std::string sourceId_;
    std::set<std::string> newResources_;

    ReidentificationOperation() = default;   // Unserialize()

    void ProcessInstance(size_t index) override;
    size_t GetBatchSize() const override
    {
      return 1;   // one instance per step
    }
    bool CanRun() const override
    {
      return key_ != nullptr;   // else restored without a key: Finish() reports it
    }
  };
}
