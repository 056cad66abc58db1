// Applies one resolved action of Table E.1-1a to one element (PS3.15 E.1):
// the combined codes (X/Z, Z/D, X/D, X/Z/D, X/Z/U*) are first narrowed to one
// action, then X, Z, D, U, K or C is carried out.

#include "DeidentificationWalker.h"
#include "DeidError.h"
#include "ElementValues.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcsequen.h>

namespace Deid
{
  void DeidentificationWalker::Apply(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                                     ActionCode action, std::optional<Option> chosenBy, const AttributeRule* rule,
                                     DummyMode mode)
  {
    // The reason recorded with this element's change (preview); restored on
    // return, as the items of a sequence record theirs in between.
    struct ReasonScope
    {
      DeidentificationWalker& walker;
      const ElementInfo* reasonFor;
      std::string reason;
      ~ReasonScope()
      {
        walker.reasonFor_ = reasonFor;
        walker.reason_ = reason;
      }
    } scope { *this, reasonFor_, reason_ };

    // PS3.3 Types of the IOD (TypeResolution.cpp); outside dummy mode, where
    // every attribute stays present anyway.
    if (mode == DummyMode::Off)
    {
      action = ResolveByType(action, info);
    }

    // PS3.15 Table E.1-1a, combined codes without Type data: see Deidentifier.cpp.
    switch (action)
    {
      case ActionCode::ZD:
      case ActionCode::XD:
      case ActionCode::XZD:
        action = info.isEmpty ? ActionCode::Z : ActionCode::D;
        break;
      case ActionCode::XZ:
        action = ActionCode::Z;
        break;
      case ActionCode::XZU:
        if (info.isSequence)
        {
          // Kept, its items processed (in dummy mode inside a D sequence).
          ProcessSequenceItems(*static_cast<DcmSequenceOfItems*>(element), info,
                               mode == DummyMode::Off ? DummyMode::Off : DummyMode::KeepCodes);
          return;
        }
        action = (info.vr == EVR_UI ? ActionCode::U : ActionCode::Z);
        break;
      default:
        break;
    }

    if (mode != DummyMode::Off)
    {
      // Inside a D sequence: the element stays present (Type 1 attributes
      // of the items stay valid) and its value becomes a dummy.
      if (action == ActionCode::None)
      {
        ApplyUnlistedInDummyMode(parent, element, info, mode);
        return;
      }
      if (!info.isSequence && (action == ActionCode::X || action == ActionCode::Z))
      {
        action = info.isEmpty ? ActionCode::Z : ActionCode::D;
      }
      // A sequence keeps X (removed: icons, signatures, original
      // attributes cannot be made dummies) and Z (emptied).
    }

    switch (action)
    {
      case ActionCode::None:
      case ActionCode::K:
        Keep(parent, element, info);
        return;

      case ActionCode::X:
        Remove(parent, element, info, chosenBy);
        return;

      case ActionCode::Z:
        if (IsPatientIdentity(info.key))
        {
          Pseudonymize(parent, info, chosenBy);
        }
        else
        {
          Empty(parent, element, info, chosenBy);
        }
        return;

      case ActionCode::D:
        if (IsPatientIdentity(info.key))
        {
          Pseudonymize(parent, info, chosenBy);
        }
        else
        {
          Dummy(parent, element, info, chosenBy);
        }
        return;

      case ActionCode::U:
        ReplaceUids(parent, element, info, chosenBy);
        return;

      case ActionCode::C:
        Clean(parent, element, info, chosenBy, rule, mode);
        return;

      default:
        throw DeidError(ErrorCode::Internal, "Unexpected action code for " + FormatTag(info.key));
    }
  }

  bool DeidentificationWalker::IsPatientIdentity(const DcmTagKey& key)
  {
    return key == DCM_PatientName || key == DCM_PatientID;
  }
}
