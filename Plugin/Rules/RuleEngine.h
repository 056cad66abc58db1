// The rules per destination of the configuration, "Deidentification.Rules":
//
//   "Rules": {
//     "List": [ ... ],                 // JSON rules (JsonRuleSet.h), first match wins
//     "LuaScript": "/etc/orthanc/deidentification-rules.lua",   // optional (LuaRuleSet.h)
//     "Uncovered": "Refuse",           // default: fail closed; or a configured profile name
//     "LuaInstructionLimit": 10000000, // optional: VM instructions per call
//     "LuaMemoryLimit": 64             // optional: MB for the Lua state
//   }
//
// Evaluation: the JSON list in order, then the Lua function, then
// "Uncovered". Every reason names the deciding rule and what matched, with
// attribute names and configured patterns only, never an instance's value.
#pragma once

#include "Rules/JsonRuleSet.h"
#include "Rules/LuaRuleSet.h"

#include <memory>

namespace Deid
{
  namespace Rules
  {
    class RuleEngine : public IRuleSet
    {
    public:
      static constexpr const char* REFUSE = "Refuse";

      // "rules" is the "Rules" section (null: no rule, everything refused).
      // Throws RuleConfigurationError with a message naming the rule or key.
      static std::unique_ptr<RuleEngine> Parse(const Json::Value& rules, const RuleEnvironment& environment);

      // Thread-safe, never throws.
      RuleDecision Decide(const RuleInput& input) const override;

      // "3 JSON rules, Lua script x.lua, uncovered destinations refused": for the start-up log.
      std::string Describe() const;

    private:
      std::unique_ptr<JsonRuleSet> json_;
      std::unique_ptr<LuaRuleSet> lua_;
      std::string uncovered_ = REFUSE;   // "Refuse" or a profile name
    };
  }
}
