// Resolution of the action of one attribute from Table E.1-1 and the Options
// (PS3.15 E.1, E.3).
//
// Rules (README):
//  - No option column applies: the Basic Profile action.
//  - "A requirement for an Option, when implemented, overrides any requirement
//    for the underlying Profile" (E.1, note under Table E.1-1a): a non-empty
//    cell of a selected option replaces the Basic Profile action.
//  - RetainLongitudinalFullDates and RetainLongitudinalModifiedDates are
//    "two mutually exclusive Options" (E.3.6): selecting both is
//    DeidError(BadOption).
//  - Several selected options with different cells for one attribute: the
//    only such case in Table E.1-1 is K (RetainDeviceIdentity) against C
//    (RetainLongitudinalModifiedDates) on device dates (Date of Last
//    Calibration, Date of Manufacture, ...). C wins: E.3.6 requires that the
//    listed dates "shall be modified", and shifting them with the same offset
//    as all other dates still retains them for the device's purpose, whereas
//    one real date next to shifted ones would let the offset be estimated.
//    In general the action that retains less wins: X > Z > D > U > C > K.
//    Equal cells: the first option in the table's column order is reported.
//  - CleanRecognizableVisualFeatures acts on pixel data: the Deidentifier
//    defaces head CT or refuses (RecognizableVisualFeatures.h). CleanPixelData is applied by
//    the pixel cleaner (PixelCleaner.h); without it the profile refuses
//    instances that may carry burned-in text (BurnedInText.h).
#include "Profile.h"
#include "DeidError.h"

#include <algorithm>

namespace Deid
{
  namespace
  {
    // Higher retains less information.
    int Strictness(ActionCode code)
    {
      switch (code)
      {
        case ActionCode::K: return 0;
        case ActionCode::C: return 1;
        case ActionCode::U: return 2;
        case ActionCode::XZU: return 3;
        case ActionCode::D: return 4;
        case ActionCode::ZD: return 5;
        case ActionCode::Z: return 6;
        case ActionCode::XD: return 7;
        case ActionCode::XZD: return 8;
        case ActionCode::XZ: return 9;
        case ActionCode::X: return 10;
        default: return -1;
      }
    }
  }

  Profile::Profile(std::shared_ptr<const ProfileTables> tables,
                   const OptionSet& options,
                   const std::string& name,
                   const BurnedInTextPolicy& burnedInText) :
    tables_(tables),
    options_(options),
    name_(name),
    burnedInText_(burnedInText)
  {
    if (!tables_)
    {
      throw DeidError(ErrorCode::BadProfile, "No profile tables");
    }

    if (options_.Has(Option::RetainLongitudinalFullDates) &&
        options_.Has(Option::RetainLongitudinalModifiedDates))
    {
      throw DeidError(ErrorCode::BadOption,
                      "RetainLongitudinalFullDates and RetainLongitudinalModifiedDates are mutually "
                      "exclusive (PS3.15 E.3.6)");
    }

    for (const AttributeRule& rule : tables_->GetAttributes())
    {
      if (rule.tag.IsExact())
      {
        const DcmTagKey key(rule.tag.group, rule.tag.element);
        exactActions_.emplace((static_cast<uint32_t>(rule.tag.group) << 16) | rule.tag.element,
                              ResolveUncached(key));
      }
      else if (!rule.tag.allPrivate)
      {
        // Every group the mask matches: the fixed bits, any free bits.
        const uint16_t fixed = rule.tag.group & rule.tag.groupMask;
        const uint16_t free = static_cast<uint16_t>(~rule.tag.groupMask);
        uint16_t bits = free;
        for (;;)
        {
          maskedGroups_.set(fixed | bits);
          if (bits == 0)
          {
            break;
          }
          bits = static_cast<uint16_t>((bits - 1) & free);
        }
      }
    }
  }

  ResolvedAction Profile::Resolve(const DcmTagKey& tag) const
  {
    auto found = exactActions_.find((static_cast<uint32_t>(tag.getGroup()) << 16) | tag.getElement());
    if (found != exactActions_.end())
    {
      return found->second;
    }
    if (!maskedGroups_.test(tag.getGroup()))
    {
      return ResolvedAction();   // not listed: keep
    }
    return ResolveUncached(tag);
  }

  ResolvedAction Profile::ResolveUncached(const DcmTagKey& tag) const
  {
    ResolvedAction result;
    result.rule = tables_->FindRule(tag.getGroup(), tag.getElement());
    if (result.rule == nullptr)
    {
      return result;   // not listed: keep
    }

    result.action = result.rule->basic;

    bool overridden = false;
    for (size_t i = 0; i < TABLE_OPTION_COLUMNS; i++)
    {
      Option option = static_cast<Option>(i);
      if (!options_.Has(option))
      {
        continue;
      }

      ActionCode cell = result.rule->GetOptionAction(option);
      if (cell == ActionCode::None)
      {
        continue;
      }

      if (!overridden || Strictness(cell) > Strictness(result.action))
      {
        result.action = cell;
        result.chosenBy = option;
        overridden = true;
      }
    }

    return result;
  }

  ResolvedAction Profile::ResolvePrivate(const std::string& privateCreator, const DcmTagKey& tag) const
  {
    ResolvedAction result;
    result.rule = &tables_->GetPrivateAttributesRule();
    result.action = result.rule->basic;   // X

    // E.3.10: only with the option, only for an element listed in Table
    // E.3.10-1 for its own private creator.
    if (options_.Has(Option::RetainSafePrivate) &&
        !privateCreator.empty() &&
        tag.getElement() >= 0x1000 &&
        tables_->FindSafePrivate(privateCreator, tag.getGroup(),
                                 static_cast<uint8_t>(tag.getElement() & 0xFF)) != nullptr)
    {
      result.action = ActionCode::C;
      result.chosenBy = Option::RetainSafePrivate;
    }

    return result;
  }

  namespace
  {
    std::vector<Option> AppliedOptionsInCidOrder(const OptionSet& options)
    {
      std::vector<Option> list = options.List();
      std::sort(list.begin(), list.end(), [](Option a, Option b)
      {
        return std::string(GetOptionCodeValue(a)) < std::string(GetOptionCodeValue(b));
      });
      return list;
    }
  }

  std::vector<MethodCode> Profile::GetMethodCodes() const
  {
    std::vector<MethodCode> codes;
    codes.push_back(tables_->GetMethodCode("113100"));
    for (Option option : AppliedOptionsInCidOrder(options_))
    {
      codes.push_back(tables_->GetMethodCode(GetOptionCodeValue(option)));
    }
    return codes;
  }

  std::string Profile::GetMethodDescription() const
  {
    std::string s = "PS3.15 " + tables_->GetEdition() + " Basic Profile";
    for (Option option : AppliedOptionsInCidOrder(options_))
    {
      s += "; ";
      s += GetOptionName(option);
    }
    return s;
  }
}
