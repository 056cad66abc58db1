#include "Rules/DicomTagNames.h"

#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcdicent.h>
#include <dcmtk/dcmdata/dctag.h>

#include <cctype>
#include <cstdio>

namespace Deid
{
  namespace Rules
  {
    static bool IsHex(const std::string& s)
    {
      for (char c : s)
      {
        if (!isxdigit(static_cast<unsigned char>(c)))
        {
          return false;
        }
      }
      return true;
    }

    static std::string FormatKey(unsigned int group, unsigned int element)
    {
      char buffer[16];
      snprintf(buffer, sizeof(buffer), "%04x,%04x", group & 0xffff, element & 0xffff);
      return buffer;
    }

    bool ParseAttribute(const std::string& text, std::string& key)
    {
      if (text.size() == 9 && text[4] == ',' && IsHex(text.substr(0, 4)) && IsHex(text.substr(5, 4)))
      {
        key = FormatKey(std::stoul(text.substr(0, 4), nullptr, 16), std::stoul(text.substr(5, 4), nullptr, 16));
        return true;
      }

      if (text.empty() || !isalpha(static_cast<unsigned char>(text[0])))
      {
        return false;
      }
      for (char c : text)
      {
        if (!isalnum(static_cast<unsigned char>(c)))
        {
          return false;
        }
      }

      const DcmDataDictionary& dictionary = dcmDataDict.rdlock();
      const DcmDictEntry* entry = dictionary.findEntry(text.c_str());
      bool found = (entry != nullptr && entry->getPrivateCreator() == nullptr &&
                    entry->getGroupRangeRestriction() == DcmDictRange_Unspecified &&
                    entry->getElementRangeRestriction() == DcmDictRange_Unspecified);
      if (found)
      {
        key = FormatKey(entry->getGroup(), entry->getElement());
      }
      dcmDataDict.rdunlock();
      return found;
    }

    std::string GetKeyword(const std::string& key)
    {
      if (key.size() != 9 || key[4] != ',' || !IsHex(key.substr(0, 4)) || !IsHex(key.substr(5, 4)))
      {
        return std::string();
      }
      DcmTagKey tag(static_cast<Uint16>(std::stoul(key.substr(0, 4), nullptr, 16)),
                    static_cast<Uint16>(std::stoul(key.substr(5, 4), nullptr, 16)));
      if (tag.isPrivate())
      {
        return std::string();
      }

      std::string keyword;
      const DcmDataDictionary& dictionary = dcmDataDict.rdlock();
      const DcmDictEntry* entry = dictionary.findEntry(tag, nullptr);
      if (entry != nullptr && entry->getTagName() != nullptr &&
          entry->getGroupRangeRestriction() == DcmDictRange_Unspecified &&
          entry->getElementRangeRestriction() == DcmDictRange_Unspecified)
      {
        keyword = entry->getTagName();
      }
      dcmDataDict.rdunlock();
      return keyword;
    }

    std::string DescribeAttribute(const std::string& key)
    {
      std::string keyword = GetKeyword(key);
      return keyword.empty() ? key : keyword;
    }
  }
}
