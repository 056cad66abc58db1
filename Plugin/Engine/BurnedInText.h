// Fail closed on burned-in text (PS3.15 E.3.1): without Clean Pixel Data, an
// instance that says it has burned-in annotation, or whose Modality or SOP
// Class commonly carries names and IDs in its pixels (ultrasound, secondary
// capture, other, external-camera photography, endoscopy), is refused unless
// the profile explicitly accepts the risk. The BurnedInAnnotation flag alone
// cannot be trusted: many ultrasound images with a name banner lack it.
#pragma once

#include <dcmtk/dcmdata/dcitem.h>

#include <set>
#include <string>

namespace Deid
{
  struct BurnedInTextPolicy
  {
    bool acceptRisk = false;                 // profile key "AcceptBurnedInAnnotationRisk"
    std::set<std::string> modalities;        // default: US, SC, OT, XC, ES
    std::set<std::string> sopClassUids;      // default: the Secondary Capture and Ultrasound Image classes

    static BurnedInTextPolicy Default();
  };

  // True if the instance has pixel data (7FE0,0010/0008/0009).
  bool HasPixelData(DcmItem& dataset);

  // Why the instance may carry burned-in text ("Burned In Annotation (0028,0301)
  // is YES", "Modality is US", ...), empty if it is not expected to. Names
  // attributes and standard codes only, never patient values.
  std::string MayCarryBurnedInText(DcmItem& dataset, const BurnedInTextPolicy& policy);
}
