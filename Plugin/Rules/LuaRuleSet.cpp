#include "Rules/LuaRuleSet.h"

#include "Rules/DicomTagNames.h"
#include "Rules/RuleError.h"

#include <lua.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

namespace Deid
{
  namespace Rules
  {
    namespace
    {
      const int HOOK_PERIOD = 1000;   // instructions between two checks of the budget

      typedef std::vector<std::pair<std::string, std::string>> Fields;

      struct CallArguments
      {
        const Fields* tags;
        const Fields* origin;
        const Fields* destination;
      };

      // Inside lua_pcall only: Lua errors unwind with longjmp, so these
      // functions hold no C++ object with a destructor.
      void PushFields(lua_State* state, const Fields& fields)
      {
        lua_createtable(state, 0, static_cast<int>(fields.size()));
        for (const auto& field : fields)
        {
          lua_pushlstring(state, field.second.data(), field.second.size());
          lua_setfield(state, -2, field.first.c_str());
        }
      }

      // setmetatable without "__gc": Lua runs finalizers with debug hooks
      // off, so a finalizer could escape the instruction limit.
      int SetMetatableWithoutFinalizer(lua_State* state)
      {
        if (lua_type(state, 2) == LUA_TTABLE)
        {
          lua_pushliteral(state, "__gc");
          if (lua_rawget(state, 2) != LUA_TNIL)
          {
            return luaL_error(state, "__gc metamethods are not allowed in rules");
          }
          lua_pop(state, 1);
        }
        lua_pushvalue(state, lua_upvalueindex(1));
        lua_insert(state, 1);
        lua_call(state, lua_gettop(state) - 1, LUA_MULTRET);
        return lua_gettop(state);
      }

      int OpenSandbox(lua_State* state)
      {
        luaL_requiref(state, "_G", luaopen_base, 1);
        luaL_requiref(state, LUA_STRLIBNAME, luaopen_string, 1);
        luaL_requiref(state, LUA_TABLIBNAME, luaopen_table, 1);
        luaL_requiref(state, LUA_MATHLIBNAME, luaopen_math, 1);
        lua_settop(state, 0);

        // No file access, no code loading, no output, and no way to catch
        // the error raised when a limit is reached.
        static const char* const REMOVED[] = { "dofile", "loadfile", "load", "loadstring", "print",
                                               "pcall", "xpcall", "collectgarbage", "require", nullptr };
        for (size_t i = 0; REMOVED[i] != nullptr; i++)
        {
          lua_pushnil(state);
          lua_setglobal(state, REMOVED[i]);
        }
        lua_getglobal(state, LUA_STRLIBNAME);
        lua_pushnil(state);
        lua_setfield(state, -2, "dump");
        lua_getglobal(state, "setmetatable");
        lua_pushcclosure(state, SetMetatableWithoutFinalizer, 1);
        lua_setglobal(state, "setmetatable");
        lua_settop(state, 0);
        return 0;
      }

      int HasRuleFunction(lua_State* state)
      {
        lua_pushboolean(state, lua_getglobal(state, LuaRuleSet::FUNCTION) == LUA_TFUNCTION);
        return 1;
      }

      int CallRule(lua_State* state)
      {
        const CallArguments* arguments = static_cast<const CallArguments*>(lua_touserdata(state, 1));
        lua_settop(state, 0);
        if (lua_getglobal(state, LuaRuleSet::FUNCTION) != LUA_TFUNCTION)
        {
          return luaL_error(state, "the script no longer defines the function %s", LuaRuleSet::FUNCTION);
        }
        PushFields(state, *arguments->tags);
        PushFields(state, *arguments->origin);
        PushFields(state, *arguments->destination);
        lua_call(state, 3, 2);
        return 2;
      }

      std::string ReadWholeFile(const std::string& path)
      {
        std::ifstream file(path, std::ios::binary);
        if (!file)
        {
          throw RuleConfigurationError("Deidentification.Rules.LuaScript: cannot read the file \"" +
                                       EscapeText(path) + "\"");
        }
        std::ostringstream content;
        content << file.rdbuf();
        return content.str();
      }
    }


