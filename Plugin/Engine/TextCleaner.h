// The text cleaner of action C (PS3.15 E.3.5 Clean Descriptors; also used
// for the text of E.3.4 Clean Structured Content and E.3.3 Clean Graphics).
// It removes the instance's own identifying values, dates, times, phone
// numbers, e-mail addresses, URLs, ages and identifier-like runs of digits,
// and keeps only the words of the embedded vocabulary (TextVocabulary.h);
// measurements with units are kept. Stateless and thread-safe.
#pragma once

#include "Providers.h"

#include <string>

namespace Deid
{
  class VocabularyTextCleaner : public ITextCleaner
  {
  public:
    // Loads the vocabulary now (once per process), so that a missing or
    // malformed embedded file fails at start-up rather than mid-job.
    VocabularyTextCleaner();

    // SH, LO, ST, LT, UT, UC and PN (each value of a multi-valued one, each
    // component of a name: every word of a PN is a name and is removed, so a
    // PN keeps only numbers, or gives false); CS only when every word is kept. Returns false
    // (the Basic Profile action applies, which knows the attribute's Type)
    // for other VRs, when nothing is left, or for values over 1 MB.
    bool CleanText(const CleaningContext& context, std::string& value) override;

    // Sequences are cleaned item by item by the walker.
    bool CleanSequence(const CleaningContext&, DcmItem&) override
    {
      return false;
    }

    // Cleans one free text (no VR rules); adds the categories removed.
    static std::string CleanFreeText(const std::string& text, const std::vector<IdentifyingValue>* identifying,
                                     std::vector<std::string>* removedCategories);
  };
}
