// De-identification of a patient, study or series into new resources
// (PS3.15 E.1), run as an Orthanc job or synchronously. One instance per
// step; progress = instances done / total. One OperationProviders for the
// whole operation keeps the new Study/Series/SOP Instance UIDs consistent
// (one new study per original study, references mapped alike).
//
// The content of the job (GET /jobs/<id>) holds counts, Orthanc IDs and,
// per failed instance, {"Instance": <Orthanc ID>, "Error": <reason>} --
// never DICOM values.
//
// Restart ("SaveJobs": true, OrthancJob.h). The saved state (version 1):
//   { "Version": 1, "Level": "Study", "Source": "<Orthanc ID>",
//     "Request": { "Profile": "research", "Options": [ ...every option, resolved ... ],
//                  "KeepSource": false, "Project": .., "Recipients": .., "Cipher": .. },
//     "Caller": "{\"RemoteIP\":..}",      // for the audit trail
//     "Instances": "<source>,<source>,..",   // one string per list: saved after every step
//     "States": "DDAFPP..",                  // per instance: Pending, Done, Already stored, Failed
//     "Copies": "<new ID>,<new ID>,,,..",    // "" unless done
//     "Errors": { "<source>": "<reason>" },  // the failed ones
//     "NewResources": [..], "NewPatients": [..],
//     "Finished": false, "SourceDeleted": false, "FinishError": ".." }
// Only those request keys are kept (names, never certificates or keys).
// The job resumes with the same keyed providers (same project secret,
// profile, options and recipients: same UIDs, pseudonyms and date offsets).
// Instances done in a step that was not saved yet are de-identified again:
// Orthanc answers "AlreadyStored" for the same UIDs, so there is no
// duplicate. With KeepSource false, the sources are deleted in the step
// after the one that stored the last copy (so a saved state with every copy
// stored always precedes the deletion); a deletion interrupted by a restart
// completes after it (resources already gone are not an error). If the
// configuration no longer gives the same request (profile, options,
// project, recipients), the restored job fails with a clear error and
// deletes nothing.
#pragma once

#include "Operations/DeidentificationEvents.h"
#include "Configuration/DeidentificationRequest.h"
#include "Jobs/InstanceBatchJob.h"

#include <json/value.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace Deid
{
  class DeidentificationOperation : public InstanceBatchJob
  {
  public:
    // "level" is "Patient", "Study" or "Series". Lists the instances of the
    // source (HttpError 404 if it does not exist).
    DeidentificationOperation(const DeidentificationRequest& request,
                              const std::string& level,
                              const std::string& sourceId);

    // Deletes the source if requested (only when every instance was stored)
    // and reports the finished operation. Call once, after the last Step().
    void Finish() override;

    // Step(), Reset() (a resubmitted job retries the failed instances with
    // the same providers, hence the same new UIDs): InstanceBatchJob.
    bool HasFailures() const override;
    Json::Value GetContent() const override;   // the job's public content
    Json::Value GetSynchronousAnswer() const;  // the answer of "Synchronous": true

    // Submits the operation as an Orthanc job; returns the job ID. With
    // waitForCompletion ("Synchronous": true), returns when the job is over.
    static std::string Submit(std::shared_ptr<DeidentificationOperation> operation, int priority,
                              bool waitForCompletion);

    static constexpr const char* JOB_TYPE = "Deidentification";

    Json::Value Serialize() const override;

    // The saved state back (throws HttpError(BadFileFormat) for a state that
    // cannot be read). Makes no REST call: Orthanc is still starting.
    static std::shared_ptr<IJobOperation> Unserialize(const Json::Value& state);

    // Lets Orthanc restore the saved jobs of this type (from OrthancPluginInitialize()).
    static void RegisterUnserializer();

  private:
    DeidentificationOperation() = default;   // Unserialize()

    DeidentificationRequest request_;
    OperationDescription description_;
    std::string level_;
    std::string sourceId_;
    std::unique_ptr<OperationProviders> providers_;
    std::vector<std::vector<PixelRectangle>> pixelRegions_;   // per instance: Clean Pixel Data, for the audit
    std::set<std::string> newResources_;   // at the operation's level
    std::set<std::string> newPatients_;
    bool sourceDeleted_ = false;
    std::string finishError_;
    Json::Value optionNames_;     // the resolved options, as names (content, saved state)
    std::string restoreError_;    // why a restored job cannot run (configuration changed)

    void ProcessInstance(size_t index) override;
    bool CanRun() const override;
    void OnReset() override;
    Json::Value SaveRequest() const;
  };
}
