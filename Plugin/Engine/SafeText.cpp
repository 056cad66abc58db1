#include "SafeText.h"

#include <cstdio>

namespace Deid
{
  namespace SafeText
  {
    namespace
    {
      void AppendHex(std::string& out, unsigned char c)
      {
        char hex[8];
        snprintf(hex, sizeof(hex), "\\x%02x", c);
        out += hex;
      }

      bool AppendNamedEscape(std::string& out, unsigned char c)
      {
        switch (c)
        {
          case '\n': out += "\\n"; return true;
          case '\r': out += "\\r"; return true;
          case '\t': out += "\\t"; return true;
          default: return false;
        }
      }
    }


    std::string Escape(const std::string& text, size_t maxLength)
    {
      const bool cut = text.size() > maxLength;
      const size_t length = cut ? maxLength : text.size();

      std::string out;
      out.reserve(length + 8);
      for (size_t i = 0; i < length; i++)
      {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (AppendNamedEscape(out, c))
        {
          continue;
        }
        else if (c == '\\' || c == '"')
        {
          out.push_back('\\');
          out.push_back(static_cast<char>(c));
        }
        else if (c < 0x20 || c >= 0x7f)
        {
          AppendHex(out, c);
        }
        else
        {
          out.push_back(static_cast<char>(c));
        }
      }
      if (cut)
      {
        out += "...";
      }
      return out;
    }


    std::string Quote(const std::string& text, size_t maxLength)
    {
      return "\"" + Escape(text, maxLength) + "\"";
    }


    std::string Message(const std::string& message, size_t maxLength)
    {
      const bool cut = message.size() > maxLength;
      const size_t length = cut ? maxLength : message.size();

      std::string out;
      out.reserve(length + 8);
      for (size_t i = 0; i < length; i++)
      {
        const unsigned char c = static_cast<unsigned char>(message[i]);
        if (AppendNamedEscape(out, c))
        {
          continue;
        }
        else if (c < 0x20 || c == 0x7f)
        {
          AppendHex(out, c);
        }
        else
        {
          out.push_back(static_cast<char>(c));
        }
      }
      if (cut)
      {
        out += "...";
      }
      return out;
    }
  }
}
