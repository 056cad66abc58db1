// One plane per head CT series, fitted once per operation (PS3.15 E.3.2).
#include "SeriesDefacer.h"

#include "DeidError.h"
#include "ElementValues.h"

#include <dcmtk/dcmdata/dcdeftag.h>

namespace Deid
{
  SeriesDefacer::SeriesDefacer(SeriesLoader loader, const DefacingSettings& settings) :
    loader_(std::move(loader)),
    settings_(settings)
  {
  }

  DefacingResult SeriesDefacer::Deface(DcmDataset& dataset)
  {
    const std::string series = GetString(dataset, DCM_SeriesInstanceUID);
    if (series.empty())
    {
      throw DeidError(ErrorCode::Refused, "Clean Recognizable Visual Features: the instance has no Series "
                      "Instance UID (0020,000E), so its series cannot be read to deface it");
    }

    std::shared_ptr<Entry> entry;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      std::shared_ptr<Entry>& e = entries_[series];
      if (!e)
      {
        e = std::make_shared<Entry>();
      }
      entry = e;
    }

    {
      std::lock_guard<std::mutex> lock(entry->mutex);
      if (!entry->done)
      {
        try
        {
          entry->plane = FitDefacingPlane(loader_(dataset), settings_);
        }
        catch (const DeidError& e)
        {
          entry->error = e.what();
          entry->code = e.GetCode();
        }
        catch (const std::bad_alloc&)
        {
          entry->error = "Clean Recognizable Visual Features: out of memory while reading the series";
          entry->code = ErrorCode::Internal;
        }
        entry->done = true;
        std::lock_guard<std::mutex> count(mutex_);
        fitted_++;
      }
      if (!entry->error.empty())
      {
        throw DeidError(entry->code, entry->error);
      }
    }

    DefacingResult result;
    result.blankedPixels = DefaceSlice(dataset, entry->plane);
    result.defaced = true;
    return result;
  }

  size_t SeriesDefacer::GetFittedSeriesCount() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    return fitted_;
  }
}
