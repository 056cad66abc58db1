// DICOM attributes named by keyword ("Modality", from the DCMTK data
// dictionary, PS3.6) or by tag ("0008,0060"), as rules name them. The key
// of an attribute is its tag as "gggg,eeee" in lower-case hex, as in
// Orthanc's /instances/{id}/tags?short and in Rules::RuleInput::tags.
#pragma once

#include <string>

namespace Deid
{
  namespace Rules
  {
    // "Modality" or "0008,0060" (any case) -> "0008,0060". Returns false if
    // the text is neither a keyword of the dictionary nor a tag.
    bool ParseAttribute(const std::string& text, std::string& key);

    // "0008,0060" -> "Modality"; "" for tags the dictionary does not name
    // (private tags, retired ranges).
    std::string GetKeyword(const std::string& key);

    // The keyword if known, else the key: for messages.
    std::string DescribeAttribute(const std::string& key);
  }
}
