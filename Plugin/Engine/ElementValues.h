// Reading and formatting element values for the walk over a data set.
#pragma once

#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcelem.h>

#include <string>
#include <vector>

namespace Deid
{
  // "(gggg,eeee)"
  std::string FormatTag(const DcmTagKey& key);

  // (gggg,0010-00FF) with gggg odd.
  bool IsPrivateCreatorTag(const DcmTagKey& key);

  // The VR from the DCMTK dictionary, EVR_UN if unknown.
  DcmEVR DictionaryVR(const DcmTagKey& key, const std::string& privateCreator);

  // True if the DCMTK dictionary knows the tag (its VR may be UN, e.g.
  // Selector UN Value (0072,006D)).
  bool IsInDictionary(const DcmTagKey& key, const std::string& privateCreator);

  // Values of a multi-valued string, split on '\'; and joined back.
  std::vector<std::string> SplitValues(const std::string& value);
  std::string JoinValues(const std::vector<std::string>& values);

  std::string Trim(const std::string& s);

  // The value of a string element, also when it is encoded as UN.
  bool GetStringValue(DcmElement& element, bool encodedUN, std::string& value);

  // The trimmed string value of an element of the item, empty if absent.
  std::string GetString(DcmItem& item, const DcmTagKey& key);
}
