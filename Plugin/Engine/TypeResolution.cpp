// The action chosen by the attribute's PS3.3 Type in the instance's IOD, at its
// nesting path (Profiles/AttributeTypes.json). PS3.15 E.1: "It is the
// responsibility of the de-identifier to ensure that this process does not
// negatively affect the integrity of the Information Object Definition, i.e.,
// Dummy values may be necessary for Type 1 Attributes that are protected but
// may not be sent with zero length". Table E.1-1a defines the combined codes by
// the Type ("X unless Z or D is required to maintain IOD conformance (Type 3
// versus Type 2 versus Type 1)"):
//  - X/Z, X/D, X/Z/D: X where Type 3, Z where Type 2, D where Type 1 (1C as 1,
//    2C as 2: the attribute is present, so its condition held or it was sent
//    anyway). Z/D: Z where Type 2 or 3, D where Type 1.
//  - X on a Type 1 attribute becomes D, on a Type 2 attribute Z: removing it
//    would break the IOD. Z on a Type 1 attribute becomes D (Z allows "a
//    non-zero length value that may be a dummy value").
//  - A sequence that would be left with zero items (Z, or D on a sequence with
//    no items) is removed where Type 3; D on a Type 1 sequence without items
//    gets one item with dummy Type 1 content.
//  - Without Type data for the SOP Class, or for an attribute the IOD does not
//    define at that path, the choice of Deidentifier.cpp applies (the
//    attribute stays present with minimal content) and the preview says so.
//  - Whole modules: removing Overlay Data (60xx,3000), Type 1, removes the
//    whole overlay group; Curve groups (50xx) are removed whole by the table.
//    Where the IOD makes the Overlay Plane or Curve module mandatory (the
//    retired Standalone Overlay and Curve IODs), the rules above apply instead,
//    and Overlay / Curve Data become zeros of the same length.

#include "DeidentificationWalker.h"
#include "DeidError.h"
#include "DummyValues.h"
#include "ElementValues.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcdicent.h>

namespace Deid
{
  namespace
  {
    bool IsRepeatingGroup(const DcmTagKey& key)
    {
      const Uint16 g = key.getGroup() & 0xFF01;
      return g == 0x5000 || g == 0x6000;
    }

    bool IsCombined(ActionCode action)
    {
      return action == ActionCode::XZ || action == ActionCode::XD ||
             action == ActionCode::XZD || action == ActionCode::ZD;
    }
  }

  ActionCode DeidentificationWalker::ResolveByType(ActionCode action, const ElementInfo& info)
  {
    if (action != ActionCode::X && action != ActionCode::Z && action != ActionCode::D && !IsCombined(action))
    {
      return action;
    }
    if ((info.key.getGroup() & 1) != 0)
    {
      return action;   // private attributes have no Type
    }
    AttributeTypeInfo type;
    if (IsRepeatingGroup(info.key) &&
        (iod_ == nullptr || !iod_->Find(info.typePath, type) || !type.mandatoryModule))
    {
      return action;   // the whole module goes (FindRemovedOverlays; Curve: all of 50xx is X)
    }

    if (iod_ == nullptr)
    {
      if (IsCombined(action))
      {
        reason_ = std::string(ToString(action)) + ": no IOD data";
        reasonFor_ = &info;
      }
      return action;
    }

    if (!iod_->Find(info.typePath, type))
    {
      if (IsCombined(action))
      {
        reason_ = std::string(ToString(action)) + ": not defined at this path by the IOD " + iod_->GetName();
        reasonFor_ = &info;
      }
      return action;
    }

    ActionCode resolved = action;
    switch (action)
    {
      case ActionCode::XZ:
      case ActionCode::XD:
      case ActionCode::XZD:
        resolved = (type.type == 1) ? ActionCode::D : (type.type == 2) ? ActionCode::Z : ActionCode::X;
        break;
      case ActionCode::ZD:
        resolved = (type.type == 1) ? ActionCode::D : ActionCode::Z;
        break;
      case ActionCode::X:
        resolved = (type.type == 1) ? ActionCode::D : (type.type == 2) ? ActionCode::Z : ActionCode::X;
        break;
      case ActionCode::Z:
        resolved = (type.type == 1) ? ActionCode::D :
          (type.type == 3 && info.isSequence) ? ActionCode::X : ActionCode::Z;
        break;
      case ActionCode::D:
        resolved = (type.type == 3 && info.isSequence && info.isEmpty) ? ActionCode::X : ActionCode::D;
        break;
      default:
        break;
    }

    // An empty original stays empty rather than becoming a dummy: no new error.
    if (resolved == ActionCode::D && info.isEmpty && !info.isSequence)
    {
      resolved = ActionCode::Z;
    }

    if (resolved != action || IsCombined(action))
    {
      reason_ = std::string(ToString(action)) + "\u2192" + ToString(resolved) + ": Type " + type.typeText +
        " in " + *type.module;
      reasonFor_ = &info;
    }
    return resolved;
  }

