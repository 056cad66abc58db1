// Clean Descriptors (PS3.15 E.3.5) for the C attributes of Table E.1-1 that
// are not plain text:
//   - code sequences (Admitting Diagnoses, Reason for Visit, Reason for
//     Requested Procedure, Principal / Primary / Secondary / Histological
//     Diagnosis Code Sequences): the coded concept of each item is kept (Code
//     Sequence Macro, PS3.3 Table 8.8-1); Code Meaning goes through the text
//     cleaner; when it cannot be cleaned, a neutral meaning keeps the item
//     valid (Code Meaning is Type 1): the code value itself, or
//     "(meaning removed)"; an item of a private or local coding scheme ("99"
//     prefix, PS3.16 8.2; "L") whose meaning cannot be cleaned is removed,
//     as the code alone may be as identifying as its meaning;
//   - Request Attributes and Prescription Notes Sequences: the items are
//     kept, their attributes handled by the profile (IDs, UIDs, dates as
//     Table E.1-1 says; listed descriptors are C themselves), unlisted free
//     text cleaned or removed;
//   - in every such sequence, an item left empty is removed, and the
//     sequence left without items goes unless the IOD requires it (Type 1
//     or 2), then it stays empty;
//   - binary values (OB: Device Setting Description, Maker Note): vendor data
//     that cannot be vouched for is removed, with the reason given.
// Reasons name categories only, never values.

#include "DeidentificationWalker.h"
#include "DeidError.h"
#include "ElementValues.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcsequen.h>

namespace Deid
{
  namespace
  {
    constexpr const char* NEUTRAL_MEANING = "(meaning removed)";
    constexpr size_t LO_MAXIMUM = 64;

    bool IsDescriptorTextVR(DcmEVR vr)
    {
      switch (vr)
      {
        case EVR_LO: case EVR_LT: case EVR_SH: case EVR_ST: case EVR_UC: case EVR_UT: case EVR_PN:
          return true;
        default:
          return false;
      }
    }

    std::string ReadString(DcmItem& item, const DcmTagKey& key)
    {
      OFString value;
      if (item.findAndGetOFStringArray(key, value, OFFalse).good())
      {
        return Trim(std::string(value.c_str(), value.length()));
      }
      return std::string();
    }

    // PS3.16 8.2: coding scheme designators beginning with "99" are private;
    // "L" is the usual local designator.
    bool IsPrivateCodingScheme(const std::string& designator)
    {
      return designator.rfind("99", 0) == 0 || designator == "L";
    }

    class FlagScope
    {
    private:
      bool& flag_;
      bool saved_;

    public:
      explicit FlagScope(bool& flag) : flag_(flag), saved_(flag)
      {
        flag_ = true;
      }

      ~FlagScope()
      {
        flag_ = saved_;
      }
    };
  }

  bool DeidentificationWalker::CleanDescriptorText(const DcmTagKey& key, DcmEVR vr, std::string& value,
                                                   std::vector<std::string>& categories)
  {
    return CleanTextWith(Option::CleanDescriptors, key, vr, value, categories) && !Trim(value).empty();
  }

  // A sequence with C under Clean Descriptors: kept, item by item.
  void DeidentificationWalker::CleanDescriptorSequence(DcmItem& parent, DcmSequenceOfItems& sequence,
                                                       const ElementInfo& info)
  {
    const std::string base = info.path.empty() ? info.name : info.path;

    // Items of a private coding scheme whose meaning cannot be cleaned go.
    for (unsigned long i = sequence.card(); i > 0; i--)
    {
      DcmItem* item = sequence.getItem(i - 1);
      if (item == nullptr || !item->tagExists(DCM_CodeMeaning, OFFalse) ||
          !IsPrivateCodingScheme(ReadString(*item, DCM_CodingSchemeDesignator)))
      {
        continue;
      }
      std::string meaning = ReadString(*item, DCM_CodeMeaning);
      std::vector<std::string> categories;
      if (!meaning.empty() && CleanDescriptorText(DCM_CodeMeaning, EVR_LO, meaning, categories))
      {
        continue;
      }
      delete sequence.remove(i - 1);
      ElementInfo removed = info;
      removed.path = base + "[" + std::to_string(i - 1) + "]";
      removed.isSequence = true;
      reasonFor_ = &removed;
      reason_ = "C: private code whose meaning cannot be cleaned";
      Record(removed, "X", Option::CleanDescriptors, std::nullopt);
      reasonFor_ = nullptr;
    }

    {
      FlagScope scope(inDescriptorSequence_);
      ProcessSequenceItems(sequence, info, DummyMode::Off);
    }

    for (unsigned long i = sequence.card(); i > 0; i--)
    {
      DcmItem* item = sequence.getItem(i - 1);
      if (item != nullptr && item->card() == 0)
      {
        delete sequence.remove(i - 1);   // nothing left in it
      }
    }

    if (sequence.card() == 0)
    {
      AttributeTypeInfo type;
      const bool required = iod_ != nullptr && iod_->Find(info.typePath, type) && type.mandatoryModule &&
        type.type <= 2;
      if (!required)
      {
        reasonFor_ = &info;
        reason_ = "C: no item left after cleaning";
        Remove(parent, &sequence, info, Option::CleanDescriptors);
        reasonFor_ = nullptr;
        return;
      }
    }
    Record(info, "C", Option::CleanDescriptors, std::nullopt);
  }

