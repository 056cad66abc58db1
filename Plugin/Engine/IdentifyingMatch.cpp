#include "IdentifyingMatch.h"

#include "TextPatterns.h"

#include <algorithm>

namespace Deid
{
  namespace
  {
    const char* const MONTH_ABBREVIATIONS[] = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
    };
    const char* const MONTH_NAMES[] = {
      "january", "february", "march", "april", "may", "june", "july", "august", "september",
      "october", "november", "december"
    };

    // Values shorter than this (folded, without separators) are not searched:
    // "1" or "A" would remove every such character of the text.
    const size_t MINIMUM_LENGTH = 2;
    const size_t MINIMUM_ID_LENGTH = 3;

    std::vector<std::string> Split(const std::string& value, const std::string& separators)
    {
      std::vector<std::string> parts;
      std::string current;
      for (char c : value)
      {
        if (separators.find(c) != std::string::npos)
        {
          parts.push_back(current);
          current.clear();
        }
        else
        {
          current += c;
        }
      }
      parts.push_back(current);
      return parts;
    }

    bool SameNumber(const std::string& a, const std::string& b)
    {
      size_t za = a.find_first_not_of('0');
      size_t zb = b.find_first_not_of('0');
      std::string sa = (za == std::string::npos) ? "0" : a.substr(za);
      std::string sb = (zb == std::string::npos) ? "0" : b.substr(zb);
      return sa == sb;
    }

    bool IsNumber(const std::string& s)
    {
      return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
    }
  }


  IdentifyingMatcher::IdentifyingMatcher(const std::vector<IdentifyingValue>& values)
  {
    for (const IdentifyingValue& value : values)
    {
      for (const std::string& single : Split(value.value, "\\"))
      {
        if (value.vr == "DA")
        {
          AddDate(single);
        }
        else if (value.vr == "DT")
        {
          AddDate(single.substr(0, 8));
        }
        else if (value.vr != "TM")
        {
          AddText(single, value.vr == "PN");
        }
      }
    }
    std::sort(compacts_.begin(), compacts_.end());
    compacts_.erase(std::unique(compacts_.begin(), compacts_.end()), compacts_.end());
  }


  void IdentifyingMatcher::AddText(const std::string& value, bool personName)
  {
    if (personName)
    {
      // Each component of each group (alphabetic, ideographic, phonetic),
      // and each word of a component ("Van der Berg", "O'Brien").
      for (const std::string& component : Split(value, "^="))
      {
        TokenizedText tokens(component);
        std::string compact;
        for (size_t i = 0; i < tokens.GetCount(); i++)
        {
          compact += tokens[i].folded;
          if (tokens[i].foldable && tokens[i].folded.size() >= MINIMUM_LENGTH)
          {
            compacts_.push_back(tokens[i].folded);
          }
        }
        if (compact.size() >= MINIMUM_LENGTH)
        {
          compacts_.push_back(compact);
        }
      }
      return;
    }

    TokenizedText tokens(value);
    std::string compact;
    for (size_t i = 0; i < tokens.GetCount(); i++)
    {
      compact += tokens[i].folded;
    }
    if (compact.size() >= MINIMUM_ID_LENGTH)
    {
      compacts_.push_back(compact);
    }
  }


  void IdentifyingMatcher::AddDate(const std::string& value)
  {
    if (value.size() != 8 || !IsNumber(value))
    {
      if (!value.empty())
      {
        AddText(value, false);
      }
      return;
    }
    std::string y = value.substr(0, 4), m = value.substr(4, 2), d = value.substr(6, 2);
    std::string yy = value.substr(2, 2);
    int month = std::stoi(m);

    compacts_.push_back(value);            // 20230131
    compacts_.push_back(d + m + y);        // 31012023
    compacts_.push_back(m + d + y);        // 01312023
    for (const auto& order : std::vector<std::vector<std::string>>{
           { y, m, d }, { d, m, y }, { m, d, y }, { d, m, yy }, { m, d, yy } })
    {
      Needle needle;
      needle.tokens = order;
      needle.numeric = true;
      sequences_.push_back(needle);
    }
    if (month >= 1 && month <= 12)
    {
      for (const char* name : { MONTH_ABBREVIATIONS[month - 1], MONTH_NAMES[month - 1] })
      {
        for (const auto& order : std::vector<std::vector<std::string>>{
               { name, d, y }, { d, name, y }, { y, name, d } })
        {
          Needle needle;
          needle.tokens = order;
          needle.numeric = true;
          sequences_.push_back(needle);
        }
      }
    }
  }


  void IdentifyingMatcher::Mark(TokenizedText& text) const
  {
    const size_t n = text.GetCount();
    for (size_t i = 0; i < n; i++)
    {
      size_t longest = 0;   // tokens matched from i

      for (const Needle& needle : sequences_)
      {
        size_t k = needle.tokens.size();
        if (i + k > n || k <= longest)
        {
          continue;
        }
        bool match = true;
        for (size_t j = 0; j < k && match; j++)
        {
          const std::string& expected = needle.tokens[j];
          const std::string& actual = text[i + j].folded;
          if (needle.numeric && IsNumber(expected))
          {
            match = IsNumber(actual) && actual.size() <= 4 && SameNumber(expected, actual);
          }
          else
          {
            match = (expected == actual);
          }
        }
        if (match)
        {
          longest = k;
        }
      }

      for (const std::string& compact : compacts_)
      {
        // Whole tokens from i whose concatenation is the value.
        std::string joined;
        for (size_t j = i; j < n && joined.size() < compact.size(); j++)
        {
          if (!text[j].foldable || compact.compare(joined.size(), text[j].folded.size(), text[j].folded) != 0)
          {
            break;
          }
          joined += text[j].folded;
          if (joined.size() == compact.size() && j - i + 1 > longest)
          {
            longest = j - i + 1;
          }
        }
      }

      if (longest > 0)
      {
        text.Remove(i, i + longest - 1, TextCategory::IDENTIFYING_VALUE);
        i += longest - 1;
      }
    }
  }
}
