// Case and accent folding for the text cleaner (action C, PS3.15 E.3.5): words
// of a value and the instance's identifying values are compared folded, so
// "MÜLLER", "Müller" and "muller" are one word.
#pragma once

#include <string>

namespace Deid
{
  // Lowercase ASCII of one word (a run of letters and digits). The bytes are
  // read as UTF-8 when they are valid UTF-8, else as ISO 8859-1 (the text of
  // one data set is folded the same way in both cases). Latin letters with
  // accents become their base letter ("é" -> "e", "ß" -> "ss"). Returns false
  // if a character has no ASCII folding (e.g. Cyrillic, CJK): such a word can
  // never be vouched for by the vocabulary.
  bool FoldWord(const std::string& bytes, std::string& folded);

  // True for the bytes that make words: ASCII letters and digits, and every
  // byte >= 0x80 (letters of other character sets).
  inline bool IsWordByte(unsigned char c)
  {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
  }
}
