// What the rule sets need from their host (the plugin, or a unit test),
// so that Rules/ stays free of Orthanc: a check that a decision names only
// configured things, and a log for script errors.
#pragma once

#include "Rules/RuleTypes.h"

#include <cstdint>
#include <functional>
#include <string>

namespace Deid
{
  namespace Rules
  {
    struct RuleEnvironment
    {
      // Throws std::exception (a message without patient data) if an
      // allowing decision names a profile, option, recipient or project
      // that is not configured. Empty: everything is accepted.
      std::function<void(const RuleDecision& decision)> validate;

      // Receives the errors of the Lua script, already escaped and cut.
      // Empty: not logged.
      std::function<void(const std::string& message)> logError;
    };

    // Bounds on one call of the Lua rule function (and on loading the script).
    struct LuaLimits
    {
      uint64_t instructions = 10000000;            // Lua VM instructions per call
      size_t memoryBytes = 64 * 1024 * 1024;       // heap of the whole Lua state
    };

    // Reads the "Profile", "Options", "Recipients" and "Project" of a rule
    // (JSON) into an allowing decision. Throws RuleConfigurationError.
    void ParseDecisionTarget(const Json::Value& rule, const std::string& where, RuleDecision& decision);
  }
}
