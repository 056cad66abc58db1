// C (PS3.15 Table E.1-1a: "clean"): safe private attributes kept (E.3.10),
// dates shifted (E.3.6), other values given to the text cleaner; when it
// cannot clean, the Basic Profile action applies (never leaks).

#include "DeidentificationWalker.h"
#include "DateShifting.h"
#include "DeidError.h"
#include "ElementValues.h"

#include <dcmtk/dcmdata/dcsequen.h>

namespace Deid
{
  void DeidentificationWalker::Clean(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                                     std::optional<Option> option, const AttributeRule* rule, DummyMode mode)
  {
    if (option && *option == Option::RetainSafePrivate)
    {
      Keep(parent, element, info);
      return;
    }

    if (option && *option == Option::CleanStructuredContent && info.isSequence && mode == DummyMode::Off)
    {
      // E.3.4: the content tree is kept and its values cleaned one by one.
      CleanStructuredContent(*static_cast<DcmSequenceOfItems*>(element), info);
      return;
    }

    if (option && *option == Option::CleanDescriptors && mode == DummyMode::Off)
    {
      // E.3.5 for what is not plain text (DescriptorSequenceCleaning.cpp):
      // coded concepts kept with cleaned meanings, request and notes items
      // cleaned, binary vendor data removed.
      if (info.isSequence)
      {
        CleanDescriptorSequence(parent, *static_cast<DcmSequenceOfItems*>(element), info);
        return;
      }
      if (!info.isString && RemoveBinaryDescriptor(parent, element, info))
      {
        return;
      }
    }

    if (option && *option == Option::RetainLongitudinalModifiedDates)
    {
      if (info.vr == EVR_TM)
      {
        Keep(parent, element, info);   // times are not shifted (whole days)
        return;
      }

      if ((info.vr == EVR_DA || info.vr == EVR_DT) && info.value)
      {
        if (info.isEmpty)
        {
          Keep(parent, element, info);
          return;
        }

        if (PutShiftedDate(parent, info, *option))
        {
          return;
        }
        // Not a valid date: fall back below.
      }
    }

    if (option && *option == Option::CleanGraphics && CleanGraphics(parent, element, info, rule, mode))
    {
      return;   // E.3.3: annotations, overlays and curves (GraphicsCleaning.cpp)
    }

    if (context_.textCleaner != nullptr && option)
    {
      CleaningContext cleaning;
      cleaning.tag = info.key;
      cleaning.vr = DcmVR(info.vr).getVRName();
      cleaning.chosenBy = *option;
      cleaning.identifying = &identifying_;
      std::vector<std::string> categories;
      cleaning.removedCategories = &categories;

      if (info.isSequence)
      {
        if (context_.textCleaner->CleanSequence(cleaning, parent))
        {
          DcmElement* cleaned = nullptr;
          if (parent.findAndGetElement(info.key, cleaned, OFFalse).good() && cleaned != nullptr)
          {
            DcmSequenceOfItems* sequence = dynamic_cast<DcmSequenceOfItems*>(cleaned);
            if (sequence != nullptr)
            {
              ProcessSequenceItems(*sequence, info);
            }
          }
          Record(info, "C", option, std::nullopt);
          return;
        }
      }
      else if (info.isString && info.value && info.vr != EVR_UI)
      {
        std::string value = *info.value;
        if (CleanTextWith(*option, info.key, info.vr, value, categories))
        {
          if (value != *info.value || info.encodedUN)
          {
            DcmElement* target = CreateElement(parent, info, info.vr);
            if (target->putString(value.c_str(), static_cast<Uint32>(value.size())).bad())
            {
              throw DeidError(ErrorCode::Internal, "Cannot set the cleaned value of " + FormatTag(info.key));
            }
            if (!categories.empty())
            {
              reasonFor_ = &info;
              reason_ = DescribeRemoved(categories);
            }
            Record(info, "C", option, value);
            reasonFor_ = nullptr;
          }
          return;
        }
      }
    }

    // Could not clean: the Basic Profile action, which never leaks. (A
    // cleaner that gave up may still have touched the parent: look the
    // element up again.)
    ActionCode basic = (rule != nullptr) ? rule->basic : ActionCode::X;
    if (basic == ActionCode::C || basic == ActionCode::K || basic == ActionCode::None)
    {
      basic = ActionCode::X;
    }
    DcmElement* current = nullptr;
    if (parent.findAndGetElement(info.key, current, OFFalse).good() && current != nullptr)
    {
      Apply(parent, current, info, basic, std::nullopt, rule, mode);
    }
  }

  bool DeidentificationWalker::CleanTextWith(Option chosenBy, const DcmTagKey& key, DcmEVR vr, std::string& value,
                                             std::vector<std::string>& categories)
  {
    if (context_.textCleaner == nullptr)
    {
      return false;
    }
    CleaningContext cleaning;
    cleaning.tag = key;
    cleaning.vr = DcmVR(vr).getVRName();
    cleaning.chosenBy = chosenBy;
    cleaning.identifying = &identifying_;
    cleaning.removedCategories = &categories;
    return context_.textCleaner->CleanText(cleaning, value);
  }

  std::string DeidentificationWalker::DescribeRemoved(const std::vector<std::string>& categories)
  {
    std::string reason = "C removed:";
    for (size_t i = 0; i < categories.size(); i++)
    {
      reason += (i == 0 ? " " : ", ") + categories[i];
    }
    return reason;
  }

  // E.3.6: the value shifted by the patient's offset; false (nothing
  // changed) when it is not a valid date.
  bool DeidentificationWalker::PutShiftedDate(DcmItem& parent, const ElementInfo& info, Option option)
  {
    std::string shifted;
    if (!info.value || !ShiftDateValue(info.vr, *info.value, GetOffsetDays(), shifted))
    {
      return false;
    }
    DcmElement* target = CreateElement(parent, info, info.vr);
    if (target->putString(shifted.c_str()).bad())
    {
      throw DeidError(ErrorCode::Internal, "Cannot set the shifted date of " + FormatTag(info.key));
    }
    Record(info, "shift", option, shifted);
    return true;
  }
}
