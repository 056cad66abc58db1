// A picture of the first frame of an instance with rectangles outlined, for
// people to check Clean Pixel Data (PS3.15 E.3.1) by looking. Rendered with
// DCMTK's dcmimgle/dcmimage (min-max window for grayscale); the plugin layer
// encodes it as PNG.
#pragma once

#include "PixelRegions.h"

#include <dcmtk/dcmdata/dcdatset.h>

#include <string>
#include <vector>

namespace Deid
{
  struct RgbImage
  {
    uint32_t width = 0;
    uint32_t height = 0;
    std::string pixels;   // RGB24, rows top to bottom, pitch = 3 * width
  };

  // Throws DeidError(NotImplemented) when DCMTK cannot render the image.
  RgbImage RenderFirstFrame(DcmDataset& dataset);

  // A 1-pixel red outline just outside each rectangle (inside the image).
  void OutlineRectangles(RgbImage& image, const std::vector<PixelRectangle>& rectangles);
}