    LuaRuleSet::LuaRuleSet(const std::string& name, const LuaLimits& limits, const RuleEnvironment& environment) :
      name_(name),
      limits_(limits),
      environment_(environment)
    {
    }

    LuaRuleSet::~LuaRuleSet()
    {
      if (state_ != nullptr)
      {
        lua_close(state_);
      }
    }


    void* LuaRuleSet::Allocate(void* self, void* pointer, size_t oldSize, size_t newSize)
    {
      LuaRuleSet& that = *static_cast<LuaRuleSet*>(self);
      const size_t previous = (pointer == nullptr) ? 0 : oldSize;   // oldSize is a type code for new blocks
      if (newSize == 0)
      {
        free(pointer);
        that.memoryUsed_ -= previous;
        return nullptr;
      }
      if (newSize > previous && that.memoryUsed_ - previous + newSize > that.limits_.memoryBytes)
      {
        that.memoryRefused_ = true;
        return nullptr;   // Lua raises a memory error
      }
      void* result = realloc(pointer, newSize);
      if (result != nullptr)
      {
        that.memoryUsed_ = that.memoryUsed_ - previous + newSize;
      }
      return result;
    }

    void LuaRuleSet::CountInstructions(lua_State* state, lua_Debug* /* debug */)
    {
      LuaRuleSet& that = **static_cast<LuaRuleSet**>(lua_getextraspace(state));
      that.executed_ += HOOK_PERIOD;
      if (that.executed_ > that.limits_.instructions)
      {
        that.exceeded_ = true;
        luaL_error(state, "more than %d instructions", static_cast<int>(std::min<uint64_t>(that.limits_.instructions, 2000000000)));
      }
    }

    int LuaRuleSet::ProtectedCall(int arguments, int results) const
    {
      executed_ = 0;
      exceeded_ = false;
      memoryRefused_ = false;
      lua_sethook(state_, CountInstructions, LUA_MASKCOUNT, HOOK_PERIOD);
      int status = lua_pcall(state_, arguments, results, 0);
      lua_sethook(state_, nullptr, 0, 0);
      return status;
    }

    std::string LuaRuleSet::DescribeError(int status) const
    {
      std::string message;
      if (exceeded_)
      {
        message = "the instruction limit (" + std::to_string(limits_.instructions) + ") was reached";
      }
      else if (status == LUA_ERRMEM || memoryRefused_)
      {
        message = "the memory limit (" + std::to_string(limits_.memoryBytes / (1024 * 1024)) + " MB) was reached";
      }
      else if (lua_type(state_, -1) == LUA_TSTRING)
      {
        size_t size = 0;
        const char* data = lua_tolstring(state_, -1, &size);
        message = EscapeText(std::string(data, size));
      }
      else
      {
        message = "an error whose value is not a string";
      }
      lua_settop(state_, 0);
      return message;
    }


    std::unique_ptr<LuaRuleSet> LuaRuleSet::LoadFile(const std::string& path, const LuaLimits& limits,
                                                     const RuleEnvironment& environment)
    {
      return LoadScript(ReadWholeFile(path), path, limits, environment);
    }