  // One element of an item inside a Clean Descriptors sequence; false: the
  // profile handles it as anywhere else.
  bool DeidentificationWalker::CleanDescriptorItemElement(DcmItem& parent, DcmElement* element,
                                                          const ElementInfo& info, ActionCode resolved)
  {
    if (info.isSequence)
    {
      return false;   // listed ones come back through C; others are walked with the flag set
    }

    if (info.key == DCM_CodeMeaning)
    {
      CleanCodeMeaning(parent, info);
      return true;
    }

    if (resolved != ActionCode::None || IsCodeAttribute(info.key) || info.isEmpty ||
        !IsDescriptorTextVR(info.vr))
    {
      return false;   // listed in Table E.1-1, a coded concept, empty, or not text
    }

    // Unlisted free text in the item: cleaned, or removed.
    std::string value = info.value ? *info.value : std::string();
    std::vector<std::string> categories;
    if (info.value && CleanDescriptorText(info.key, info.vr, value, categories))
    {
      if (value == *info.value && !info.encodedUN)
      {
        return true;
      }
      DcmElement* target = CreateElement(parent, info, info.vr);
      if (target->putString(value.c_str(), static_cast<Uint32>(value.size())).bad())
      {
        throw DeidError(ErrorCode::Internal, "Cannot set the cleaned value of " + FormatTag(info.key));
      }
      reasonFor_ = &info;
      reason_ = categories.empty() ? std::string() : DescribeRemoved(categories);
      Record(info, "C", Option::CleanDescriptors, value);
      reasonFor_ = nullptr;
      return true;
    }

    reasonFor_ = &info;
    reason_ = "C: the text cleaner could not clean it";
    Remove(parent, element, info, Option::CleanDescriptors);
    reasonFor_ = nullptr;
    return true;
  }

  // Code Meaning (Type 1): cleaned, or a neutral meaning.
  void DeidentificationWalker::CleanCodeMeaning(DcmItem& parent, const ElementInfo& info)
  {
    std::string value = info.value ? *info.value : std::string();
    std::vector<std::string> categories;
    std::string reason;
    if (!info.value || !CleanDescriptorText(info.key, info.vr, value, categories))
    {
      value = ReadString(parent, DCM_CodeValue);
      if (value.empty())
      {
        value = ReadString(parent, DCM_LongCodeValue);
      }
      if (value.empty())
      {
        value = ReadString(parent, DCM_URNCodeValue);
      }
      if (value.empty() || value.size() > LO_MAXIMUM)
      {
        value = NEUTRAL_MEANING;
      }
      reason = "C: meaning could not be cleaned; neutral meaning keeps the code";
    }
    else if (!categories.empty())
    {
      reason = DescribeRemoved(categories);
    }

    if (info.value && value == *info.value && !info.encodedUN)
    {
      return;   // nothing to remove
    }
    DcmElement* target = CreateElement(parent, info, EVR_LO);
    if (target->putString(value.c_str(), static_cast<Uint32>(value.size())).bad())
    {
      throw DeidError(ErrorCode::Internal, "Cannot set the cleaned value of " + FormatTag(info.key));
    }
    reasonFor_ = &info;
    reason_ = reason;
    Record(info, "C", Option::CleanDescriptors, value);
    reasonFor_ = nullptr;
  }

  // OB and other binary values with C: they cannot be cleaned, so they go
  // (an explicit decision, not the fallback). False: required by the IOD,
  // the Basic Profile action applies.
  bool DeidentificationWalker::RemoveBinaryDescriptor(DcmItem& parent, DcmElement* element, const ElementInfo& info)
  {
    AttributeTypeInfo type;
    if (iod_ != nullptr && iod_->Find(info.typePath, type) && type.mandatoryModule && type.type <= 2)
    {
      return false;
    }
    reasonFor_ = &info;
    reason_ = "C: binary value cannot be cleaned";
    Remove(parent, element, info, Option::CleanDescriptors);
    reasonFor_ = nullptr;
    return true;
  }
}
