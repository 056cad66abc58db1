#include "Rules/RuleCriteria.h"

#include "Engine/PixelRegions.h"

#include "Rules/DicomTagNames.h"
#include "Rules/RuleError.h"

#include <algorithm>

namespace Deid
{
  namespace Rules
  {
    const char* const ORIGIN_KINDS[] = { "DicomProtocol", "RestApi", "Plugins", "Lua", "WebDav", "Unknown", nullptr };

    bool IsKnownOriginKind(const std::string& kind)
    {
      for (size_t i = 0; ORIGIN_KINDS[i] != nullptr; i++)
      {
        if (kind == ORIGIN_KINDS[i])
        {
          return true;
        }
      }
      return false;
    }


    PatternList PatternList::Parse(const Json::Value& value, const std::string& where)
    {
      PatternList result;
      if (value.isString())
      {
        result.patterns_.push_back(value.asString());
      }
      else if (value.isArray() && value.size() > 0)
      {
        for (Json::ArrayIndex i = 0; i < value.size(); i++)
        {
          if (!value[i].isString())
          {
            throw RuleConfigurationError(where + ": every pattern of the list must be a string");
          }
          result.patterns_.push_back(value[i].asString());
        }
      }
      else
      {
        throw RuleConfigurationError(where + " must be a string (a value, \"*\" and \"?\" as wildcards) "
                                     "or a non-empty list of strings (any of)");
      }
      return result;
    }

    const std::string* PatternList::FindMatch(const std::string& value) const
    {
      for (const std::string& pattern : patterns_)
      {
        if (Matches(pattern, value))
        {
          return &pattern;
        }
      }
      return nullptr;
    }

    bool PatternList::Matches(const std::string& pattern, const std::string& value)
    {
      return MatchesWildcard(pattern, value);   // the engine's glob, shared with the pixel regions
    }


    namespace
    {
      std::vector<std::string> ParseKinds(const Json::Value& value, const std::string& where, bool destination)
      {
        std::vector<std::string> kinds;
        if (value.isString())
        {
          kinds.push_back(value.asString());
        }
        else if (value.isArray() && value.size() > 0)
        {
          for (Json::ArrayIndex i = 0; i < value.size(); i++)
          {
            if (!value[i].isString())
            {
              throw RuleConfigurationError(where + ": every kind of the list must be a string");
            }
            kinds.push_back(value[i].asString());
          }
        }
        else
        {
          throw RuleConfigurationError(where + " must be a kind or a non-empty list of kinds");
        }

        for (const std::string& kind : kinds)
        {
          if (destination ? !Destination::IsKnownKind(kind) : !IsKnownOriginKind(kind))
          {
            std::string known;
            const char* const* list = destination ? Destination::KINDS : ORIGIN_KINDS;
            for (size_t i = 0; list[i] != nullptr; i++)
            {
              known += (i == 0 ? "" : ", ") + std::string(list[i]);
            }
            throw RuleConfigurationError(where + ": unknown kind \"" + EscapeText(kind) + "\" (known: " + known + ")");
          }
        }
        return kinds;
      }

      bool ContainsKind(const std::vector<std::string>& kinds, const std::string& kind)
      {
        for (const std::string& k : kinds)
        {
          if (k == kind)
          {
            return true;
          }
        }
        return false;
      }
    }


    RuleCriteria RuleCriteria::Parse(const Json::Value& rule, const std::string& where)
    {
      RuleCriteria c;

      if (rule.isMember("Destination"))
      {
        const Json::Value& d = rule["Destination"];
        const std::string w = where + ".Destination";
        CheckKnownKeys(d, w, { "Kind", "Name" });
        if (d.isMember("Kind"))
        {
          c.destinationKinds_ = ParseKinds(d["Kind"], w + ".Kind", true);
        }
        if (d.isMember("Name"))
        {
          c.hasDestinationName_ = true;
          c.destinationName_ = PatternList::Parse(d["Name"], w + ".Name");
        }
      }

      if (rule.isMember("Origin"))
      {
        const Json::Value& o = rule["Origin"];
        const std::string w = where + ".Origin";
        CheckKnownKeys(o, w, { "Kind", "RemoteAet", "CalledAet", "RemoteIp" });
        if (o.isMember("Kind"))
        {
          c.originKinds_ = ParseKinds(o["Kind"], w + ".Kind", false);
        }
        for (const char* key : { "RemoteAet", "CalledAet", "RemoteIp" })
        {
          if (o.isMember(key))
          {
            c.origin_.emplace_back(key, PatternList::Parse(o[key], w + "." + key));
          }
        }
      }

      if (rule.isMember("Match"))
      {
        const Json::Value& m = rule["Match"];
        const std::string w = where + ".Match";
        if (!m.isObject())
        {
          throw RuleConfigurationError(w + " must be a JSON object (attribute keyword or \"gggg,eeee\" -> pattern)");
        }
        for (const std::string& name : m.getMemberNames())
        {
          std::string key;
          if (!ParseAttribute(name, key))
          {
            throw RuleConfigurationError(w + ": \"" + EscapeText(name) + "\" is neither a DICOM keyword of the "
                                         "data dictionary nor a tag \"gggg,eeee\"");
          }
          for (const auto& a : c.attributes_)
          {
            if (a.first == key)
            {
              throw RuleConfigurationError(w + ": \"" + EscapeText(name) + "\" names an attribute twice");
            }
          }
          c.attributes_.emplace_back(key, PatternList::Parse(m[name], w + "." + name));
        }
        // In tag order: reasons do not depend on how the keys were spelt.
        std::sort(c.attributes_.begin(), c.attributes_.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
      }

      return c;
    }


    bool RuleCriteria::Matches(const RuleInput& input, std::vector<std::string>& why) const
    {
      why.clear();

      if (!destinationKinds_.empty() && !ContainsKind(destinationKinds_, input.destination.kind))
      {
        return false;
      }
      if (hasDestinationName_)
      {
        const std::string* pattern = destinationName_.FindMatch(input.destination.name);
        if (pattern == nullptr)
        {
          return false;
        }
        why.push_back("Destination " + (destinationKinds_.empty() ? std::string() : input.destination.kind + " ") +
                      *pattern);
      }
      else if (!destinationKinds_.empty())
      {
        why.push_back("Destination " + input.destination.kind);
      }

      if (!originKinds_.empty())
      {
        if (!ContainsKind(originKinds_, input.origin.kind))
        {
          return false;
        }
        why.push_back("Origin " + input.origin.kind);
      }
      for (const auto& criterion : origin_)
      {
        const std::string& value = (criterion.first == "RemoteAet" ? input.origin.remoteAet :
                                    criterion.first == "CalledAet" ? input.origin.calledAet :
                                    input.origin.remoteIp);
        const std::string* pattern = criterion.second.FindMatch(value);
        if (pattern == nullptr)
        {
          return false;
        }
        why.push_back(criterion.first + " " + *pattern);
      }

      for (const auto& criterion : attributes_)
      {
        auto found = input.tags.find(criterion.first);
        if (found == input.tags.end())
        {
          return false;
        }
        const std::string* pattern = criterion.second.FindMatch(found->second);
        if (pattern == nullptr)
        {
          return false;
        }
        why.push_back(DescribeAttribute(criterion.first) + " " + *pattern);
      }

      return true;
    }
  }
}
