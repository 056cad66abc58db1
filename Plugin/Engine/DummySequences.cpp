// D on a sequence (Content, Verifying Observer, Graphic Annotation, ...
// Sequences): the items are kept and their content replaced by dummies, so
// that the Type 1 attributes of the items stay present (PS3.15 E.1: "Dummy
// values may be necessary for Type 1 Attributes"). See Deidentifier.cpp.

#include "DeidentificationWalker.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcsequen.h>

namespace Deid
{
  // The attributes of the Code Sequence Macro (PS3.3 Table 8.8-1) that
  // identify a coded concept: kept in the items of unlisted sequences in
  // dummy mode and in structured content (concept names are standard codes,
  // not patient data).
  bool IsCodeAttribute(const DcmTagKey& key)
  {
    static const DcmTagKey codes[] = {
      DCM_CodeValue, DCM_CodingSchemeDesignator, DCM_CodingSchemeVersion, DCM_CodeMeaning,
      DCM_MappingResource, DCM_ContextGroupExtensionFlag, DCM_ContextGroupExtensionCreatorUID,
      DCM_ContextIdentifier, DCM_ContextUID, DCM_MappingResourceUID, DCM_LongCodeValue,
      DCM_URNCodeValue, DCM_MappingResourceName
    };
    for (const DcmTagKey& code : codes)
    {
      if (key == code)
      {
        return true;
      }
    }
    return false;
  }

  namespace
  {

    // The free-text, name, date and time VRs: an unlisted value of these VRs
    // becomes a dummy in dummy mode. CS (enumerated values), UI (not listed
    // U: class and coding UIDs), numbers and binary values are kept.
    bool IsFreeTextVR(DcmEVR vr)
    {
      switch (vr)
      {
        case EVR_AE: case EVR_AS: case EVR_DA: case EVR_DT: case EVR_TM: case EVR_LO:
        case EVR_LT: case EVR_PN: case EVR_SH: case EVR_ST: case EVR_UC: case EVR_UR:
        case EVR_UT:
          return true;
        default:
          return false;
      }
    }
  }

  // Dummy mode, an attribute that Table E.1-1 does not list.
  void DeidentificationWalker::ApplyUnlistedInDummyMode(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                                                        DummyMode mode)
  {
    if (info.isSequence)
    {
      ProcessSequenceItems(*static_cast<DcmSequenceOfItems*>(element), info, DummyMode::KeepCodes);
    }
    else if (mode == DummyMode::KeepCodes && IsCodeAttribute(info.key))
    {
      Keep(parent, element, info);
    }
    else if (IsFreeTextVR(info.vr))
    {
      if (info.isEmpty)
      {
        Keep(parent, element, info);   // nothing to hide; an empty value stays empty
      }
      else
      {
        Dummy(parent, element, info, std::nullopt);
      }
    }
    else if (info.encodedUN && info.vr == EVR_UN)
    {
      Remove(parent, element, info, std::nullopt);   // unknown content: might be text
    }
    else
    {
      Keep(parent, element, info);   // CS, UI, numbers, binary
    }
  }
}