    std::unique_ptr<LuaRuleSet> LuaRuleSet::LoadScript(const std::string& source, const std::string& name,
                                                       const LuaLimits& limits, const RuleEnvironment& environment)
    {
      const std::string where = "Deidentification.Rules.LuaScript \"" + EscapeText(name) + "\"";
      std::unique_ptr<LuaRuleSet> set(new LuaRuleSet(name, limits, environment));
      set->state_ = lua_newstate(Allocate, set.get());
      if (set->state_ == nullptr)
      {
        throw RuleConfigurationError(where + ": cannot create a Lua state");
      }
      *static_cast<LuaRuleSet**>(lua_getextraspace(set->state_)) = set.get();

      lua_pushcfunction(set->state_, OpenSandbox);
      int status = set->ProtectedCall(0, 0);
      if (status != LUA_OK)
      {
        throw RuleConfigurationError(where + ": cannot open the Lua libraries: " + set->DescribeError(status));
      }

      // Text only: precompiled bytecode could break the VM's safety checks.
      const std::string chunk = "@" + name.substr(name.find_last_of('/') == std::string::npos ? 0 :
                                                  name.find_last_of('/') + 1);
      status = luaL_loadbufferx(set->state_, source.data(), source.size(), chunk.c_str(), "t");
      if (status == LUA_OK)
      {
        status = set->ProtectedCall(0, 0);
      }
      if (status != LUA_OK)
      {
        throw RuleConfigurationError(where + ": " + set->DescribeError(status));
      }

      lua_pushcfunction(set->state_, HasRuleFunction);
      status = set->ProtectedCall(0, 1);
      if (status != LUA_OK)
      {
        throw RuleConfigurationError(where + ": " + set->DescribeError(status));
      }
      const bool defined = lua_toboolean(set->state_, -1);
      lua_settop(set->state_, 0);
      if (!defined)
      {
        throw RuleConfigurationError(where + " does not define the function " + std::string(FUNCTION) +
                                     "(tags, origin, destination)");
      }
      return set;
    }


    RuleDecision LuaRuleSet::Refuse(const std::string& rule, const std::string& reason) const
    {
      RuleDecision decision;
      decision.allowed = false;
      decision.rule = rule;
      decision.reason = reason;
      return decision;
    }


    std::optional<RuleDecision> LuaRuleSet::ReadResults() const
    {
      lua_State* s = state_;
      const int first = lua_gettop(s) - 1;
      const int second = first + 1;
      const std::string badReturn = "Lua rule script: " + std::string(FUNCTION) + " returned ";

      switch (lua_type(s, first))
      {
        case LUA_TNIL:
          return std::nullopt;

        case LUA_TBOOLEAN:
          if (!lua_toboolean(s, first))
          {
            std::string reason = "refused by the script";
            if (lua_type(s, second) == LUA_TSTRING)
            {
              size_t size = 0;
              const char* data = lua_tolstring(s, second, &size);
              reason = EscapeText(std::string(data, size));
            }
            return Refuse("lua", "Lua rule \"lua\" refuses: " + reason);
          }
          return Refuse("lua", badReturn + "true (return a table to allow, nil when not covered)");

        case LUA_TTABLE:
          break;

        default:
          return Refuse("lua", badReturn + "a " + std::string(lua_typename(s, lua_type(s, first))) +
                        " (expected a table, false or nil)");
      }

      // One raw pass over the table (lua_next, lua_rawlen, lua_rawgeti): no
      // metamethod runs and nothing is allocated, so no Lua error can occur
      // outside the protected call.
      RuleDecision decision;
      std::string rule = "lua";
      bool hasRefuse = false, hasAllowKey = false;
      std::string refusal, problem;

      lua_pushnil(s);
      while (problem.empty() && lua_next(s, first) != 0)
      {
        if (lua_type(s, -2) != LUA_TSTRING)
        {
          problem = "a table with a key that is not a string";
        }
        else
        {
          size_t keySize = 0;
          const char* keyData = lua_tolstring(s, -2, &keySize);
          const std::string key(keyData, keySize);
          const int type = lua_type(s, -1);
          std::string text;
          if (type == LUA_TSTRING)
          {
            size_t size = 0;
            const char* data = lua_tolstring(s, -1, &size);
            text.assign(data, size);
          }

          if (key == "Rule" || key == "Refuse" || key == "Profile" || key == "Project")
          {
            if (type != LUA_TSTRING || text.empty())
            {
              problem = "a \"" + key + "\" that is not a non-empty string";
            }
            else if (key == "Rule")
            {
              rule = EscapeText(text, 64);
            }
            else if (key == "Refuse")
            {
              hasRefuse = true;
              refusal = text;
            }
            else
            {
              hasAllowKey = true;
              (key == "Profile" ? decision.profile : decision.project) = text;
            }
          }
          else if (key == "Options" || key == "Recipients")
          {
            hasAllowKey = true;
            std::vector<std::string>& target = (key == "Options" ? decision.options : decision.recipients);
            if (type != LUA_TTABLE)
            {
              problem = "\"" + key + "\" that is not a list of strings";
            }
            else
            {
              const lua_Unsigned count = lua_rawlen(s, -1);
              for (lua_Unsigned i = 1; i <= count && problem.empty(); i++)
              {
                if (lua_rawgeti(s, -1, static_cast<lua_Integer>(i)) != LUA_TSTRING)
                {
                  problem = "\"" + key + "\" that is not a list of strings";
                }
                else
                {
                  size_t size = 0;
                  const char* data = lua_tolstring(s, -1, &size);
                  target.emplace_back(data, size);
                }
                lua_pop(s, 1);
              }
            }
          }
          else
          {
            problem = "a table with the unknown key \"" + EscapeText(key, 64) + "\"";
          }
        }
        lua_pop(s, 1);   // the value; the key stays for lua_next
      }
      if (!problem.empty())
      {
        lua_pop(s, 1);   // the key of the interrupted traversal
        return Refuse(rule, badReturn + problem);
      }

      decision.rule = rule;
      if (hasRefuse)
      {
        if (hasAllowKey)
        {
          return Refuse(rule, badReturn + "both \"Refuse\" and a profile, options, recipients or project");
        }
        return Refuse(rule, "Lua rule \"" + rule + "\" refuses: " + EscapeText(refusal));
      }
      decision.allowed = true;

      if (environment_.validate)
      {
        try
        {
          environment_.validate(decision);
        }
        catch (const std::exception& e)
        {
          return Refuse(rule, "Lua rule \"" + rule + "\" names something that is not configured: " +
                        EscapeText(e.what()));
        }
      }

      decision.reason = "Lua rule \"" + rule + "\" allows";
      return decision;
    }