  std::map<Uint16, std::string> DeidentificationWalker::FindRemovedOverlays(DcmItem& item)
  {
    std::map<Uint16, std::string> groups;
    for (DcmObject* o = item.nextInContainer(nullptr); o != nullptr; o = item.nextInContainer(o))   // one pass
    {
      const DcmTagKey key = o->getTag();
      AttributeTypeInfo type;
      if ((key.getGroup() & 0xFF01) == 0x6000 && key.getElement() == 0x3000 &&
          !(iod_ != nullptr && iod_->Find(MakeTypePath(tagPath_, key), type) && type.mandatoryModule))
      {
        // Overlay Data is Type 1 in the Overlay Plane module: when the profile
        // removes it (X, or C that no cleaner handles: the Basic Profile's X),
        // the module goes whole rather than being left without it.
        // Clean Graphics keeps an overlay without text (GraphicsCleaning.cpp).
        const ResolvedAction resolved = profile_.Resolve(DcmTagKey(0x6000, 0x3000));
        if (resolved.action == ActionCode::C && resolved.chosenBy == Option::CleanGraphics)
        {
          const std::string why = InspectOverlay(item, key.getGroup());
          if (!why.empty())
          {
            groups[key.getGroup()] = "Clean Graphics: " + why + "; Overlay Plane module removed";
          }
        }
        else if (resolved.action == ActionCode::X || resolved.action == ActionCode::C)
        {
          groups[key.getGroup()] = "Overlay Plane module removed with Overlay Data (Type 1)";
        }
      }
    }
    return groups;
  }

  void DeidentificationWalker::FillDummyItem(DcmItem& item, const std::string& path, int depth)
  {
    if (iod_ == nullptr || depth > 8)
    {
      return;
    }
    for (const DcmTagKey& key : iod_->GetType1Children(path))
    {
      DcmTag tag(key);
      const DcmEVR vr = NormalizeVR(tag.getEVR());
      const std::string childPath = MakeTypePath(path, key);
      if (vr == EVR_SQ)
      {
        DcmItem* child = new DcmItem;
        FillDummyItem(*child, childPath, depth + 1);
        if (item.insertSequenceItem(key, child).bad())
        {
          delete child;
        }
        continue;
      }

      DcmElement* element = nullptr;
      if (DcmItem::newDicomElementWithVR(element, DcmTag(key, DcmVR(vr))).bad() || element == nullptr)
      {
        continue;
      }
      OFCondition status;
      if (vr == EVR_UI)
      {
        status = element->putString(context_.uids->MapUid(std::string()).c_str());
      }
      else if (IsStringVR(vr))
      {
        status = element->putString(GetDummyString(vr).c_str());
      }
      else
      {
        const Uint8 zero[8] = { 0 };
        size_t size = GetDummyBinarySize(vr);
        status = element->putUint8Array(zero, static_cast<unsigned long>(size == 0 || size > 8 ? 2 : size));
      }
      if (status.bad() || item.insert(element, OFTrue).bad())
      {
        delete element;
      }
    }
  }
}
