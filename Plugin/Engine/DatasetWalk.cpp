// The walk over one data set (PS3.15 E.1): every element of every item, at
// any depth, private elements and their creators, group 0004, group lengths;
// each standard element gets the action resolved from the Profile, applied
// in Apply (ActionDispatch.cpp). See Deidentifier.cpp for the choices.

#include "DeidentificationWalker.h"
#include "DeidError.h"
#include "DummyValues.h"
#include "ElementValues.h"

#include <dcmtk/dcmdata/dcsequen.h>

namespace Deid
{
  DeidentificationWalker::DeidentificationWalker(const Profile& profile,
                                                 DeidentificationContext& context,
                                                 const DeidentificationSettings& settings,
                                                 DeidentificationResult& result,
                                                 const PatientKey& patient,
                                                 const IodAttributeTypes* iod) :
    profile_(profile),
    context_(context),
    settings_(settings),
    result_(result),
    patient_(patient),
    iod_(iod)
  {
  }

  void DeidentificationWalker::Record(const ElementInfo& info, const std::string& action, std::optional<Option> option,
                                      const std::optional<std::string>& after)
  {
    modifications_++;
    if (settings_.recordChanges)
    {
      ElementChange change;
      change.tag = FormatTag(info.key);
      change.name = info.name;
      change.path = info.path;
      change.action = action;
      change.option = option ? GetOptionName(*option) : "";
      if (!info.isSequence)
      {
        change.before = info.value;
      }
      change.after = after;
      if (&info == reasonFor_)
      {
        change.reason = reason_;
      }
      result_.changes.push_back(change);
    }
  }

  const Pseudonym& DeidentificationWalker::GetPseudonym()
  {
    if (!pseudonym_)
    {
      pseudonym_ = context_.pseudonyms->GetPseudonym(patient_);
    }
    return *pseudonym_;
  }

  int32_t DeidentificationWalker::GetOffsetDays()
  {
    if (!offsetDays_)
    {
      if (context_.dateOffsets == nullptr)
      {
        throw DeidError(ErrorCode::Internal, "RetainLongitudinalModifiedDates needs a date offset provider");
      }
      offsetDays_ = context_.dateOffsets->GetOffsetDays(patient_);
    }
    return *offsetDays_;
  }

  // Processes all elements of one item (data set, sequence item).
  void DeidentificationWalker::ProcessItem(DcmItem& item, const std::string& itemPath, bool topLevel,
                                           DummyMode mode)
  {
    // Snapshot of the elements: each is removed or replaced only while it is
    // processed (a removed Overlay Plane goes element by element). One pass
    // over DCMTK's list: getElement(i) and findAndGetElement() walk it from
    // the start, which made 100,000 elements take minutes.
    std::vector<std::pair<DcmTagKey, DcmElement*>> tags;
    tags.reserve(item.card());
    for (DcmObject* o = item.nextInContainer(nullptr); o != nullptr; o = item.nextInContainer(o))
    {
      tags.emplace_back(o->getTag(), static_cast<DcmElement*>(o));
    }

    std::set<uint32_t> keptPrivateBlocks;
    const std::map<Uint16, std::string> removedOverlays =
      (mode == DummyMode::Off) ? FindRemovedOverlays(item) : std::map<Uint16, std::string>();

    for (const auto& [key, element] : tags)
    {
      if (IsPrivateCreatorTag(key))
      {
        continue;   // decided below, once the blocks are known
      }

      std::unique_ptr<DcmElement> original;
      size_t before = modifications_;
      if (topLevel && settings_.collectOriginals && MayChange(*element))
      {
        original.reset(OFstatic_cast(DcmElement*, element->clone()));
      }

      ProcessElement(item, element, itemPath, keptPrivateBlocks, removedOverlays, mode);

      if (original && modifications_ != before)
      {
        result_.modifiedAttributes->insert(original.release(), OFTrue);
      }
    }

    // PS3.15 E.3.10: keep "the Private Creator IDs that are required to fully
    // define the retained Private Attributes", remove all others.
    for (const auto& [key, element] : tags)
    {
      if (!IsPrivateCreatorTag(key))
      {
        continue;
      }

      const uint32_t block = (static_cast<uint32_t>(key.getGroup()) << 8) | key.getElement();
      if (keptPrivateBlocks.count(block) != 0)
      {
        continue;
      }

      if (topLevel && settings_.collectOriginals)
      {
        result_.modifiedAttributes->insert(OFstatic_cast(DcmElement*, element->clone()), OFTrue);
      }

      ElementInfo info = Describe(*element, itemPath, "");
      Remove(item, element, info, std::nullopt);
    }
  }

