// The words the text cleaner may keep (PS3.15 E.3.5: "Clean Descriptors" keeps
// what is useful and removes what identifies): Profiles/Vocabulary.json, made
// by Resources/GenerateVocabulary.py from wamerican's lowercase words, DICOM
// code meanings and keywords, and Resources/ImagingVocabulary.txt; embedded.
#pragma once

#include <string>
#include <unordered_set>

namespace Deid
{
  class TextVocabulary
  {
  private:
    std::unordered_set<std::string> words_;

  public:
    // Decodes the front-coded "Words" string (see GenerateVocabulary.py).
    explicit TextVocabulary(const std::string& frontCodedWords);

    // The embedded vocabulary, loaded once (thread-safe static); throws
    // DeidError if the embedded file is missing or malformed.
    static const TextVocabulary& Get();

    // `folded` is lowercase ASCII (FoldWord).
    bool Contains(const std::string& folded) const
    {
      return words_.find(folded) != words_.end();
    }

    size_t GetSize() const
    {
      return words_.size();
    }
  };
}
