#include "Rules/RuleError.h"

#include <cstdio>

namespace Deid
{
  namespace Rules
  {
    std::string EscapeText(const std::string& text, size_t maxLength)
    {
      std::string result;
      for (unsigned char c : text)
      {
        if (result.size() >= maxLength)
        {
          result += "...";
          break;
        }
        if (c == '"' || c == '\\')
        {
          result += '\\';
          result += static_cast<char>(c);
        }
        else if (c >= 0x20 && c < 0x7f)
        {
          result += static_cast<char>(c);
        }
        else
        {
          char buffer[8];
          snprintf(buffer, sizeof(buffer), "\\x%02X", c);
          result += buffer;
        }
      }
      return result;
    }

    void CheckKnownKeys(const Json::Value& object, const std::string& where,
                        const std::vector<std::string>& allowed)
    {
      if (!object.isObject())
      {
        throw RuleConfigurationError(where + " must be a JSON object");
      }
      for (const std::string& key : object.getMemberNames())
      {
        bool found = false;
        for (const std::string& a : allowed)
        {
          found = found || (a == key);
        }
        if (!found)
        {
          std::string known;
          for (const std::string& a : allowed)
          {
            known += (known.empty() ? "" : ", ") + a;
          }
          throw RuleConfigurationError(where + ": unknown key \"" + EscapeText(key) + "\" (known: " + known + ")");
        }
      }
    }
  }
}
