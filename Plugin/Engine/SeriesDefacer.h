// The defacer of one operation (PS3.15 E.3.2): fits the plane of a head CT
// series once, from all its slices, caches it per Series Instance UID, and
// defaces each instance on its own with it. Where the slices come from is the
// caller's business (the plugin reads them from Orthanc; tests from memory).
#pragma once

#include "Defacing.h"
#include "DeidError.h"
#include "RecognizableVisualFeatures.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace Deid
{
  class SeriesDefacer : public IDefacer
  {
  public:
    // Gives the downsampled slices (ReadSliceSample) of the series of the
    // instance, this instance included. Throws DeidError(Refused) when the
    // series cannot be read.
    typedef std::function<std::vector<SliceSample>(DcmDataset& instance)> SeriesLoader;

    explicit SeriesDefacer(SeriesLoader loader, const DefacingSettings& settings = DefacingSettings());

    // Thread-safe: the first instance of a series fits (the others of that
    // series wait), a failure is cached too (same reason for every instance).
    DefacingResult Deface(DcmDataset& dataset) override;

    // How many series were fitted (loaded) so far.
    size_t GetFittedSeriesCount() const;

  private:
    struct Entry
    {
      std::mutex mutex;
      bool done = false;
      DefacingPlane plane;
      std::string error;   // refusal reason (no patient value), empty if fitted
      ErrorCode code = ErrorCode::Refused;
    };

    SeriesLoader loader_;
    DefacingSettings settings_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<Entry>> entries_;   // by Series Instance UID (never logged)
    size_t fitted_ = 0;
  };
}
