#include "Automation/AutomaticRules.h"

#include "Configuration/Configuration.h"
#include "Rules/RuleCriteria.h"
#include "Rules/RuleError.h"

#include <cstdio>
#include <set>

namespace Deid
{
  namespace Automation
  {
    namespace
    {
      // The criteria of the rules per destination ("Origin", "Match"; no
      // "Destination"): same patterns, same keywords, same semantics.
      class CriteriaMatcher : public IInstanceMatcher
      {
      private:
        Rules::RuleCriteria criteria_;

      public:
        explicit CriteriaMatcher(const Rules::RuleCriteria& criteria) : criteria_(criteria) {}

        bool Matches(const Rules::RuleInput& input) const override
        {
          std::vector<std::string> why;
          return criteria_.Matches(input, why);
        }
      };

      std::string Where(size_t index, const std::string& key)
      {
        return "Deidentification.Automatic.Rules[" + std::to_string(index) + "]" + (key.empty() ? "" : "." + key);
      }

      int GetInteger(const Json::Value& section, const char* key, int defaultValue, int min, int max)
      {
        if (!section.isMember(key))
        {
          return defaultValue;
        }
        if (!section[key].isInt() || section[key].asInt() < min || section[key].asInt() > max)
        {
          throw ConfigurationError(std::string("Deidentification.Automatic.") + key + " must be an integer between " +
                                   std::to_string(min) + " and " + std::to_string(max));
        }
        return section[key].asInt();
      }

      AutomaticRule ParseRule(const Json::Value& r, size_t index)
      {
        if (!r.isObject())
        {
          throw ConfigurationError(Where(index, "") + " must be a JSON object");
        }
        static const std::set<std::string> KNOWN = { "Name", "Origin", "Match", "When", "Store", "Send",
                                                     "DeleteOriginal", "Description" };
        for (const std::string& key : r.getMemberNames())
        {
          if (KNOWN.count(key) == 0)
          {
            throw ConfigurationError(Where(index, key) + ": unknown key");
          }
        }

        AutomaticRule rule;
        if (!r["Name"].isString() || r["Name"].asString().empty() ||
            r["Name"].asString().find('|') != std::string::npos)
        {
          throw ConfigurationError(Where(index, "Name") + " must be a non-empty string without \"|\"");
        }
        rule.name = r["Name"].asString();

        try
        {
          Json::Value criteria(Json::objectValue);
          for (const char* key : { "Origin", "Match" })
          {
            if (r.isMember(key))
            {
              criteria[key] = r[key];
            }
          }
          rule.matcher = std::make_shared<CriteriaMatcher>(Rules::RuleCriteria::Parse(criteria, Where(index, "")));
        }
        catch (const Rules::RuleConfigurationError& e)
        {
          throw ConfigurationError(e.what());
        }

        const std::string when = r.isMember("When") ? (r["When"].isString() ? r["When"].asString() : "?") : "Stored";
        if (when == "Stored")
        {
          rule.when = AutomaticRule::Trigger::Stored;
        }
        else if (when == "StableStudy")
        {
          rule.when = AutomaticRule::Trigger::StableStudy;
        }
        else
        {
          throw ConfigurationError(Where(index, "When") + " must be \"Stored\" or \"StableStudy\"");
        }

        for (const char* key : { "Store", "DeleteOriginal" })
        {
          if (r.isMember(key) && !r[key].isBool())
          {
            throw ConfigurationError(Where(index, key) + " must be true or false");
          }
        }
        rule.store = r.get("Store", false).asBool();
        rule.deleteOriginal = r.get("DeleteOriginal", false).asBool();

        if (r.isMember("Send"))
        {
          const Json::Value& s = r["Send"];
          if (!s.isArray())
          {
            throw ConfigurationError(Where(index, "Send") + " must be a list such as [ {\"Modality\": \"TRIAL\"} ]");
          }
          for (Json::ArrayIndex i = 0; i < s.size(); i++)
          {
            const std::string where = Where(index, "Send[" + std::to_string(i) + "]");
            if (!s[i].isObject() || s[i].size() != 1)
            {
              throw ConfigurationError(where + " must be one of {\"Modality\": name}, {\"Peer\": name}, "
                                       "{\"DicomWeb\": name}");
            }
            Rules::Destination d;
            d.kind = s[i].getMemberNames()[0];
            if ((d.kind != "Modality" && d.kind != "Peer" && d.kind != "DicomWeb") ||
                !s[i][d.kind].isString() || s[i][d.kind].asString().empty())
            {
              throw ConfigurationError(where + " must be one of {\"Modality\": name}, {\"Peer\": name}, "
                                       "{\"DicomWeb\": name}");
            }
            d.name = s[i][d.kind].asString();
            rule.send.push_back(d);
          }
        }

        if (!rule.store && rule.send.empty())
        {
          throw ConfigurationError(Where(index, "") + " (\"" + rule.name + "\") does nothing: "
                                   "set \"Store\": true or a \"Send\" list");
        }
        return rule;
      }
    }


