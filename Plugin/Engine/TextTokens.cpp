#include "TextTokens.h"

#include "TextFolding.h"

namespace Deid
{
  TokenizedText::TokenizedText(const std::string& text) :
    text_(text)
  {
    size_t i = 0;
    while (i < text.size())
    {
      if (!IsWordByte(static_cast<unsigned char>(text[i])))
      {
        i++;
        continue;
      }
      TextToken token;
      token.begin = i;
      while (i < text.size() && IsWordByte(static_cast<unsigned char>(text[i])))
      {
        i++;
      }
      token.end = i;
      token.foldable = FoldWord(text.substr(token.begin, token.end - token.begin), token.folded);
      if (token.foldable)
      {
        bool digits = !token.folded.empty();
        bool letters = !token.folded.empty();
        for (char c : token.folded)
        {
          digits = digits && (c >= '0' && c <= '9');
          letters = letters && (c >= 'a' && c <= 'z');
        }
        token.digits = digits;
        token.letters = letters;
      }
      tokens_.push_back(token);
    }
  }


  std::string TokenizedText::SeparatorBefore(size_t i) const
  {
    size_t from = (i == 0) ? 0 : tokens_[i - 1].end;
    size_t to = (i == tokens_.size()) ? text_.size() : tokens_[i].begin;
    return text_.substr(from, to - from);
  }


  void TokenizedText::Remove(size_t first, size_t last, const char* category)
  {
    for (size_t i = first; i <= last && i < tokens_.size(); i++)
    {
      if (tokens_[i].removed == nullptr)
      {
        tokens_[i].removed = category;
      }
    }
  }


  namespace
  {
    bool HasSpace(const std::string& s)
    {
      return s.find_first_of(" \t\r\n\f\v") != std::string::npos;
    }

    // Drops brackets that lost their partner when words were removed.
    std::string BalanceBrackets(const std::string& text)
    {
      std::vector<bool> drop(text.size(), false);
      std::vector<size_t> open;
      for (size_t i = 0; i < text.size(); i++)
      {
        char c = text[i];
        if (c == '(' || c == '[' || c == '{')
        {
          open.push_back(i);
        }
        else if (c == ')' || c == ']' || c == '}')
        {
          char expected = (c == ')') ? '(' : (c == ']') ? '[' : '{';
          if (!open.empty() && text[open.back()] == expected)
          {
            open.pop_back();
          }
          else
          {
            drop[i] = true;
          }
        }
      }
      for (size_t i : open)
      {
        drop[i] = true;
      }
      std::string out;
      for (size_t i = 0; i < text.size(); i++)
      {
        if (!drop[i])
        {
          out += text[i];
        }
      }
      return out;
    }

    std::string Trim(const std::string& s)
    {
      const char* spaces = " \t\r\n\f\v";
      size_t first = s.find_first_not_of(spaces);
      if (first == std::string::npos)
      {
        return std::string();
      }
      size_t last = s.find_last_not_of(spaces);
      return s.substr(first, last - first + 1);
    }

    std::string CollapseSpaces(const std::string& s)
    {
      std::string out;
      for (char c : s)
      {
        if (c == ' ' && !out.empty() && out.back() == ' ')
        {
          continue;
        }
        out += c;
      }
      return out;
    }
  }


  std::string TokenizedText::Render() const
  {
    bool anyRemoved = false;
    bool anyKept = false;
    for (const TextToken& t : tokens_)
    {
      anyRemoved = anyRemoved || t.removed != nullptr;
      anyKept = anyKept || t.removed == nullptr;
    }
    if (!anyRemoved)
    {
      return text_;
    }
    if (!anyKept)
    {
      return std::string();
    }

    std::string out;
    bool started = false;            // a kept token was written
    bool gapHasRemoved = false;      // since the last kept token
    std::string gapFirst;            // the separator right after the last kept token
    bool gapSpace = false;
    bool gapLine = false;
    for (size_t i = 0; i <= tokens_.size(); i++)
    {
      std::string separator = SeparatorBefore(i);
      if (i == tokens_.size() || tokens_[i].removed == nullptr)
      {
        if (i < tokens_.size() || !gapHasRemoved)
        {
          if (!started)
          {
            if (!gapHasRemoved)
            {
              out += separator;      // leading text before the first word
            }
          }
          else if (!gapHasRemoved)
          {
            out += separator;
          }
          else
          {
            gapSpace = gapSpace || HasSpace(separator);
            gapLine = gapLine || separator.find('\n') != std::string::npos;
            // The punctuation that followed the kept word stays ("Findings:").
            std::string punctuation = gapFirst.substr(0, gapFirst.find_first_of(" \t\r\n\f\v"));
            out += gapLine ? punctuation + "\n" : gapSpace ? punctuation + " " : gapFirst;
          }
        }
        if (i < tokens_.size())
        {
          out.append(text_, tokens_[i].begin, tokens_[i].end - tokens_[i].begin);
          started = true;
        }
        gapHasRemoved = false;
        gapSpace = false;
        gapLine = false;
        gapFirst.clear();
      }
      else
      {
        if (!gapHasRemoved)
        {
          gapFirst = separator;
        }
        gapHasRemoved = true;
        gapSpace = gapSpace || HasSpace(separator);
        gapLine = gapLine || separator.find('\n') != std::string::npos;
      }
    }
    return Trim(CollapseSpaces(BalanceBrackets(out)));
  }
}
