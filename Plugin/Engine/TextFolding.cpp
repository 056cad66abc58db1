#include "TextFolding.h"

#include <cstdint>

namespace Deid
{
  namespace
  {
    // ASCII folding of U+00C0..U+017F (Latin-1 Supplement and Latin
    // Extended-A); "" = no folding (× and ÷ are not letters).
    const char* const LATIN[] = {
      // U+00C0
      "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
      "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
      "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
      "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
      // U+0100
      "a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",
      "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",
      "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",
      "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",
      "l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",
      "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",
      "s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",
      "u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s"
    };

    bool AppendCodePoint(uint32_t cp, std::string& out)
    {
      if (cp < 0x80)
      {
        out += (cp >= 'A' && cp <= 'Z') ? static_cast<char>(cp - 'A' + 'a') : static_cast<char>(cp);
        return true;
      }
      if (cp >= 0xC0 && cp <= 0x17F)
      {
        const char* folded = LATIN[cp - 0xC0];
        if (*folded == '\0')
        {
          return false;
        }
        out += folded;
        return true;
      }
      return false;
    }

    // Decodes UTF-8; false if the bytes are not valid UTF-8.
    bool DecodeUtf8(const std::string& bytes, std::string& folded, bool& foldable)
    {
      foldable = true;
      size_t i = 0;
      while (i < bytes.size())
      {
        unsigned char c = static_cast<unsigned char>(bytes[i]);
        uint32_t cp;
        size_t extra;
        if (c < 0x80) { cp = c; extra = 0; }
        else if ((c & 0xE0) == 0xC0 && c >= 0xC2) { cp = c & 0x1F; extra = 1; }
        else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; extra = 2; }
        else if ((c & 0xF8) == 0xF0 && c <= 0xF4) { cp = c & 0x07; extra = 3; }
        else { return false; }
        if (i + extra >= bytes.size())
        {
          return false;
        }
        for (size_t k = 1; k <= extra; k++)
        {
          unsigned char d = static_cast<unsigned char>(bytes[i + k]);
          if ((d & 0xC0) != 0x80)
          {
            return false;
          }
          cp = (cp << 6) | (d & 0x3F);
        }
        if (foldable && !AppendCodePoint(cp, folded))
        {
          foldable = false;
        }
        i += extra + 1;
      }
      return true;
    }
  }

  bool FoldWord(const std::string& bytes, std::string& folded)
  {
    folded.clear();
    bool foldable = true;
    if (DecodeUtf8(bytes, folded, foldable))
    {
      return foldable;
    }

    // Not UTF-8: ISO 8859-1 (one byte, one character).
    folded.clear();
    bool ok = true;
    for (unsigned char c : bytes)
    {
      if (!AppendCodePoint(c, folded))
      {
        ok = false;
      }
    }
    return ok;
  }
}
