// Sending the de-identified instances of a patient, study, series or
// instance to one destination (POST .../deidentify/send), as an Orthanc job.
// Each instance goes through Sending::ProcessInstance: the destination's
// rule decides, the instance is de-identified with the decided profile and
// delivered. Progress = instances done / total. The content lists refused and
// failed instances by Orthanc ID with the reason; the job ends in Failure if
// any was refused or failed. One audit record per job (destination, counts,
// rules). Never any DICOM value in the content, the log or the audit.
//
// Restart ("SaveJobs": true, OrthancJob.h). The saved state (version 1):
//   { "Version": 1, "Level": "Study", "Source": "<Orthanc ID>",
//     "Destination": { "Kind": "Modality", "Name": "TRIAL" }, "Store": false,
//     "Caller": "{\"RemoteIP\":..}", "Finished": false,
//     "Instances": "<source>,..", "States": "PDFR..",   // Pending, Done (sent), Failed, Refused
//     "Copies": "<stored ID>,,..", "Errors": { "<source>": "<reason>" },
//     "Decisions": [ <RuleDecision::ToJson()>, .. ], "DecisionOfInstance": "0,0,1,,.." }
// The destination is found again in the configuration by kind and name; an
// instance sent in a step that was not saved yet is sent again (same UIDs).
#pragma once

#include "Jobs/InstanceBatchJob.h"
#include "Rules/RuleTypes.h"

#include <json/value.h>

#include <memory>
#include <string>
#include <vector>

namespace Deid
{
  class SendOperation : public InstanceBatchJob
  {
  public:
    // "level" is "Patient", "Study", "Series" or "Instance". Lists the
    // instances of the source (HttpError 404 if it does not exist). With
    // "store", a de-identified copy is also kept in this Orthanc.
    SendOperation(const Rules::Destination& destination, bool store,
                  const std::string& level, const std::string& sourceId);

    // Step(), Reset() (retries the failed instances, not the refused ones): InstanceBatchJob.
    void Finish() override;   // the audit record
    bool HasFailures() const override;   // failed or refused instances
    Json::Value GetContent() const override;

    static std::string Submit(std::shared_ptr<SendOperation> operation, int priority,
                              bool waitForCompletion);

    static constexpr const char* JOB_TYPE = "DeidentificationSend";

    Json::Value Serialize() const override;

    // The saved state back (HttpError(BadFileFormat) if it cannot be read).
    static std::shared_ptr<IJobOperation> Unserialize(const Json::Value& state);

    // Lets Orthanc restore the saved jobs of this type (from OrthancPluginInitialize()).
    static void RegisterUnserializer();

  private:
    Rules::Destination destination_;
    bool store_ = false;
    std::string level_;
    std::string sourceId_;
    std::string caller_;           // who asked, for the audit (captured on the HTTP thread)
    // Per instance (Done = sent; newId = the copy kept here, "Store": true).
    std::vector<Rules::RuleDecision> decisions_;

    SendOperation() = default;   // Unserialize()

    void ProcessInstance(size_t index) override;
    void Report() const;
  };
}
