// Words of a text value for the text cleaner (action C, PS3.15 E.3.5): the
// value is cut into tokens (runs of letters and digits) and the separators
// between them; each detector marks tokens as removed with a category.
#pragma once

#include <string>
#include <vector>

namespace Deid
{
  struct TextToken
  {
    size_t begin = 0;          // byte offsets in the value
    size_t end = 0;
    std::string folded;        // lowercase ASCII, accents folded (empty if not foldable)
    bool foldable = true;
    bool digits = false;       // only ASCII digits
    bool letters = false;      // only letters (after folding)
    const char* removed = nullptr;   // the category that removed it; nullptr = kept
  };

  class TokenizedText
  {
  private:
    const std::string& text_;
    std::vector<TextToken> tokens_;

  public:
    explicit TokenizedText(const std::string& text);

    const std::string& GetText() const { return text_; }
    size_t GetCount() const { return tokens_.size(); }
    TextToken& operator[](size_t i) { return tokens_[i]; }
    const TextToken& operator[](size_t i) const { return tokens_[i]; }

    // The text between token i-1 and token i (i = 0: before the first token;
    // i = GetCount(): after the last).
    std::string SeparatorBefore(size_t i) const;

    bool IsKept(size_t i) const { return tokens_[i].removed == nullptr; }

    // Marks tokens [first, last] removed, keeping the first category given.
    void Remove(size_t first, size_t last, const char* category);

    // The value with the removed tokens cut out, readable: the gap around
    // removed words becomes one space (a line break if it held one), or the
    // first separator when it held no space ("Head^Smith^Routine" ->
    // "Head^Routine"); brackets left unmatched are dropped. Unchanged if
    // nothing was removed; empty if every token was removed.
    std::string Render() const;
  };
}
