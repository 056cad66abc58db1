// The JSON rules of "Deidentification.Rules.List": the first rule whose
// criteria match decides (the configuration's order); a rule either allows
// with a profile, options, recipients and project, or refuses ("Refuse").
//
//   { "Name": "trial-ct",
//     "Destination": { "Kind": "Modality", "Name": "TRIAL*" },
//     "Origin": { "Kind": "DicomProtocol", "RemoteAet": "CT*" },
//     "Match": { "Modality": [ "CT", "MR" ], "0008,0070": "SIEMENS*" },
//     "Profile": "research", "Options": [ "RetainLongitudinalModifiedDates" ],
//     "Recipients": [], "Project": "trial" }
//   { "Name": "no-sr", "Destination": { "Kind": "Modality" }, "Match": { "Modality": "SR" },
//     "Refuse": "no SR to modalities" }
#pragma once

#include "Rules/RuleCriteria.h"
#include "Rules/RuleEnvironment.h"

#include <memory>
#include <optional>
#include <vector>

namespace Deid
{
  namespace Rules
  {
    class JsonRuleSet
    {
    public:
      // "list" is the JSON array of rules; "where" names it in errors. Every
      // allowing rule is checked with environment.validate. Throws
      // RuleConfigurationError naming the rule.
      static std::unique_ptr<JsonRuleSet> Parse(const Json::Value& list, const std::string& where,
                                                const RuleEnvironment& environment);

      // The decision of the first matching rule; nullopt if none matches.
      std::optional<RuleDecision> TryDecide(const RuleInput& input) const;

      size_t GetSize() const { return rules_.size(); }

    private:
      struct Rule
      {
        std::string name;
        RuleCriteria criteria;
        bool refuse = false;
        std::string refusal;     // the configured reason
        RuleDecision decision;   // allowed, rule, profile, options, recipients, project
      };

      std::vector<Rule> rules_;
    };
  }
}
