// Clean Structured Content (PS3.15 E.3.4): Table E.1-1 gives C to Acquisition
// Context (0040,0555), Content (0040,A730), Specimen Preparation (0040,0610)
// and Waveform Annotation (0040,B020) Sequences. Instead of the Basic action
// (the tree removed or made of dummies), the tree is kept, item by item at
// any depth (nested Content Sequences, Content Template Sequence, code and
// measurement sequences), and each value is handled by what it is:
//   - attributes listed in Table E.1-1 get their action as anywhere else:
//     UID (0040,A124), Referenced SOP Instance UID, Observation UID -> U (the
//     same mapping as the rest of the study; UID kept with Retain UIDs, see
//     below), Date / Time / DateTime ->
//     dummy, shifted (RetainLongitudinalModifiedDates) or kept (Full Dates);
//   - Person Name (0040,A123) and unlisted PN values -> a replacement
//     consistent within the instance: the patient's pseudonym if it is the
//     patient's own name, "ANONYMOUS^n" otherwise;
//   - Text Value (0040,A160) and other unlisted free text -> the text
//     cleaner; when it cannot clean, the fixed value "REMOVED" (Text Value is
//     Type 1 in a TEXT item: the item stays valid);
//   - unlisted dates and times -> as Date / Time / DateTime above;
//   - coded concepts (Code Sequence Macro), numbers, enumerated values (CS:
//     ValueType, RelationshipType), graphic data and class UIDs -> kept.

#include "DeidentificationWalker.h"
#include "DateShifting.h"
#include "DeidError.h"
#include "DummyValues.h"
#include "ElementValues.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <cctype>

namespace Deid
{
  namespace
  {
    // The value a TEXT item keeps when its text cannot be cleaned: valid for
    // every text VR (SH: at most 16 characters).
    constexpr const char* REMOVED_TEXT = "REMOVED";

    bool IsCleanableTextVR(DcmEVR vr)
    {
      switch (vr)
      {
        case EVR_LO: case EVR_LT: case EVR_SH: case EVR_ST: case EVR_UC: case EVR_UT:
          return true;
        default:
          return false;
      }
    }

    // A person name compared without case, surrounding spaces and empty
    // trailing components; only its first (alphabetic) representation.
    std::string NormalizePersonName(const std::string& value)
    {
      std::string name = value.substr(0, value.find('='));
      std::string result;
      for (char c : name)
      {
        result.push_back(static_cast<char>(toupper(static_cast<unsigned char>(c))));
      }
      result = Trim(result);
      while (!result.empty() && (result.back() == '^' || result.back() == ' '))
      {
        result.pop_back();
      }
      return result;
    }

    class StructuredContentScope
    {
    private:
      bool& flag_;
      bool saved_;

    public:
      explicit StructuredContentScope(bool& flag) : flag_(flag), saved_(flag)
      {
        flag_ = true;
      }

      ~StructuredContentScope()
      {
        flag_ = saved_;
      }
    };
  }

  void DeidentificationWalker::CleanStructuredContent(DcmSequenceOfItems& sequence, const ElementInfo& info)
  {
    StructuredContentScope scope(inStructuredContent_);
    ProcessSequenceItems(sequence, info, DummyMode::Off);
  }

  // One element of an item inside a Clean Structured Content tree; false: the
  // profile handles it as anywhere else.
  bool DeidentificationWalker::CleanContentItemElement(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                                                       ActionCode resolved)
  {
    if (info.isSequence)
    {
      return false;   // walked item by item (nested Content Sequences come back through C)
    }

    if (info.key == DCM_PersonName)
    {
      // Listed D: a consistent replacement instead of the same dummy for all.
      if (!info.isEmpty && info.value)
      {
        ReplaceContentItemName(parent, info);
        return true;
      }
      return false;
    }

    if (info.key == DCM_UID && profile_.GetOptions().Has(Option::RetainUIDs))
    {
      // Table E.1-1 has no Retain UIDs cell for UID (0040,A124), but a UIDREF
      // most often names a UID of the study (Study Instance UID, ...), which
      // Retain UIDs keeps: replacing it would point the tree at nothing.
      Keep(parent, element, info);
      return true;
    }

    if (resolved != ActionCode::None || IsCodeAttribute(info.key))
    {
      return false;   // listed in Table E.1-1, or a coded concept: kept
    }

    if (info.isEmpty)
    {
      return false;   // nothing to hide: an empty value stays as it is
    }

    if (info.vr == EVR_PN)
    {
      if (!info.value)
      {
        Remove(parent, element, info, Option::CleanStructuredContent);   // unreadable: never kept
      }
      else
      {
        ReplaceContentItemName(parent, info);
      }
      return true;
    }

    if (IsCleanableTextVR(info.vr))
    {
      CleanContentItemText(parent, info);
      return true;
    }

    if (info.vr == EVR_DA || info.vr == EVR_DT || info.vr == EVR_TM)
    {
      CleanContentItemTemporal(parent, element, info);
      return true;
    }

    if (info.vr == EVR_AE || info.vr == EVR_AS || info.vr == EVR_UR)
    {
      Dummy(parent, element, info, Option::CleanStructuredContent);
      return true;
    }

    return false;   // CS, UI (class UIDs), numbers, graphic data: kept
  }

