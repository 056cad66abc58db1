// Clean Pixel Data (PS3.15 E.3.1) by configured regions, and by the words
// Tesseract finds when OCR is configured: decodes the pixel
// data with DCMTK (RLE, JPEG baseline/extended/lossless, JPEG-LS), blacks
// out the rectangles of every matching rule on every frame, and re-encodes in
// the source transfer syntax when it is lossless; a lossy source is written
// as Explicit VR Little Endian (recorded in the result). A transfer syntax
// without a decoder (JPEG 2000, ...) throws DeidError(NotImplemented): the
// instance fails, it is never passed through uncleaned.
#pragma once

#include "PixelRegions.h"
#include "Providers.h"
#include "TextDetection.h"

namespace Deid
{
  // Registers DCMTK's RLE, JPEG and JPEG-LS codecs once per process.
  void RegisterPixelCodecs();

  class RegionPixelCleaner : public IPixelCleaner
  {
  private:
    PixelRegionRules rules_;
    OcrSettings ocr_;

  public:
    explicit RegionPixelCleaner(const PixelRegionRules& rules, const OcrSettings& ocr = OcrSettings()) :
      rules_(rules),
      ocr_(ocr)
    {
    }

    const PixelRegionRules& GetRules() const { return rules_; }

    PixelCleaningResult Clean(DcmDataset& dataset) override;
  };
}
