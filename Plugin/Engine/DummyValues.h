// Dummy values for action D (PS3.15 Table E.1-1a: "replace with a non-zero
// length value that may be a dummy value and consistent with the VR").
// All dummies are plain ASCII (ISO-IR 6), so they are valid whatever the
// Specific Character Set, and they carry nothing of the original value.
#pragma once

#include <dcmtk/dcmdata/dcvr.h>

#include <string>

namespace Deid
{
  // True for the VRs whose value is text (AE AS CS DA DS DT IS LO LT PN SH ST
  // TM UC UI UR UT).
  bool IsStringVR(DcmEVR vr);

  // The dummy text for a string VR, e.g. DA -> "19000101", PN -> "ANONYMOUS".
  // Empty for non-string VRs (and for UI: a UI dummy must be a new UID,
  // obtained from the UID provider by the caller).
  std::string GetDummyString(DcmEVR vr);

  // The size in bytes of one binary dummy value (all zero bytes) for the
  // binary VRs: US SS 2, UL SL FL AT 4, FD SV UV 8, OB UN 2, OW 2, OL OF 4,
  // OD OV 8. 0 for string VRs and SQ.
  size_t GetDummyBinarySize(DcmEVR vr);

  // Maps DCMTK's internal dictionary VRs (xs, ox, lt, up, ...) to a real VR.
  DcmEVR NormalizeVR(DcmEVR vr);
}