  // TEXT (Text Value) and other free text: the text cleaner, or a fixed value.
  void DeidentificationWalker::CleanContentItemText(DcmItem& parent, const ElementInfo& info)
  {
    std::string value = info.value ? *info.value : std::string();
    std::vector<std::string> categories;
    bool cleaned = false;

    if (info.value)
    {
      cleaned = CleanTextWith(Option::CleanStructuredContent, info.key, info.vr, value, categories);
    }

    std::string reason;
    if (!cleaned)
    {
      value = REMOVED_TEXT;
      reason = "C: the text cleaner could not clean it; fixed value keeps the content item valid";
    }
    else
    {
      if (Trim(value).empty())
      {
        value = REMOVED_TEXT;   // nothing left: a Type 1 value stays non-empty
      }
      if (!categories.empty())
      {
        reason = DescribeRemoved(categories);   // by category only (E.3.4)
      }
    }

    if (cleaned && info.value && value == *info.value && !info.encodedUN)
    {
      return;   // nothing to remove
    }

    DcmElement* target = CreateElement(parent, info, info.vr);
    if (target->putString(value.c_str(), static_cast<Uint32>(value.size())).bad())
    {
      throw DeidError(ErrorCode::Internal, "Cannot set the cleaned value of " + FormatTag(info.key));
    }
    reasonFor_ = &info;
    reason_ = reason;
    Record(info, "C", Option::CleanStructuredContent, value);
    reasonFor_ = nullptr;
  }

  // PNAME: the same person gets the same replacement within the instance.
  void DeidentificationWalker::ReplaceContentItemName(DcmItem& parent, const ElementInfo& info)
  {
    const std::string original = NormalizePersonName(*info.value);
    std::string replacement;
    auto found = personNames_.find(original);
    if (found != personNames_.end())
    {
      replacement = found->second;
    }
    else
    {
      if (!original.empty() && original == NormalizePersonName(patient_.patientName))
      {
        replacement = GetPseudonym().patientName;   // the patient, as in Patient Name
      }
      if (replacement.empty())
      {
        size_t others = 0;
        for (const auto& [name, given] : personNames_)
        {
          others += (given.rfind("ANONYMOUS^", 0) == 0) ? 1 : 0;
        }
        replacement = "ANONYMOUS^" + std::to_string(others + 1);
      }
      personNames_[original] = replacement;
    }

    DcmElement* target = CreateElement(parent, info, EVR_PN);
    if (target->putString(replacement.c_str()).bad())
    {
      throw DeidError(ErrorCode::Internal, "Cannot set the replaced name of " + FormatTag(info.key));
    }
    Record(info, "D", Option::CleanStructuredContent, replacement);
  }

  // Unlisted DA / DT / TM: as Date, DateTime and Time (0040,A121/A120/A122).
  void DeidentificationWalker::CleanContentItemTemporal(DcmItem& parent, DcmElement* element, const ElementInfo& info)
  {
    const OptionSet& options = profile_.GetOptions();
    if (options.Has(Option::RetainLongitudinalFullDates))
    {
      Keep(parent, element, info);
      return;
    }

    if (options.Has(Option::RetainLongitudinalModifiedDates) && info.value)
    {
      if (info.vr == EVR_TM)
      {
        Keep(parent, element, info);   // times are not shifted (whole days), as in CleanAction.cpp
        return;
      }

      if (PutShiftedDate(parent, info, Option::RetainLongitudinalModifiedDates))
      {
        return;
      }
      // Not a valid date: a dummy below.
    }

    Dummy(parent, element, info, Option::CleanStructuredContent);
  }
}
