// The Options of the Basic Application Level Confidentiality Profile
// (PS3.15 E.3), named as in Annex E, with their CID 7050 codes (PS3.16).
#pragma once

#include <bitset>
#include <string>
#include <vector>

namespace Deid
{
  enum class Option
  {
    // The first ten are the option columns of Table E.1-1, in the table's order.
    RetainSafePrivate = 0,            // 113111, E.3.10
    RetainUIDs,                       // 113110, E.3.9
    RetainDeviceIdentity,             // 113109, E.3.8
    RetainInstitutionIdentity,        // 113112, E.3.11
    RetainPatientCharacteristics,     // 113108, E.3.7
    RetainLongitudinalFullDates,      // 113106, E.3.6
    RetainLongitudinalModifiedDates,  // 113107, E.3.6
    CleanDescriptors,                 // 113105, E.3.5
    CleanStructuredContent,           // 113104, E.3.4
    CleanGraphics,                    // 113103, E.3.3
    // Options that act on pixel data rather than attributes.
    CleanPixelData,                   // 113101, E.3.1
    CleanRecognizableVisualFeatures   // 113102, E.3.2
  };

  constexpr size_t OPTION_COUNT = 12;
  constexpr size_t TABLE_OPTION_COLUMNS = 10;

  const char* GetOptionName(Option option);        // e.g. "RetainSafePrivate"
  const char* GetOptionCodeValue(Option option);   // CID 7050 code value, e.g. "113111"
  bool IsOptionImplemented(Option option);         // every option is implemented now

  // Accepts an option name (as above, case-sensitive) or a CID 7050 code value
  // ("113111"). Throws DeidError(BadOption) for anything else.
  Option ParseOption(const std::string& nameOrCode);

  std::vector<Option> AllOptions();

  class OptionSet
  {
  private:
    std::bitset<OPTION_COUNT> bits_;

  public:
    OptionSet() = default;

    OptionSet(std::initializer_list<Option> options)
    {
      for (Option o : options)
      {
        Add(o);
      }
    }

    void Add(Option option)
    {
      bits_.set(static_cast<size_t>(option));
    }

    bool Has(Option option) const
    {
      return bits_.test(static_cast<size_t>(option));
    }

    bool IsEmpty() const
    {
      return bits_.none();
    }

    std::vector<Option> List() const;

    // "CleanDescriptors,113110" -> {CleanDescriptors, RetainUIDs}. Whitespace is ignored.
    static OptionSet Parse(const std::string& commaSeparated);
    static OptionSet Parse(const std::vector<std::string>& names);

    bool operator==(const OptionSet& other) const
    {
      return bits_ == other.bits_;
    }
  };
}
