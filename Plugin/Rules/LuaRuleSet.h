// Rules written in Lua 5.3: a script named by "Deidentification.Rules.
// LuaScript" defines
//
//   function DeidentificationRule(tags, origin, destination)
//
// tags:        the instance's top-level attributes with a string value, keyed
//              by keyword ("Modality") and by tag ("0008,0060", also "0008,0060"
//              in upper case when it has letters)
// origin:      { Kind = "DicomProtocol"|"RestApi"|"Plugins"|"Lua"|"WebDav"|"Unknown",
//                RemoteAet = "", CalledAet = "", RemoteIp = "" }
// destination: { Kind = "Modality"|"Peer"|"DicomWeb"|"Store"|"Ingest", Name = "" }
//
// and returns
//   { Profile = "research", Options = { "RetainUIDs" }, Recipients = { "custodian" },
//     Project = "trial", Rule = "name" }         allow (every key optional)
//   { Refuse = "reason", Rule = "name" }  or  false, "reason"       refuse
//   nil                                                             not covered
//
// Sandbox: one lua_State guarded by a mutex, only the base, string, table
// and math libraries, without dofile, loadfile, load, print, pcall, xpcall,
// collectgarbage and string.dump (no file, no code loading, and a script
// cannot catch the error that stops it); the script is loaded as text
// only. Each call is bounded in VM instructions, and the state in memory.
// A Lua error, a bad return value, or a decision naming something that is
// not configured refuses; the error goes to the log escaped and cut.
#pragma once

#include "Rules/RuleEnvironment.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

struct lua_State;
struct lua_Debug;

namespace Deid
{
  namespace Rules
  {
    class LuaRuleSet
    {
    public:
      static constexpr const char* FUNCTION = "DeidentificationRule";

      // Loads and runs the script file. Throws RuleConfigurationError
      // (unreadable file, syntax or run-time error, no DeidentificationRule).
      static std::unique_ptr<LuaRuleSet> LoadFile(const std::string& path, const LuaLimits& limits,
                                                  const RuleEnvironment& environment);
      static std::unique_ptr<LuaRuleSet> LoadScript(const std::string& source, const std::string& name,
                                                    const LuaLimits& limits, const RuleEnvironment& environment);

      ~LuaRuleSet();
      LuaRuleSet(const LuaRuleSet&) = delete;
      LuaRuleSet& operator=(const LuaRuleSet&) = delete;

      // Thread-safe; never throws: errors refuse. nullopt: the script returned nil.
      std::optional<RuleDecision> TryDecide(const RuleInput& input) const;

      const std::string& GetName() const { return name_; }

    private:
      LuaRuleSet(const std::string& name, const LuaLimits& limits, const RuleEnvironment& environment);

      static void* Allocate(void* self, void* pointer, size_t oldSize, size_t newSize);
      static void CountInstructions(lua_State* state, lua_Debug* debug);

      // Runs the function at the top of the stack (with its argument) under the limits.
      int ProtectedCall(int arguments, int results) const;
      std::string DescribeError(int status) const;   // pops the error object
      RuleDecision Refuse(const std::string& rule, const std::string& reason) const;
      std::optional<RuleDecision> ReadResults() const;   // the two results at the top of the stack

      std::string name_;
      LuaLimits limits_;
      RuleEnvironment environment_;
      lua_State* state_ = nullptr;
      mutable std::mutex mutex_;
      mutable uint64_t executed_ = 0;
      mutable bool exceeded_ = false;
      size_t memoryUsed_ = 0;
      mutable bool memoryRefused_ = false;
      mutable std::string lastError_;        // the same error is logged once a minute at most
      mutable std::chrono::steady_clock::time_point lastErrorTime_;   // an allocation was refused during the current call
    };
  }
}