  // False only for elements that the walk never modifies (standard, not
  // listed in Table E.1-1, not a sequence, not UN), e.g. Pixel Data: they
  // need no copy for the Modified Attributes Sequence.
  bool DeidentificationWalker::MayChange(DcmElement& element) const
  {
    const DcmTagKey key = element.getTag();
    if ((key.getGroup() & 1) != 0 || key.getGroup() == 0x0004 ||
        dynamic_cast<DcmSequenceOfItems*>(&element) != nullptr ||
        NormalizeVR(element.ident()) == EVR_UN)
    {
      return true;
    }
    return profile_.Resolve(key).action != ActionCode::None;
  }

  std::string DeidentificationWalker::GetPrivateCreator(DcmItem& item, const DcmTagKey& key)
  {
    if ((key.getGroup() & 1) == 0 || key.getElement() < 0x1000)
    {
      return std::string();
    }

    DcmElement* element = nullptr;
    DcmTagKey creatorTag(key.getGroup(), key.getElement() >> 8);
    std::string creator;
    if (item.findAndGetElement(creatorTag, element, OFFalse).good() && element != nullptr &&
        GetStringValue(*element, NormalizeVR(element->ident()) == EVR_UN, creator))
    {
      return Trim(creator);
    }
    return std::string();
  }

  ElementInfo DeidentificationWalker::Describe(DcmElement& element, const std::string& itemPath, const std::string& privateCreator)
  {
    ElementInfo info;
    DcmTag tag = element.getTag();
    info.key = tag;
    info.privateCreator = privateCreator;

    DcmTag named(info.key.getGroup(), info.key.getElement(),
                 privateCreator.empty() ? nullptr : privateCreator.c_str());
    info.name = named.getTagName();
    info.path = itemPath.empty() ? std::string() : itemPath + "." + info.name;
    info.typePath = MakeTypePath(tagPath_, info.key);

    info.isSequence = (dynamic_cast<DcmSequenceOfItems*>(&element) != nullptr);
    DcmEVR encoded = NormalizeVR(element.ident());
    if (info.isSequence)
    {
      info.vr = EVR_SQ;
    }
    else if (encoded == EVR_UN)
    {
      info.encodedUN = true;
      info.vr = DictionaryVR(info.key, privateCreator);
    }
    else
    {
      info.vr = encoded;
    }

    if (info.isSequence)
    {
      info.isEmpty = (static_cast<DcmSequenceOfItems&>(element).card() == 0);
    }
    else
    {
      info.isEmpty = (element.getLength() == 0);
    }

    info.isString = IsStringVR(info.vr);
    if (info.isString)
    {
      std::string value;
      if (GetStringValue(element, info.encodedUN, value))
      {
        info.value = value;
        if (Trim(value).empty())
        {
          info.isEmpty = true;
        }
      }
    }

    return info;
  }

  void DeidentificationWalker::ProcessSequenceItems(DcmSequenceOfItems& sequence, const ElementInfo& info,
                                                    DummyMode mode)
  {
    const std::string base = info.path.empty() ? info.name : info.path;
    const std::string parentTagPath = tagPath_;
    tagPath_ = info.typePath;
    unsigned long i = 0;   // one pass: getItem(i) walks the list from the start
    for (DcmObject* o = sequence.nextInContainer(nullptr); o != nullptr; o = sequence.nextInContainer(o), i++)
    {
      ProcessItem(*static_cast<DcmItem*>(o), base + "[" + std::to_string(i) + "]", false, mode);
    }
    tagPath_ = parentTagPath;
  }

