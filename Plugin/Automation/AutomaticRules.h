// The automatic rules ("Deidentification.Automatic"): WHAT happens to
// instances that arrive in Orthanc (store a de-identified copy, send one,
// delete the original). WITH WHICH PROFILE is decided by the rules per
// destination (RuleService), for destination kind "Store" (the kept copy)
// or the destination of each send.
//
//   "Automatic": {
//     "Enable": false,                  // nothing happens unless true
//     "Rules": [ {
//       "Name": "to-trial",             // unique, required
//       "Origin": { "Kind": "DicomProtocol", "RemoteAet": "CT*", "CalledAet": "*", "RemoteIp": "*" },
//       "Match": { "Modality": [ "CT", "MR" ], "0008,0070": "ACME*" },   // keyword or tag: patterns
//       "When": "Stored",               // or "StableStudy"
//       "Store": true,                  // keep a de-identified copy in this Orthanc
//       "Send": [ { "Modality": "TRIAL" }, { "Peer": "CLOUD" }, { "DicomWeb": "ARCHIVE" } ],
//       "DeleteOriginal": false         // after every copy and send of it succeeded
//     } ],
//     "MaxAttempts": 3, "RetryDelay": 10, "PollInterval": 1, "ClaimTimeout": 600
//   }
//
// The first rule (in order) that matches an instance applies, separately
// for "Stored" and "StableStudy" rules. "Origin" and "Match" are read as in
// the rules per destination (Rules/RuleCriteria): a pattern or a list of
// patterns, wildcards "*" and "?", keywords or "gggg,eeee".
#pragma once

#include "Rules/RuleTypes.h"

#include <json/value.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace Deid
{
  namespace Automation
  {
    // Decides whether one instance is in the scope of a rule (its origin
    // and attributes).
    class IInstanceMatcher
    {
    public:
      virtual ~IInstanceMatcher() = default;
      virtual bool Matches(const Rules::RuleInput& input) const = 0;
    };

    struct AutomaticRule
    {
      enum class Trigger { Stored, StableStudy };

      std::string name;
      Trigger when = Trigger::Stored;
      bool store = false;
      std::vector<Rules::Destination> send;
      bool deleteOriginal = false;
      std::shared_ptr<const IInstanceMatcher> matcher;

      // The actions as persisted in work items: "Store", "Modality:NAME",
      // ..., and "Delete" last when DeleteOriginal.
      std::vector<std::string> GetActions() const;
    };

    struct AutomaticSettings
    {
      bool enabled = false;
      std::vector<AutomaticRule> rules;
      int maxAttempts = 3;
      int retryDelay = 10;        // seconds before a failed action is tried again
      int pollInterval = 1;       // seconds between two reads of the change log
      int claimTimeout = 600;     // seconds after which a claim of a stopped node expires
      int stableAge = 60;         // Orthanc's "StableAge"

      // Throws ConfigurationError naming the faulty key.
      static AutomaticSettings Parse(const Json::Value& deidentificationSection,
                                     const Json::Value& orthancConfiguration);

      // The first rule of this trigger matching the instance; nullptr if none.
      const AutomaticRule* FindRule(AutomaticRule::Trigger when, const Rules::RuleInput& input) const;
      const AutomaticRule* FindRule(const std::string& name) const;
    };

    // The destination of a persisted action ("Peer:CLOUD"); kind "Store"
    // for "Store"; false for "Delete" or an unknown action.
    bool ParseDestination(const std::string& action, Rules::Destination& destination);
  }
}
