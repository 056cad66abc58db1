#include "Rules/JsonRuleSet.h"

#include "Rules/RuleError.h"

#include <set>

namespace Deid
{
  namespace Rules
  {
    static std::vector<std::string> ParseNames(const Json::Value& value, const std::string& where)
    {
      std::vector<std::string> names;
      if (!value.isArray())
      {
        throw RuleConfigurationError(where + " must be a list of strings");
      }
      for (Json::ArrayIndex i = 0; i < value.size(); i++)
      {
        if (!value[i].isString() || value[i].asString().empty())
        {
          throw RuleConfigurationError(where + " must be a list of non-empty strings");
        }
        names.push_back(value[i].asString());
      }
      return names;
    }

    static std::string ParseName(const Json::Value& value, const std::string& where)
    {
      if (!value.isString() || value.asString().empty())
      {
        throw RuleConfigurationError(where + " must be a non-empty string");
      }
      return value.asString();
    }

    void ParseDecisionTarget(const Json::Value& rule, const std::string& where, RuleDecision& decision)
    {
      decision.allowed = true;
      if (rule.isMember("Profile"))
      {
        decision.profile = ParseName(rule["Profile"], where + ".Profile");
      }
      if (rule.isMember("Options"))
      {
        decision.options = ParseNames(rule["Options"], where + ".Options");
      }
      if (rule.isMember("Recipients"))
      {
        decision.recipients = ParseNames(rule["Recipients"], where + ".Recipients");
      }
      if (rule.isMember("Project"))
      {
        decision.project = ParseName(rule["Project"], where + ".Project");
      }
    }


    std::unique_ptr<JsonRuleSet> JsonRuleSet::Parse(const Json::Value& list, const std::string& where,
                                                    const RuleEnvironment& environment)
    {
      std::unique_ptr<JsonRuleSet> result(new JsonRuleSet);
      if (list.isNull())
      {
        return result;
      }
      if (!list.isArray())
      {
        throw RuleConfigurationError(where + " must be a list of rules");
      }

      std::set<std::string> names;
      for (Json::ArrayIndex i = 0; i < list.size(); i++)
      {
        const Json::Value& r = list[i];
        std::string w = where + "[" + std::to_string(i) + "]";
        if (!r.isObject() || !r.isMember("Name") || !r["Name"].isString() || r["Name"].asString().empty())
        {
          throw RuleConfigurationError(w + " must be a JSON object with a non-empty \"Name\"");
        }

        Rule rule;
        rule.name = r["Name"].asString();
        w = where + " rule \"" + EscapeText(rule.name) + "\"";
        if (!names.insert(rule.name).second)
        {
          throw RuleConfigurationError(w + ": two rules have this name");
        }

        CheckKnownKeys(r, w, { "Name", "Description", "Destination", "Origin", "Match", "Refuse",
                               "Profile", "Options", "Recipients", "Project" });
        if (r.isMember("Description") && !r["Description"].isString())
        {
          throw RuleConfigurationError(w + ": \"Description\" must be a string");
        }
        rule.criteria = RuleCriteria::Parse(r, w);

        if (r.isMember("Refuse"))
        {
          for (const char* key : { "Profile", "Options", "Recipients", "Project" })
          {
            if (r.isMember(key))
            {
              throw RuleConfigurationError(w + ": a refusing rule cannot have \"" + std::string(key) + "\"");
            }
          }
          rule.refuse = true;
          rule.refusal = ParseName(r["Refuse"], w + ".Refuse");
          rule.decision.allowed = false;
        }
        else
        {
          ParseDecisionTarget(r, w, rule.decision);
          if (environment.validate)
          {
            try
            {
              environment.validate(rule.decision);
            }
            catch (const std::exception& e)
            {
              throw RuleConfigurationError(w + ": " + e.what());
            }
          }
        }
        rule.decision.rule = rule.name;
        result->rules_.push_back(std::move(rule));
      }
      return result;
    }


    std::optional<RuleDecision> JsonRuleSet::TryDecide(const RuleInput& input) const
    {
      std::vector<std::string> why;
      for (const Rule& rule : rules_)
      {
        if (rule.criteria.Matches(input, why))
        {
          std::string matched;
          for (const std::string& w : why)
          {
            matched += (matched.empty() ? "" : ", ") + w;
          }
          if (matched.empty())
          {
            matched = "matches everything";
          }

          RuleDecision decision = rule.decision;
          if (rule.refuse)
          {
            decision.reason = "rule \"" + rule.name + "\" refuses: " + rule.refusal + " (" + matched + ")";
          }
          else
          {
            decision.reason = "rule \"" + rule.name + "\": " + matched;
          }
          return decision;
        }
      }
      return std::nullopt;
    }
  }
}
