// Errors of the rules per destination, and the text helpers that keep
// caller and script text safe for logs and answers.
#pragma once

#include <json/value.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace Deid
{
  namespace Rules
  {
    // A bad rule configuration (JSON rules, Lua script, "Uncovered"): the
    // message names the rule and the key, never a patient value. The plugin
    // layer turns it into a ConfigurationError that stops the plugin.
    class RuleConfigurationError : public std::runtime_error
    {
    public:
      explicit RuleConfigurationError(const std::string& message) : std::runtime_error(message) {}
    };

    // Text from a script or a caller, made safe for a log line or a reason:
    // printable ASCII only (others as \xHH, quotes and backslashes escaped),
    // cut to "maxLength" characters with "..." when longer.
    std::string EscapeText(const std::string& text, size_t maxLength = 200);

    // Throws RuleConfigurationError unless "object" is a JSON object whose
    // keys are all in "allowed" (a misspelt key is an error, not ignored).
    void CheckKnownKeys(const Json::Value& object, const std::string& where,
                        const std::vector<std::string>& allowed);
  }
}
