// Finds the instance's own identifying values in a text to clean (PS3.15
// E.3.5: a cleaned descriptor must not repeat the patient's name, IDs or
// dates). Values are compared folded (case and accents): person names by
// their components (split at ^, = and spaces), other values whole (also with
// their punctuation removed: "AB-1234" matches "AB1234"), dates in their
// common written forms (2023-01-31, 31/01/2023, 01.31.2023, 20230131,
// "Jan 31 2023", "31 January 2023").
#pragma once

#include "Providers.h"
#include "TextTokens.h"

#include <string>
#include <vector>

namespace Deid
{
  class IdentifyingMatcher
  {
  private:
    // One way an identifying value can be written: a sequence of tokens
    // (numbers compared by value, for dates) or the concatenation of tokens.
    struct Needle
    {
      std::vector<std::string> tokens;   // folded; a number is compared by value if numeric
      bool numeric = false;              // the digit tokens are compared by value (dates)
    };

    std::vector<Needle> sequences_;
    std::vector<std::string> compacts_;   // folded letters and digits, no separators

    void AddText(const std::string& value, bool personName);
    void AddDate(const std::string& value);

  public:
    explicit IdentifyingMatcher(const std::vector<IdentifyingValue>& values);

    bool IsEmpty() const { return sequences_.empty() && compacts_.empty(); }

    // Marks every occurrence removed, category "identifying value".
    void Mark(TokenizedText& text) const;
  };
}
