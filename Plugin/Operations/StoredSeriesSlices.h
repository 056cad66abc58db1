// Reads the slices of an instance's series from Orthanc for defacing (PS3.15
// E.3.2): the series is found by its Series Instance UID (/tools/lookup), and
// each of its instances of the same SOP Class and orientation is read once
// and downsampled (Engine/Defacing.h), so that memory stays small.
#pragma once

#include "Engine/Defacing.h"

#include <vector>

namespace Deid
{
  // Throws DeidError(Refused) when the series is not stored or cannot be read.
  std::vector<SliceSample> LoadStoredSeriesSlices(DcmDataset& instance);
}
