// C from RetainLongitudinalModifiedDates (PS3.15 E.3.6).
#pragma once

#include <dcmtk/dcmdata/dcvr.h>

#include <cstdint>
#include <string>

namespace Deid
{
  // DA: each value is a date. DT: the date part (up to 8 digits) is shifted,
  // the time, fraction and "&ZZXX" / "+ZZXX" time zone suffix are kept.
  // False if a value is not a valid date.
  bool ShiftDateValue(DcmEVR vr, const std::string& value, int32_t days, std::string& result);
}
