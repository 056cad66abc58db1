#include "Rules/RuleEngine.h"

#include "Rules/RuleError.h"

namespace Deid
{
  namespace Rules
  {
    static const char* const WHERE = "Deidentification.Rules";

    std::unique_ptr<RuleEngine> RuleEngine::Parse(const Json::Value& rules, const RuleEnvironment& environment)
    {
      std::unique_ptr<RuleEngine> engine(new RuleEngine);
      Json::Value section = rules.isNull() ? Json::Value(Json::objectValue) : rules;
      CheckKnownKeys(section, WHERE, { "List", "LuaScript", "Uncovered", "LuaInstructionLimit", "LuaMemoryLimit" });

      engine->json_ = JsonRuleSet::Parse(section["List"], std::string(WHERE) + ".List", environment);

      if (section.isMember("Uncovered"))
      {
        if (!section["Uncovered"].isString() || section["Uncovered"].asString().empty())
        {
          throw RuleConfigurationError(std::string(WHERE) + ".Uncovered must be \"Refuse\" or the name of a "
                                       "configured profile");
        }
        engine->uncovered_ = section["Uncovered"].asString();
        if (engine->uncovered_ != REFUSE && environment.validate)
        {
          RuleDecision d;
          d.allowed = true;
          d.profile = engine->uncovered_;
          try
          {
            environment.validate(d);
          }
          catch (const std::exception& e)
          {
            throw RuleConfigurationError(std::string(WHERE) + ".Uncovered: " + e.what());
          }
        }
      }

      LuaLimits limits;
      if (section.isMember("LuaInstructionLimit"))
      {
        const Json::Value& v = section["LuaInstructionLimit"];
        if (!v.isIntegral() || v.asLargestInt() < 1000 || v.asLargestInt() > 10000000000LL)
        {
          throw RuleConfigurationError(std::string(WHERE) + ".LuaInstructionLimit must be an integer "
                                       "between 1000 and 10000000000");
        }
        limits.instructions = static_cast<uint64_t>(v.asLargestInt());
      }
      if (section.isMember("LuaMemoryLimit"))
      {
        const Json::Value& v = section["LuaMemoryLimit"];
        if (!v.isIntegral() || v.asLargestInt() < 1 || v.asLargestInt() > 4096)
        {
          throw RuleConfigurationError(std::string(WHERE) + ".LuaMemoryLimit must be a number of MB "
                                       "between 1 and 4096");
        }
        limits.memoryBytes = static_cast<size_t>(v.asLargestInt()) * 1024 * 1024;
      }

      if (section.isMember("LuaScript"))
      {
        if (!section["LuaScript"].isString() || section["LuaScript"].asString().empty())
        {
          throw RuleConfigurationError(std::string(WHERE) + ".LuaScript must be the path of a Lua 5.3 script");
        }
        engine->lua_ = LuaRuleSet::LoadFile(section["LuaScript"].asString(), limits, environment);
      }
      return engine;
    }


    RuleDecision RuleEngine::Decide(const RuleInput& input) const
    {
      try
      {
        std::optional<RuleDecision> decision = json_->TryDecide(input);
        if (!decision && lua_)
        {
          decision = lua_->TryDecide(input);
        }
        if (decision)
        {
          return *decision;
        }

        RuleDecision d;
        d.reason = "no rule covers " + input.destination.Describe();
        if (uncovered_ == REFUSE)
        {
          d.allowed = false;
          d.reason += " (Deidentification.Rules.Uncovered is \"Refuse\")";
        }
        else
        {
          d.allowed = true;
          d.profile = uncovered_;
          d.reason += "; Deidentification.Rules.Uncovered allows it with profile \"" + uncovered_ + "\"";
        }
        return d;
      }
      catch (const std::exception&)
      {
        RuleDecision d;
        d.allowed = false;
        d.reason = "internal error while evaluating the rules";
        return d;
      }
    }


    std::string RuleEngine::Describe() const
    {
      std::string s = std::to_string(json_->GetSize()) + " JSON rules";
      if (lua_)
      {
        s += ", Lua script \"" + EscapeText(lua_->GetName()) + "\"";
      }
      s += (uncovered_ == REFUSE ? ", uncovered destinations refused" :
            ", uncovered destinations allowed with profile \"" + uncovered_ + "\"");
      return s;
    }
  }
}
