// Writes black into rectangles of native (uncompressed) pixel data, in the
// layout the data set declares (PS3.3 C.7.6.3, PS3.5 8.2): 8 or 16 bits
// allocated, 1 or 3 samples per pixel, planar configuration 0 or 1, every
// frame. Black is the darkest stored value of the photometric
// interpretation: MONOCHROME2 the minimum, MONOCHROME1 the maximum, RGB 0,
// YBR_FULL / YBR_FULL_422 Y = 0 and Cb = Cr = the middle value, PALETTE
// COLOR the index of the darkest palette entry. Anything else throws
// DeidError(NotImplemented): pixels are never left uncleaned silently.
#pragma once

#include "PixelRegions.h"

#include <dcmtk/dcmdata/dcdatset.h>

#include <vector>

namespace Deid
{
  struct ImageGeometry
  {
    uint32_t rows = 0;
    uint32_t columns = 0;
    uint32_t frames = 1;
  };

  // Rows, Columns, Number of Frames; throws DeidError(BadInput) if missing.
  ImageGeometry GetImageGeometry(DcmItem& dataset);

  // The pixel data must be in its native representation (chooseRepresentation
  // to an uncompressed transfer syntax done by the caller).
  void BlackOutNativePixels(DcmDataset& dataset, const std::vector<PixelRectangle>& rectangles);
}
