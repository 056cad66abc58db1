#include "TextCleaner.h"

#include "IdentifyingMatch.h"
#include "TextPatterns.h"
#include "TextVocabulary.h"

#include <algorithm>

namespace Deid
{
  namespace
  {
    const size_t MAXIMUM_LENGTH = 1024 * 1024;

    std::vector<std::string> Split(const std::string& value, char separator)
    {
      std::vector<std::string> parts;
      size_t start = 0;
      for (;;)
      {
        size_t end = value.find(separator, start);
        parts.push_back(value.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos)
        {
          return parts;
        }
        start = end + 1;
      }
    }

    void AddCategory(std::vector<std::string>* categories, const char* category)
    {
      if (categories != nullptr && std::find(categories->begin(), categories->end(), category) == categories->end())
      {
        categories->push_back(category);
      }
    }

    std::string Clean(const std::string& text, const IdentifyingMatcher& identifying,
                      std::vector<std::string>* categories, bool& allKept, bool personName = false)
    {
      TokenizedText tokens(text);
      identifying.Mark(tokens);               // the instance's own values first
      if (personName)
      {
        // Every word of a person name is a name, even an English word
        // ("Brown", "Rose"): only numbers may stay.
        for (size_t i = 0; i < tokens.GetCount(); i++)
        {
          if (!tokens[i].digits)
          {
            tokens.Remove(i, i, TextCategory::PERSON_NAME);
          }
        }
      }
      MarkUrlsAndEmails(tokens);
      MarkDates(tokens);
      MarkTimes(tokens);
      MarkPhoneNumbers(tokens);
      MarkAges(tokens);
      MarkPersonNamesAfterTitles(tokens);
      MarkIdentifiersAndUnknownWords(tokens, TextVocabulary::Get());
      MarkTitlesOfRemovedNames(tokens);
      allKept = true;
      for (size_t i = 0; i < tokens.GetCount(); i++)
      {
        if (!tokens.IsKept(i))
        {
          AddCategory(categories, tokens[i].removed);
          allKept = false;
        }
      }
      return tokens.Render();
    }

    // A person name keeps its structure: groups (=) and components (^); its
    // words are all removed (it names a person), numbers may stay.
    std::string CleanPersonName(const std::string& name, const IdentifyingMatcher& identifying,
                                std::vector<std::string>* categories)
    {
      std::vector<std::string> groups = Split(name, '=');
      for (std::string& group : groups)
      {
        std::vector<std::string> components = Split(group, '^');
        for (std::string& component : components)
        {
          bool allKept;
          component = Clean(component, identifying, categories, allKept, true);
        }
        while (!components.empty() && components.back().empty())
        {
          components.pop_back();
        }
        group.clear();
        for (size_t i = 0; i < components.size(); i++)
        {
          group += (i == 0 ? "" : "^") + components[i];
        }
      }
      while (!groups.empty() && groups.back().empty())
      {
        groups.pop_back();
      }
      std::string out;
      for (size_t i = 0; i < groups.size(); i++)
      {
        out += (i == 0 ? "" : "=") + groups[i];
      }
      return (out.find_first_not_of("^=") == std::string::npos) ? std::string() : out;
    }
  }


  VocabularyTextCleaner::VocabularyTextCleaner()
  {
    // The vocabulary (about 10 MB) is loaded on the first cleaned text, not
    // here: operations without a Clean option never pay for it.
  }


  std::string VocabularyTextCleaner::CleanFreeText(const std::string& text,
                                                   const std::vector<IdentifyingValue>* identifying,
                                                   std::vector<std::string>* removedCategories)
  {
    IdentifyingMatcher matcher(identifying != nullptr ? *identifying : std::vector<IdentifyingValue>());
    bool allKept;
    return Clean(text, matcher, removedCategories, allKept);
  }


  bool VocabularyTextCleaner::CleanText(const CleaningContext& context, std::string& value)
  {
    const std::string& vr = context.vr;
    // Multi-valued text VRs (PS3.5 6.2: "\" separates values); ST, LT and UT
    // are single-valued and may contain a backslash as text.
    bool multiValued = (vr == "SH" || vr == "LO" || vr == "UC" || vr == "PN" || vr == "CS");
    bool singleValued = (vr == "ST" || vr == "LT" || vr == "UT");
    if ((!multiValued && !singleValued) || value.size() > MAXIMUM_LENGTH)
    {
      return false;
    }
    if (value.find_first_not_of(" \\") == std::string::npos)
    {
      return true;   // nothing to clean
    }

    static const std::vector<IdentifyingValue> none;
    IdentifyingMatcher identifying(context.identifying != nullptr ? *context.identifying : none);

    if (vr == "CS")
    {
      // A code string is an enumerated value: kept whole or not at all.
      std::vector<std::string> ignored;
      bool allKept;
      Clean(value, identifying, &ignored, allKept);
      return allKept;
    }

    std::vector<std::string> values = singleValued ? std::vector<std::string>{ value } : Split(value, '\\');
    std::vector<std::string> cleaned;
    for (const std::string& single : values)
    {
      std::string result;
      if (vr == "PN")
      {
        result = CleanPersonName(single, identifying, context.removedCategories);
      }
      else
      {
        bool allKept;
        result = Clean(single, identifying, context.removedCategories, allKept);
      }
      if (!result.empty())
      {
        cleaned.push_back(result);
      }
    }

    std::string joined;
    for (size_t i = 0; i < cleaned.size(); i++)
    {
      joined += (i == 0 ? "" : "\\") + cleaned[i];
    }
    if (joined.empty())
    {
      return false;   // nothing left: the Basic Profile action (X, Z or D by the Type)
    }
    if (joined.size() < value.size() || joined != value)
    {
      value = joined;
    }
    return true;
  }
}