  void DeidentificationWalker::ProcessElement(DcmItem& parent, DcmElement* element, const std::string& itemPath,
                                              std::set<uint32_t>& keptPrivateBlocks,
                                              const std::map<Uint16, std::string>& removedOverlays, DummyMode mode)
  {
    const DcmTagKey key = element->getTag();

    const auto removedOverlay = removedOverlays.find(key.getGroup());
    if (removedOverlay != removedOverlays.end())
    {
      // The whole Overlay Plane module goes with its Overlay Data (Type 1):
      // see FindRemovedOverlays (TypeResolution.cpp).
      ElementInfo info = Describe(*element, itemPath, "");
      reasonFor_ = &info;
      reason_ = removedOverlay->second;
      Remove(parent, element, info, std::nullopt);
      reasonFor_ = nullptr;
      return;
    }

    if (key.getElement() == 0x0000)
    {
      // Group length: recomputed when writing; private ones go with their group.
      if ((key.getGroup() & 1) != 0)
      {
        ElementInfo info = Describe(*element, itemPath, "");
        Remove(parent, element, info, std::nullopt);
      }
      return;
    }

    if ((key.getGroup() & 1) != 0)
    {
      const std::string creator = GetPrivateCreator(parent, key);
      ElementInfo info = Describe(*element, itemPath, creator);
      ResolvedAction resolved = profile_.ResolvePrivate(creator, key);

      if (info.isSequence && profile_.GetOptions().Has(Option::RetainSafePrivate))
      {
        // E.3.10: "When an entire Sequence (SQ VR) Private Attribute is not
        // known to always only contain safe content, [...] any such Sequence
        // Attribute shall be parsed in its entirety and each of the nested
        // Attributes handled on its own merits". The sequence is kept (with
        // its private creator) only if something is left in its items.
        DcmSequenceOfItems* sequence = static_cast<DcmSequenceOfItems*>(element);
        ProcessSequenceItems(*sequence, info, mode == DummyMode::Off ? DummyMode::Off : DummyMode::KeepCodes);
        bool anything = false;
        for (DcmObject* o = sequence->nextInContainer(nullptr); o != nullptr && !anything;
             o = sequence->nextInContainer(o))
        {
          anything = static_cast<DcmItem*>(o)->card() > 0;
        }
        if (anything && !creator.empty())
        {
          keptPrivateBlocks.insert((static_cast<uint32_t>(key.getGroup()) << 8) | (key.getElement() >> 8));
        }
        else
        {
          Remove(parent, element, info, std::nullopt);
        }
        return;
      }

      if (resolved.action == ActionCode::C && !info.isSequence)
      {
        // E.3.10: a safe private attribute, kept with its private creator.
        keptPrivateBlocks.insert((static_cast<uint32_t>(key.getGroup()) << 8) | (key.getElement() >> 8));
        if (info.encodedUN)
        {
          if (info.vr == EVR_UN)
          {
            // Not in DCMTK's private dictionary: the VR of Table E.3.10-1.
            const SafePrivateAttribute* safe = profile_.GetTables().FindSafePrivate(
              creator, key.getGroup(), static_cast<uint8_t>(key.getElement() & 0xFF));
            if (safe != nullptr && safe->vr.size() == 2)
            {
              DcmEVR tableVR = NormalizeVR(DcmVR(safe->vr.c_str()).getEVR());
              if (tableVR != EVR_SQ)
              {
                info.vr = tableVR;
                info.isString = IsStringVR(tableVR);
                std::string value;
                if (info.isString && GetStringValue(*element, true, value))
                {
                  info.value = value;
                }
              }
            }
          }
          ConvertFromUN(parent, element, info);
        }
      }
      else
      {
        Remove(parent, element, info, std::nullopt);
      }
      return;
    }

    ElementInfo info = Describe(*element, itemPath, "");

    if (key.getGroup() == 0x0004)
    {
      // E.1: "All Data Elements with a Group Number of 0004 shall be removed
      // from any SOP Instance or DICOM File other than a DICOMDIR File."
      // (DICOMDIR files are refused in Apply.)
      Remove(parent, element, info, std::nullopt);
      return;
    }

    if (info.encodedUN && info.vr == EVR_SQ)
    {
      if (ReparseAsSequence(parent, element, info) == nullptr)
      {
        Remove(parent, element, info, std::nullopt);   // cannot look inside: never leak
        return;
      }
      info.isSequence = true;
      info.encodedUN = false;
      info.isEmpty = static_cast<DcmSequenceOfItems*>(element)->card() == 0;
    }

    if (CleanOverlayLabel(parent, element, info, mode))
    {
      return;   // Clean Graphics: Overlay Description / Label (GraphicsCleaning.cpp)
    }

    ResolvedAction resolved = profile_.Resolve(key);
    if (inStructuredContent_ && mode == DummyMode::Off &&
        CleanContentItemElement(parent, element, info, resolved.action))
    {
      return;   // a value of an SR content item (StructuredContentCleaning.cpp)
    }
    if (inDescriptorSequence_ && !inStructuredContent_ && mode == DummyMode::Off &&
        CleanDescriptorItemElement(parent, element, info, resolved.action))
    {
      return;   // in a Clean Descriptors sequence (DescriptorSequenceCleaning.cpp)
    }
    Apply(parent, element, info, resolved.action, resolved.chosenBy, resolved.rule, mode);
  }

