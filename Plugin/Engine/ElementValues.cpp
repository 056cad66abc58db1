// Reading and formatting element values for the walk over a data set:
// tags as "(gggg,eeee)", multi-valued strings, values encoded as UN.

#include "ElementValues.h"
#include "DummyValues.h"

#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcdicent.h>

namespace Deid
{
  std::string FormatTag(const DcmTagKey& key)
  {
    char buffer[16];
    snprintf(buffer, sizeof(buffer), "(%04X,%04X)", key.getGroup(), key.getElement());
    return buffer;
  }

  bool IsPrivateCreatorTag(const DcmTagKey& key)
  {
    return (key.getGroup() & 1) != 0 && key.getElement() >= 0x0010 && key.getElement() <= 0x00FF;
  }

  // The VR from the DCMTK dictionary, EVR_UN if unknown.
  DcmEVR DictionaryVR(const DcmTagKey& key, const std::string& privateCreator)
  {
    const DcmDataDictionary& dict = dcmDataDict.rdlock();
    const DcmDictEntry* entry = dict.findEntry(key, privateCreator.empty() ? nullptr : privateCreator.c_str());
    DcmEVR vr = (entry != nullptr) ? entry->getEVR() : EVR_UN;
    dcmDataDict.rdunlock();
    return NormalizeVR(vr);
  }

  bool IsInDictionary(const DcmTagKey& key, const std::string& privateCreator)
  {
    const DcmDataDictionary& dict = dcmDataDict.rdlock();
    const bool known = dict.findEntry(key, privateCreator.empty() ? nullptr : privateCreator.c_str()) != nullptr;
    dcmDataDict.rdunlock();
    return known;
  }

    std::vector<std::string> SplitValues(const std::string& value)
  {
    std::vector<std::string> result;
    size_t start = 0;
    for (;;)
    {
      size_t pos = value.find('\\', start);
      result.push_back(value.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
      if (pos == std::string::npos)
      {
        return result;
      }
      start = pos + 1;
    }
  }

  std::string JoinValues(const std::vector<std::string>& values)
  {
    std::string s;
    for (size_t i = 0; i < values.size(); i++)
    {
      if (i > 0)
      {
        s += '\\';
      }
      s += values[i];
    }
    return s;
  }

  std::string Trim(const std::string& s)
  {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos)
    {
      return std::string();
    }
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
  }

  // The value of a string element, also when it is encoded as UN.
  bool GetStringValue(DcmElement& element, bool encodedUN, std::string& value)
  {
    if (encodedUN)
    {
      Uint8* bytes = nullptr;
      Uint32 length = element.getLength();
      if (length == 0)
      {
        value.clear();
        return true;
      }
      if (element.getUint8Array(bytes).bad() || bytes == nullptr)
      {
        return false;
      }
      value.assign(reinterpret_cast<const char*>(bytes), length);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\0'))
      {
        value.pop_back();
      }
      return true;
    }

    OFString s;
    if (element.getOFStringArray(s).bad())
    {
      return false;
    }
    value.assign(s.c_str(), s.length());
    return true;
  }

  std::string GetString(DcmItem& item, const DcmTagKey& key)
  {
    DcmElement* element = nullptr;
    if (item.findAndGetElement(key, element, OFFalse).bad() || element == nullptr)
    {
      return std::string();
    }
    std::string value;
    bool un = (NormalizeVR(element->ident()) == EVR_UN);
    if (!GetStringValue(*element, un, value))
    {
      return std::string();
    }
    return Trim(value);
  }
}
