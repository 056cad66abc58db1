// The configured rules per destination, for the plugin layer: builds what a
// rule sees of an instance (its tags from Orthanc or from a file in memory,
// its origin metadata) and turns a decision into a de-identification
// request. The rule sets themselves live in Rules/ (no Orthanc dependency).
#pragma once

#include "Configuration/DeidentificationRequest.h"
#include "Rules/RuleTypes.h"

#include <json/value.h>

#include <memory>
#include <string>

namespace Deid
{
  class RuleService
  {
  public:
    // Reads "Deidentification.Rules" (JSON rules, Lua script, default).
    // Throws ConfigurationError. From OrthancPluginInitialize().
    static void Initialize(const Json::Value& deidentificationSection);
    static void Finalize();
    static RuleService& Get();

    // What a rule sees of a stored instance: its top-level tags and its
    // origin metadata (Origin, RemoteAET, CalledAET, RemoteIP). Throws
    // HttpError(NotFound) for an unknown instance.
    static Rules::RuleInput DescribeInstance(const std::string& instanceId,
                                             const Rules::Destination& destination);

    // The same for a DICOM file in memory (ingestion, uploads). Throws
    // DeidError(BadInput) for non-DICOM input.
    static Rules::RuleInput DescribeFile(const void* dicom, size_t size, const Rules::Origin& origin,
                                         const Rules::Destination& destination);

    // Thread-safe, never throws: any error refuses.
    Rules::RuleDecision Decide(const Rules::RuleInput& input) const;

    // The request that applies an allowing decision (profile, options,
    // recipients, project). Made by the configuration, so the caller
    // policy does not apply. Throws HttpError(BadRequest) if the decision
    // names something that is not configured.
    static DeidentificationRequest ToRequest(const Rules::RuleDecision& decision);

    // The "Rules" section as configured, with "Uncovered" filled in (GET
    // /deidentification/rules). Configuration only, no patient data.
    const Json::Value& GetConfiguration() const { return configuration_; }

  private:
    std::unique_ptr<Rules::IRuleSet> rules_;
    Json::Value configuration_;
  };
}
