// The Options of the Basic Application Level Confidentiality Profile
// (PS3.15 E.3) and their CID 7050 "De-identification Method" codes (PS3.16).
#include "Option.h"

#include "DeidError.h"
#include "SafeText.h"

#include <cctype>

namespace Deid
{
  namespace
  {
    struct OptionInfo
    {
      Option option;
      const char* name;
      const char* codeValue;
      bool implemented;
    };

    // Indexed by Option. Code values of CID 7050.
    const OptionInfo OPTIONS[OPTION_COUNT] =
    {
      { Option::RetainSafePrivate, "RetainSafePrivate", "113111", true },                              // E.3.10
      { Option::RetainUIDs, "RetainUIDs", "113110", true },                                            // E.3.9
      { Option::RetainDeviceIdentity, "RetainDeviceIdentity", "113109", true },                        // E.3.8
      { Option::RetainInstitutionIdentity, "RetainInstitutionIdentity", "113112", true },              // E.3.11
      { Option::RetainPatientCharacteristics, "RetainPatientCharacteristics", "113108", true },        // E.3.7
      { Option::RetainLongitudinalFullDates, "RetainLongitudinalFullDates", "113106", true },          // E.3.6
      { Option::RetainLongitudinalModifiedDates, "RetainLongitudinalModifiedDates", "113107", true },  // E.3.6
      { Option::CleanDescriptors, "CleanDescriptors", "113105", true },                                // E.3.5
      { Option::CleanStructuredContent, "CleanStructuredContent", "113104", true },                    // E.3.4
      { Option::CleanGraphics, "CleanGraphics", "113103", true },                                      // E.3.3
      { Option::CleanPixelData, "CleanPixelData", "113101", true }  ,                                   // E.3.1
      { Option::CleanRecognizableVisualFeatures, "CleanRecognizableVisualFeatures", "113102", true }  // E.3.2
    };

    const OptionInfo& GetInfo(Option option)
    {
      size_t index = static_cast<size_t>(option);
      if (index >= OPTION_COUNT)
      {
        throw DeidError(ErrorCode::BadOption, "Unknown option value");
      }
      return OPTIONS[index];
    }

    std::string Trim(const std::string& s)
    {
      size_t begin = 0;
      size_t end = s.size();
      while (begin < end && std::isspace(static_cast<unsigned char>(s[begin])))
      {
        begin++;
      }
      while (end > begin && std::isspace(static_cast<unsigned char>(s[end - 1])))
      {
        end--;
      }
      return s.substr(begin, end - begin);
    }
  }

  const char* GetOptionName(Option option)
  {
    return GetInfo(option).name;
  }

  const char* GetOptionCodeValue(Option option)
  {
    return GetInfo(option).codeValue;
  }

  bool IsOptionImplemented(Option option)
  {
    return GetInfo(option).implemented;
  }

  Option ParseOption(const std::string& nameOrCode)
  {
    for (const OptionInfo& info : OPTIONS)
    {
      if (nameOrCode == info.name || nameOrCode == info.codeValue)
      {
        return info.option;
      }
    }

    // The name comes from a caller or the configuration, not patient data:
    // echoed escaped and bounded (SafeText.h).
    throw DeidError(ErrorCode::BadOption, "Unknown de-identification option: " + SafeText::Quote(nameOrCode) +
                    " (expected an option name of PS3.15 E.3 or a CID 7050 code value)");
  }

  std::vector<Option> AllOptions()
  {
    std::vector<Option> result;
    for (const OptionInfo& info : OPTIONS)
    {
      result.push_back(info.option);
    }
    return result;
  }

  std::vector<Option> OptionSet::List() const
  {
    std::vector<Option> result;
    for (size_t i = 0; i < OPTION_COUNT; i++)
    {
      if (bits_.test(i))
      {
        result.push_back(static_cast<Option>(i));
      }
    }
    return result;
  }

  OptionSet OptionSet::Parse(const std::string& commaSeparated)
  {
    std::vector<std::string> names;
    size_t start = 0;
    for (;;)
    {
      size_t comma = commaSeparated.find(',', start);
      names.push_back(commaSeparated.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos)
      {
        break;
      }
      start = comma + 1;
    }

    // "" and a trailing comma give no option, but "A,,B" is an error.
    if (!names.empty() && Trim(names.back()).empty())
    {
      names.pop_back();
    }
    return Parse(names);
  }

  OptionSet OptionSet::Parse(const std::vector<std::string>& names)
  {
    OptionSet result;
    for (const std::string& name : names)
    {
      result.Add(ParseOption(Trim(name)));
    }
    return result;
  }
}
