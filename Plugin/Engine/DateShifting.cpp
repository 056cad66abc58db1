// C from RetainLongitudinalModifiedDates (PS3.15 E.3.6): DA and DT values
// shifted by a number of days, precision, time and time zone kept.

#include "DateShifting.h"
#include "ElementValues.h"

#include <cstdio>
#include <cstring>
#include <ctime>

namespace Deid
{
  namespace
  {
    bool AllDigits(const std::string& s)
    {
      for (char c : s)
      {
        if (c < '0' || c > '9')
        {
          return false;
        }
      }
      return true;
    }

    // Shifts "YYYY", "YYYYMM" or "YYYYMMDD" (ACR-NEMA "YYYY.MM.DD" too) by a
    // number of days, keeping the precision. Missing month/day count as 01.
    bool ShiftDatePart(const std::string& date, int32_t days, std::string& result)
    {
      std::string digits;
      for (char c : date)
      {
        if (c != '.')
        {
          digits.push_back(c);
        }
      }

      if (!AllDigits(digits) || (digits.size() != 4 && digits.size() != 6 && digits.size() != 8))
      {
        return false;
      }

      struct tm t;
      memset(&t, 0, sizeof(t));
      t.tm_year = std::stoi(digits.substr(0, 4)) - 1900;
      t.tm_mon = digits.size() >= 6 ? std::stoi(digits.substr(4, 2)) - 1 : 0;
      t.tm_mday = digits.size() >= 8 ? std::stoi(digits.substr(6, 2)) : 1;
      t.tm_hour = 12;
      if (t.tm_mon < 0 || t.tm_mon > 11 || t.tm_mday < 1 || t.tm_mday > 31)
      {
        return false;
      }

      time_t seconds = timegm(&t);
      seconds += static_cast<time_t>(days) * 86400;
      struct tm shifted;
      if (gmtime_r(&seconds, &shifted) == nullptr)
      {
        return false;
      }

      int year = shifted.tm_year + 1900;
      if (year < 0 || year > 9999)
      {
        return false;
      }

      char buffer[16];
      if (digits.size() == 4)
      {
        snprintf(buffer, sizeof(buffer), "%04d", year);
      }
      else if (digits.size() == 6)
      {
        snprintf(buffer, sizeof(buffer), "%04d%02d", year, shifted.tm_mon + 1);
      }
      else
      {
        snprintf(buffer, sizeof(buffer), "%04d%02d%02d", year, shifted.tm_mon + 1, shifted.tm_mday);
      }
      result = buffer;
      return true;
    }
  }

  // DA: each value is a date. DT: the date part (up to 8 digits) is shifted,
  // the time, fraction and "&ZZXX" / "+ZZXX" time zone suffix are kept.
  bool ShiftDateValue(DcmEVR vr, const std::string& value, int32_t days, std::string& result)
  {
    std::vector<std::string> values = SplitValues(value);
    for (std::string& v : values)
    {
      std::string t = Trim(v);
      if (t.empty())
      {
        v = t;
        continue;
      }

      std::string shifted;
      if (vr == EVR_DA)
      {
        if (!ShiftDatePart(t, days, shifted))
        {
          return false;
        }
        v = shifted;
      }
      else
      {
        size_t end = 0;
        while (end < t.size() && end < 8 && t[end] >= '0' && t[end] <= '9')
        {
          end++;
        }
        if (end != 4 && end != 6 && end != 8)
        {
          return false;
        }
        if (end < 8 && end < t.size() && t[end] != '+' && t[end] != '-')
        {
          return false;   // partial date followed by a time: malformed
        }
        if (!ShiftDatePart(t.substr(0, end), days, shifted))
        {
          return false;
        }
        v = shifted + t.substr(end);
      }
    }

    result = JoinValues(values);
    return true;
  }
}