    std::vector<std::string> AutomaticRule::GetActions() const
    {
      std::vector<std::string> actions;
      if (store)
      {
        actions.push_back("Store");
      }
      for (const Rules::Destination& d : send)
      {
        actions.push_back(d.kind + ":" + d.name);
      }
      if (deleteOriginal)
      {
        actions.push_back("Delete");
      }
      return actions;
    }


    bool ParseDestination(const std::string& action, Rules::Destination& destination)
    {
      if (action == "Store")
      {
        destination.kind = "Store";
        destination.name.clear();
        return true;
      }
      size_t colon = action.find(':');
      if (colon == std::string::npos)
      {
        return false;
      }
      destination.kind = action.substr(0, colon);
      destination.name = action.substr(colon + 1);
      return destination.kind == "Modality" || destination.kind == "Peer" || destination.kind == "DicomWeb";
    }


    AutomaticSettings AutomaticSettings::Parse(const Json::Value& section, const Json::Value& orthanc)
    {
      AutomaticSettings s;
      if (orthanc.isMember("StableAge") && orthanc["StableAge"].isInt())
      {
        s.stableAge = orthanc["StableAge"].asInt();
      }
      if (!section.isObject() || !section.isMember("Automatic") || section["Automatic"].isNull())
      {
        return s;
      }
      const Json::Value& a = section["Automatic"];
      if (!a.isObject())
      {
        throw ConfigurationError("Deidentification.Automatic must be a JSON object");
      }
      if (a.isMember("Enable") && !a["Enable"].isBool())
      {
        throw ConfigurationError("Deidentification.Automatic.Enable must be true or false");
      }
      s.enabled = a.get("Enable", false).asBool();
      s.maxAttempts = GetInteger(a, "MaxAttempts", 3, 1, 1000);
      s.retryDelay = GetInteger(a, "RetryDelay", 10, 0, 86400);
      s.pollInterval = GetInteger(a, "PollInterval", 1, 1, 3600);
      s.claimTimeout = GetInteger(a, "ClaimTimeout", 600, 10, 86400);

      if (a.isMember("Rules"))
      {
        if (!a["Rules"].isArray())
        {
          throw ConfigurationError("Deidentification.Automatic.Rules must be a list of rules");
        }
        std::set<std::string> names;
        for (Json::ArrayIndex i = 0; i < a["Rules"].size(); i++)
        {
          AutomaticRule rule = ParseRule(a["Rules"][i], i);
          if (!names.insert(rule.name).second)
          {
            throw ConfigurationError("Deidentification.Automatic.Rules: two rules are named \"" + rule.name + "\"");
          }
          s.rules.push_back(rule);
        }
      }
      return s;
    }


    const AutomaticRule* AutomaticSettings::FindRule(AutomaticRule::Trigger when, const Rules::RuleInput& input) const
    {
      for (const AutomaticRule& rule : rules)
      {
        if (rule.when == when && rule.matcher->Matches(input))
        {
          return &rule;
        }
      }
      return nullptr;
    }


    const AutomaticRule* AutomaticSettings::FindRule(const std::string& name) const
    {
      for (const AutomaticRule& rule : rules)
      {
        if (rule.name == name)
        {
          return &rule;
        }
      }
      return nullptr;
    }
  }
}
