#include "TextPatterns.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace Deid
{
  namespace TextCategory
  {
    const char* const IDENTIFYING_VALUE = "identifying value";
    const char* const DATE = "date";
    const char* const TIME = "time";
    const char* const PHONE_NUMBER = "phone number";
    const char* const EMAIL_ADDRESS = "e-mail address";
    const char* const URL = "URL";
    const char* const IDENTIFIER = "identifier";
    const char* const AGE = "age";
    const char* const PERSON_NAME = "person name";
    const char* const UNKNOWN_WORD = "unknown word";
  }

  namespace
  {
    const std::set<std::string> MONTHS = {
      "jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june",
      "jul", "july", "aug", "august", "sep", "sept", "september", "oct", "october", "nov",
      "november", "dec", "december"
    };

    const std::set<std::string> TOP_LEVEL_DOMAINS = {
      "com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "io", "eu", "de", "fr",
      "uk", "nl", "be", "ch", "at", "it", "es", "pt", "se", "no", "dk", "fi", "pl", "cz", "us",
      "ca", "au", "nz", "jp", "cn", "kr", "in", "br", "ru", "ie", "lu"
    };

    // Units after a number in one token ("1mm", "120kVp", "3T", "2CH", "10x").
    const std::set<std::string> UNITS = {
      "mm", "cm", "m", "um", "kvp", "kv", "ma", "mas", "t", "s", "ms", "sec", "min", "mins", "h",
      "hr", "hrs", "mgy", "gy", "cgy", "msv", "mbq", "gbq", "mci", "bq", "kev", "mev", "ml", "cc",
      "l", "mg", "g", "kg", "ug", "mcg", "mmol", "hz", "khz", "mhz", "deg", "mmhg", "bpm", "x",
      "d", "ch", "fps", "px", "mm2", "mm3", "cm2", "cm3", "slices", "sl", "st", "nd", "rd", "th"
    };

    const std::set<std::string> AGE_UNITS = { "y", "yo", "yr", "yrs", "year", "years" };
    const std::set<std::string> AGE_UNITS_WITH_OLD = {
      "mo", "month", "months", "wk", "wks", "week", "weeks", "day", "days"
    };

    long ToNumber(const TextToken& t)
    {
      if (!t.digits || t.folded.size() > 9)
      {
        return -1;
      }
      return std::stol(t.folded);
    }

    bool IsKeptDigits(const TokenizedText& text, size_t i)
    {
      return i < text.GetCount() && text.IsKept(i) && text[i].digits;
    }

    bool OnlyChars(const std::string& s, const char* allowed)
    {
      for (char c : s)
      {
        if (std::strchr(allowed, c) == nullptr)
        {
          return false;
        }
      }
      return true;
    }

    bool IsYear(const TextToken& t)
    {
      long n = ToNumber(t);
      return t.folded.size() == 4 && n >= 1900 && n <= 2099;
    }

    bool IsDay(const TextToken& t)
    {
      if (t.digits)
      {
        long n = ToNumber(t);
        return t.folded.size() <= 2 && n >= 1 && n <= 31;
      }
      // Ordinals: 1st, 22nd, 3rd, 31th
      const std::string& f = t.folded;
      size_t d = 0;
      while (d < f.size() && f[d] >= '0' && f[d] <= '9')
      {
        d++;
      }
      if (d == 0 || d > 2)
      {
        return false;
      }
      std::string suffix = f.substr(d);
      long n = std::stol(f.substr(0, d));
      return n >= 1 && n <= 31 && (suffix == "st" || suffix == "nd" || suffix == "rd" || suffix == "th");
    }

    bool IsCompactDate(const std::string& digits)
    {
      if (digits.size() < 8)
      {
        return false;
      }
      long year = std::stol(digits.substr(0, 4));
      long month = std::stol(digits.substr(4, 2));
      long day = std::stol(digits.substr(6, 2));
      return year >= 1900 && year <= 2099 && month >= 1 && month <= 12 && day >= 1 && day <= 31;
    }

    // Tokens that are the fraction of a decimal number ("5.0", "0.625"), not
    // part of a dotted date or phone number.
    std::vector<bool> DecimalFractions(const TokenizedText& text)
    {
      std::vector<bool> fraction(text.GetCount(), false);
      for (size_t i = 1; i < text.GetCount(); i++)
      {
        if (text[i].digits && text[i - 1].digits && text.SeparatorBefore(i) == "." &&
            (i < 2 || text.SeparatorBefore(i - 1) != ".") &&
            (i + 1 >= text.GetCount() || text.SeparatorBefore(i + 1) != "."))
        {
          fraction[i] = true;
        }
      }
      return fraction;
    }

    std::string Lowercase(const std::string& s)
    {
      std::string out(s);
      std::transform(out.begin(), out.end(), out.begin(),
                     [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
      return out;
    }

    // "HeadSeq", "ThoraxRoutine": every part of a CamelCase word is a word.
    bool IsCamelCaseOfWords(const std::string& original, const TextVocabulary& vocabulary)
    {
      std::vector<std::string> parts;
      std::string current;
      for (size_t i = 0; i < original.size(); i++)
      {
        char c = original[i];
        if (c >= 'A' && c <= 'Z' && i > 0 && original[i - 1] >= 'a' && original[i - 1] <= 'z')
        {
          parts.push_back(current);
          current.clear();
        }
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
        {
          return false;
        }
        current += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      }
      parts.push_back(current);
      if (parts.size() < 2)
      {
        return false;
      }
      for (const std::string& part : parts)
      {
        if (part.size() < 2 || !vocabulary.Contains(part))
        {
          return false;
        }
      }
      return true;
    }

    bool StartsUppercase(const TokenizedText& text, size_t i)
    {
      char c = text.GetText()[text[i].begin];
      return (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
    }

    bool LooksLikeDomain(const std::string& chunk)
    {
      std::string host = chunk.substr(0, chunk.find('/'));
      size_t dot = host.rfind('.');
      if (dot == std::string::npos || dot < 2 || host.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos)
      {
        return false;
      }
      return TOP_LEVEL_DOMAINS.count(host.substr(dot + 1)) != 0 &&
             host.find('.') >= 2;   // "e.g." and "i.v." are not domains
    }
  }


  void MarkUrlsAndEmails(TokenizedText& text)
  {
    const std::string& value = text.GetText();
    const char* spaces = " \t\r\n\f\v";
    size_t start = 0;
    size_t token = 0;
    while (start < value.size())
    {
      start = value.find_first_not_of(spaces, start);
      if (start == std::string::npos)
      {
        break;
      }
      size_t end = value.find_first_of(spaces, start);
      if (end == std::string::npos)
      {
        end = value.size();
      }
      std::string chunk = Lowercase(value.substr(start, end - start));
      size_t first = chunk.find_first_not_of("([<\"'");
      size_t last = chunk.find_last_not_of(")]>\"',.;:!?");
      chunk = (first == std::string::npos || last == std::string::npos || last < first) ?
        std::string() : chunk.substr(first, last - first + 1);

      const char* category = nullptr;
      size_t at = chunk.find('@');
      if (at != std::string::npos && at > 0 && chunk.find('.', at) != std::string::npos &&
          at + 1 < chunk.size())
      {
        category = TextCategory::EMAIL_ADDRESS;
      }
      else if (chunk.find("://") != std::string::npos || chunk.compare(0, 4, "www.") == 0 ||
               LooksLikeDomain(chunk))
      {
        category = TextCategory::URL;
      }

      while (token < text.GetCount() && text[token].begin < end)
      {
        if (category != nullptr && text[token].begin >= start)
        {
          text.Remove(token, token, category);
        }
        token++;
      }
      start = end;
    }
  }


  void MarkDates(TokenizedText& text)
  {
    const size_t n = text.GetCount();
    for (size_t i = 0; i < n; i++)
    {
      if (!text.IsKept(i))
      {
        continue;
      }
      const TextToken& t = text[i];

      if (t.digits && i + 2 < n && IsKeptDigits(text, i + 1) && IsKeptDigits(text, i + 2))
      {
        std::string s1 = text.SeparatorBefore(i + 1);
        std::string s2 = text.SeparatorBefore(i + 2);
        if (s1 == s2 && (s1 == "-" || s1 == "/" || s1 == "."))
        {
          long a = ToNumber(t), b = ToNumber(text[i + 1]), c = ToNumber(text[i + 2]);
          size_t la = t.folded.size(), lb = text[i + 1].folded.size(), lc = text[i + 2].folded.size();
          bool ymd = la == 4 && lb <= 2 && lc <= 2 && b >= 1 && b <= 12 && c >= 1 && c <= 31;
          bool dmy = la <= 2 && lb <= 2 && (lc == 4 || lc == 2) &&
                     ((a >= 1 && a <= 31 && b >= 1 && b <= 12) || (a >= 1 && a <= 12 && b >= 1 && b <= 31));
          if (ymd || dmy)
          {
            text.Remove(i, i + 2, TextCategory::DATE);
            i += 2;
            continue;
          }
        }
      }

      if (t.digits && i + 1 < n && IsKeptDigits(text, i + 1))
      {
        std::string s = text.SeparatorBefore(i + 1);
        long a = ToNumber(t), b = ToNumber(text[i + 1]);
        size_t la = t.folded.size(), lb = text[i + 1].folded.size();
        if ((s == "/" || s == "-") &&
            ((la <= 2 && a >= 1 && a <= 12 && IsYear(text[i + 1])) ||
             (IsYear(t) && lb <= 2 && b >= 1 && b <= 12)))
        {
          text.Remove(i, i + 1, TextCategory::DATE);
          i += 1;
          continue;
        }
      }

      if (t.digits && (t.folded.size() == 8 || (t.folded.size() >= 10 && t.folded.size() <= 14)) &&
          IsCompactDate(t.folded))
      {
        text.Remove(i, i, TextCategory::DATE);   // 20230131, or a DICOM DT
        continue;
      }

      if (t.letters && MONTHS.count(t.folded) != 0)
      {
        auto near = [&text](size_t k) {
          std::string s = text.SeparatorBefore(k);
          return s.size() <= 3 && OnlyChars(s, " ,.-/");
        };
        size_t first = i, last = i;
        if (i > 0 && text.IsKept(i - 1) && near(i) && IsDay(text[i - 1]))
        {
          first = i - 1;   // 31 Jan ...
        }
        if (i + 1 < n && text.IsKept(i + 1) && near(i + 1))
        {
          if (IsYear(text[i + 1]))
          {
            last = i + 1;   // Jan 2023
          }
          else if (IsDay(text[i + 1]) && first == i)
          {
            last = i + 1;   // Jan 31 ...
            if (i + 2 < n && text.IsKept(i + 2) && near(i + 2) && IsYear(text[i + 2]))
            {
              last = i + 2;   // ... 2023
            }
          }
        }
        if (first != last)
        {
          text.Remove(first, last, TextCategory::DATE);
          i = last;
        }
      }
    }
  }


  void MarkTimes(TokenizedText& text)
  {
    const size_t n = text.GetCount();
    for (size_t i = 0; i + 1 < n; i++)
    {
      if (!IsKeptDigits(text, i) || !IsKeptDigits(text, i + 1) || text.SeparatorBefore(i + 1) != ":" ||
          text[i].folded.size() > 2 || ToNumber(text[i]) > 24 ||
          text[i + 1].folded.size() != 2 || ToNumber(text[i + 1]) > 59)
      {
        continue;
      }
      size_t last = i + 1;
      if (IsKeptDigits(text, last + 1) && text.SeparatorBefore(last + 1) == ":" &&
          text[last + 1].folded.size() == 2 && ToNumber(text[last + 1]) <= 60)
      {
        last++;
        if (IsKeptDigits(text, last + 1) && text.SeparatorBefore(last + 1) == ".")
        {
          last++;
        }
      }
      if (last + 1 < n && text.IsKept(last + 1))
      {
        const std::string& f = text[last + 1].folded;
        std::string s = text.SeparatorBefore(last + 1);
        if ((s.empty() || s == " ") && (f == "am" || f == "pm" || f == "h" || f == "hr" || f == "hrs"))
        {
          last++;
        }
      }
      text.Remove(i, last, TextCategory::TIME);
      i = last;
    }
  }


  void MarkPhoneNumbers(TokenizedText& text)
  {
    const size_t n = text.GetCount();
    std::vector<bool> fraction = DecimalFractions(text);
    auto usable = [&](size_t k) {
      return IsKeptDigits(text, k) && !fraction[k] && !(k + 1 < n && fraction[k + 1]);
    };

    for (size_t i = 0; i < n; i++)
    {
      if (!usable(i))
      {
        continue;
      }
      std::string before = text.SeparatorBefore(i);
      bool prefixed = !before.empty() && (before.back() == '+' || before.back() == '(');
      bool punctuated = false;
      size_t digits = text[i].folded.size();
      bool groupsOf2To4 = digits >= 2 && digits <= 4;
      size_t maxGroup = digits;
      size_t last = i;
      while (last + 1 < n && usable(last + 1))
      {
        std::string s = text.SeparatorBefore(last + 1);
        if (s.empty() || s.size() > 3 || !OnlyChars(s, " -.()"))
        {
          break;
        }
        punctuated = punctuated || s.find_first_of("-.()") != std::string::npos;
        last++;
        size_t d = text[last].folded.size();
        digits += d;
        maxGroup = std::max(maxGroup, d);
        groupsOf2To4 = groupsOf2To4 && d >= 2 && d <= 4;
      }
      size_t groups = last - i + 1;
      bool twoGroups = groups == 2 &&
        (prefixed || (text[i].folded.size() == 3 && text[last].folded.size() == 4 && punctuated));
      if (groups >= 2 && digits >= 7 && digits <= 15 && maxGroup <= 5 &&
          (twoGroups || (groups >= 3 && (punctuated || prefixed || groupsOf2To4))))
      {
        text.Remove(i, last, TextCategory::PHONE_NUMBER);
      }
      i = last;
    }
  }


  void MarkAges(TokenizedText& text)
  {
    const size_t n = text.GetCount();
    for (size_t i = 0; i < n; i++)
    {
      if (!text.IsKept(i))
      {
        continue;
      }
      const std::string& f = text[i].folded;
      if (!text[i].digits)
      {
        // "45y", "045Y" (the AS format), "45yo"
        size_t d = f.find_first_not_of("0123456789");
        if (d > 0 && d <= 3 && d != std::string::npos && AGE_UNITS.count(f.substr(d)) != 0)
        {
          text.Remove(i, i, TextCategory::AGE);
        }
        continue;
      }
      if (f.size() > 3 || i + 1 >= n || !text.IsKept(i + 1))
      {
        continue;
      }
      std::string s = text.SeparatorBefore(i + 1);
      if (!(s.empty() || s == " " || s == "-"))
      {
        continue;
      }
      const std::string& unit = text[i + 1].folded;
      bool old = i + 2 < n && text[i + 2].folded == "old" &&
                 (text.SeparatorBefore(i + 2) == " " || text.SeparatorBefore(i + 2) == "-");
      if (AGE_UNITS.count(unit) != 0 || (old && AGE_UNITS_WITH_OLD.count(unit) != 0))
      {
        text.Remove(i, old ? i + 2 : i + 1, TextCategory::AGE);
      }
    }
  }


  void MarkPersonNamesAfterTitles(TokenizedText& text)
  {
    static const std::set<std::string> TITLES = {
      "dr", "mr", "mrs", "ms", "miss", "mx", "prof", "sir", "dott", "herr", "frau", "mme", "mlle"
    };
    const size_t n = text.GetCount();
    for (size_t i = 0; i + 1 < n; i++)
    {
      std::string s = text.SeparatorBefore(i + 1);
      if (!text.IsKept(i) || TITLES.count(text[i].folded) == 0 || !(s == " " || s == "." || s == ". ") ||
          !text[i + 1].letters || !StartsUppercase(text, i + 1))
      {
        continue;
      }
      // "Dr. Smith", "Dr Jane A. Smith", "Prof. O'Neil": up to 4 capitalised words.
      size_t last = i + 1;
      while (last + 1 < n && last < i + 4 && text[last + 1].letters && StartsUppercase(text, last + 1))
      {
        std::string between = text.SeparatorBefore(last + 1);
        if (!(between == " " || between == ". " || between == "'" || between == "-"))
        {
          break;
        }
        last++;
      }
      text.Remove(i, last, TextCategory::PERSON_NAME);
      i = last;
    }
  }


  void MarkTitlesOfRemovedNames(TokenizedText& text)
  {
    static const std::set<std::string> TITLES = {
      "dr", "mr", "mrs", "ms", "miss", "mx", "prof", "sir", "dott", "herr", "frau", "mme", "mlle"
    };
    const size_t n = text.GetCount();
    for (int pass = 0; pass < 2; pass++)
    {
      for (size_t k = 0; k + 1 < n; k++)
      {
        // Forward, then backward: a removal may spread along a chain.
        size_t i = (pass == 0) ? k : n - 2 - k;
        std::string s = text.SeparatorBefore(i + 1);
        bool glued = !s.empty() && s.size() <= 3 && s.find_first_of(" \t\r\n") == std::string::npos;
        for (size_t kept : { i, i + 1 })
        {
          size_t other = (kept == i) ? i + 1 : i;
          if (!text.IsKept(kept) || text.IsKept(other))
          {
            continue;
          }
          const char* category = text[other].removed;
          if (kept == i && TITLES.count(text[i].folded) != 0 && (s == " " || s == "." || s == ". "))
          {
            text.Remove(i, i, category);   // "Dr Xylander"
          }
          else if (glued && (s == "'" || s == "\xE2\x80\x99") && text[kept].folded.size() == 1)
          {
            text.Remove(kept, kept, category);   // "O'Xylander", "Xylander's"
          }
          else if (glued && category == TextCategory::IDENTIFIER && !text[kept].letters &&
                   s.find_first_of("-/._#:") != std::string::npos)
          {
            text.Remove(kept, kept, category);   // "2023-000123"
          }
        }
      }
    }
  }


  void MarkIdentifiersAndUnknownWords(TokenizedText& text, const TextVocabulary& vocabulary)
  {
    std::vector<bool> fraction = DecimalFractions(text);
    for (size_t i = 0; i < text.GetCount(); i++)
    {
      if (!text.IsKept(i))
      {
        continue;
      }
      const TextToken& t = text[i];
      const std::string& f = t.folded;
      if (!t.foldable)
      {
        text.Remove(i, i, TextCategory::UNKNOWN_WORD);
      }
      else if (t.digits)
      {
        if (f.size() >= 5 && !fraction[i])
        {
          text.Remove(i, i, TextCategory::IDENTIFIER);
        }
      }
      else if (t.letters)
      {
        if (!vocabulary.Contains(f) && !IsCamelCaseOfWords(text.GetText().substr(t.begin, t.end - t.begin), vocabulary))
        {
          text.Remove(i, i, TextCategory::UNKNOWN_WORD);
        }
      }
      else if (!vocabulary.Contains(f))
      {
        // Letters and digits (or other foldable characters).
        size_t digitCount = static_cast<size_t>(std::count_if(f.begin(), f.end(),
                                                              [](char c) { return c >= '0' && c <= '9'; }));
        size_t lead = f.find_first_not_of("0123456789");
        bool measurement = lead > 0 && lead <= 5 && lead != std::string::npos && UNITS.count(f.substr(lead)) != 0;
        bool size = f.find_first_not_of("0123456789x") == std::string::npos &&
                    f.front() != 'x' && f.back() != 'x' && f.find("xx") == std::string::npos;
        bool bValue = f.size() >= 2 && f.size() <= 5 && f[0] == 'b' &&
                      f.find_first_not_of("0123456789", 1) == std::string::npos;
        bool shortCode = digitCount <= 2 && f.size() <= 4 &&
                         f.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == std::string::npos;
        // Few digits between vocabulary words: "3scan", "diff2", "t2map".
        bool wordsAndDigits = digitCount <= 2;
        for (size_t k = 0; k < f.size() && wordsAndDigits;)
        {
          bool isDigit = (f[k] >= '0' && f[k] <= '9');
          size_t end = k;
          while (end < f.size() && ((f[end] >= '0' && f[end] <= '9') == isDigit))
          {
            end++;
          }
          wordsAndDigits = isDigit || vocabulary.Contains(f.substr(k, end - k));
          k = end;
        }
        if (!(measurement || size || bValue || shortCode || wordsAndDigits))
        {
          text.Remove(i, i, TextCategory::IDENTIFIER);
        }
      }
    }
  }
}
