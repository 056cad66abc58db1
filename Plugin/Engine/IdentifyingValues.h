// The identifying values of one instance, read from the ORIGINAL data set
// before the profile runs, for the text cleaner (action C, PS3.15 E.3.3-E.3.5):
// a cleaned text must not repeat any of them. Holds original values: never log.
#pragma once

#include "Providers.h"

#include <dcmtk/dcmdata/dcdatset.h>

#include <vector>

namespace Deid
{
  std::vector<IdentifyingValue> CollectIdentifyingValues(DcmDataset& dataset);
}