    std::optional<RuleDecision> LuaRuleSet::TryDecide(const RuleInput& input) const
    {
      // Everything Lua receives is prepared here, outside the protected call.
      Fields tags;
      tags.reserve(input.tags.size() * 2);
      for (const auto& tag : input.tags)
      {
        tags.emplace_back(tag.first, tag.second);
        std::string upper = tag.first;
        for (char& c : upper)
        {
          c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
        }
        if (upper != tag.first)
        {
          tags.emplace_back(upper, tag.second);
        }
        std::string keyword = GetKeyword(tag.first);
        if (!keyword.empty())
        {
          tags.emplace_back(keyword, tag.second);
        }
      }
      const Fields origin = { { "Kind", input.origin.kind }, { "RemoteAet", input.origin.remoteAet },
                              { "CalledAet", input.origin.calledAet }, { "RemoteIp", input.origin.remoteIp } };
      const Fields destination = { { "Kind", input.destination.kind }, { "Name", input.destination.name } };
      CallArguments arguments = { &tags, &origin, &destination };

      std::lock_guard<std::mutex> lock(mutex_);
      try
      {
        lua_settop(state_, 0);
        if (!lua_checkstack(state_, 8))
        {
          return Refuse("lua", "Lua rule script: out of memory");
        }
        lua_pushcfunction(state_, CallRule);
        lua_pushlightuserdata(state_, &arguments);
        int status = ProtectedCall(1, 2);
        if (status != LUA_OK)
        {
          std::string error = DescribeError(status);
          const auto now = std::chrono::steady_clock::now();
          if (environment_.logError && (error != lastError_ || now - lastErrorTime_ > std::chrono::minutes(1)))
          {
            lastError_ = error;
            lastErrorTime_ = now;
            environment_.logError("De-identification Lua rule script \"" + EscapeText(name_) + "\", function " +
                                  FUNCTION + ": " + error);
          }
          return Refuse("lua", "Lua rule script failed: " +
                        (exceeded_ || status == LUA_ERRMEM || memoryRefused_ ? error : std::string("error in ") + FUNCTION +
                         " (details in the Orthanc log)"));
        }

        std::optional<RuleDecision> decision = ReadResults();
        lua_settop(state_, 0);
        return decision;
      }
      catch (const std::exception&)
      {
        lua_settop(state_, 0);
        return Refuse("lua", "Lua rule script: internal error");
      }
    }
  }
}