  void DeidentificationWalker::Keep(DcmItem& parent, DcmElement* element, const ElementInfo& info)
  {
    if (info.isSequence)
    {
      ProcessSequenceItems(*static_cast<DcmSequenceOfItems*>(element), info);
    }
    else if (info.encodedUN)
    {
      ConvertFromUN(parent, element, info);
    }
  }

  void DeidentificationWalker::Remove(DcmItem& parent, DcmElement* element, const ElementInfo& info, std::optional<Option> option)
  {
    DcmElement* removed = parent.remove(element);
    delete removed;
    Record(info, "X", option, std::nullopt);
  }

  // Inserts a new element with the real VR, replacing the old one.
  DcmElement* DeidentificationWalker::CreateElement(DcmItem& parent, const ElementInfo& info, DcmEVR vr)
  {
    DcmTag tag(info.key, DcmVR(vr));
    if (!info.privateCreator.empty())
    {
      tag.setPrivateCreator(info.privateCreator.c_str());
    }

    DcmElement* created = nullptr;
    if (DcmItem::newDicomElementWithVR(created, tag).bad() || created == nullptr)
    {
      throw DeidError(ErrorCode::Internal, "Cannot create element " + FormatTag(info.key));
    }

    if (parent.insert(created, OFTrue).bad())
    {
      delete created;
      throw DeidError(ErrorCode::Internal, "Cannot insert element " + FormatTag(info.key));
    }
    return created;
  }

  void DeidentificationWalker::Empty(DcmItem& parent, DcmElement* element, const ElementInfo& info, std::optional<Option> option)
  {
    if (info.isSequence)
    {
      DcmSequenceOfItems* sequence = static_cast<DcmSequenceOfItems*>(element);
      bool changed = sequence->card() > 0;
      while (sequence->card() > 0)
      {
        delete sequence->remove(0UL);
      }
      if (changed)
      {
        Record(info, "Z", option, std::nullopt);
      }
      return;
    }

    if (info.isEmpty && !info.encodedUN && element->getLength() == 0)
    {
      return;   // already empty
    }

    CreateElement(parent, info, info.vr);   // a new, empty element (UN if the VR is unknown)
    Record(info, "Z", option, std::string());
  }
}
