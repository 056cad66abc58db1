// What a JSON rule matches: the destination {Kind, Name}, the origin
// {Kind, RemoteAet, CalledAet, RemoteIp} and DICOM attributes (by keyword or
// "gggg,eeee"). Each value is a pattern or a list of patterns meaning "any
// of"; patterns are exact, with the wildcards "*" (any run) and "?" (one
// character), case-sensitive, matched against the whole value (a
// multi-valued attribute is "A\B"). An omitted criterion matches anything;
// an attribute the instance does not have matches no pattern.
#pragma once

#include "Rules/RuleTypes.h"

#include <json/value.h>

#include <string>
#include <utility>
#include <vector>

namespace Deid
{
  namespace Rules
  {
    class PatternList
    {
    public:
      // A string or a non-empty list of strings. Throws RuleConfigurationError naming "where".
      static PatternList Parse(const Json::Value& value, const std::string& where);

      // The first configured pattern that matches, nullptr if none.
      const std::string* FindMatch(const std::string& value) const;
      const std::vector<std::string>& GetPatterns() const { return patterns_; }

      // "*" any run of characters, "?" one character; linear-time matching.
      static bool Matches(const std::string& pattern, const std::string& value);

    private:
      std::vector<std::string> patterns_;
    };

    // The origin kinds of Orthanc's "Origin" instance metadata.
    extern const char* const ORIGIN_KINDS[];   // nullptr-terminated
    bool IsKnownOriginKind(const std::string& kind);

    class RuleCriteria
    {
    public:
      // Reads "Destination", "Origin" and "Match" of one rule. Throws
      // RuleConfigurationError naming "where" (the rule).
      static RuleCriteria Parse(const Json::Value& rule, const std::string& where);

      // True if the input matches every criterion; "why" then lists what
      // matched, with the configured patterns, never the instance's values:
      // "Destination Modality TRIAL*", "RemoteAet CT*", "Modality CT".
      bool Matches(const RuleInput& input, std::vector<std::string>& why) const;

    private:
      std::vector<std::string> destinationKinds_;   // empty: any
      bool hasDestinationName_ = false;
      PatternList destinationName_;
      std::vector<std::string> originKinds_;        // empty: any
      std::vector<std::pair<std::string, PatternList>> origin_;       // "RemoteAet" -> patterns
      std::vector<std::pair<std::string, PatternList>> attributes_;   // "gggg,eeee" -> patterns
    };
  }
}
