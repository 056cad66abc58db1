// Optical character recognition of burned-in text with Tesseract, for Clean
// Pixel Data (PS3.15 E.3.1). The recognized text is only compared with the
// instance's identifying values in memory: it is never logged nor returned.
#pragma once

#include "PixelRegions.h"

#include <dcmtk/dcmdata/dcdatset.h>
#include <json/value.h>

#include <string>
#include <vector>

namespace Deid
{
  struct OcrSettings
  {
    bool enabled = false;
    bool allWords = true;            // "Words": "All" | "IdentifyingValues"
    std::string language = "eng";
    int minimumConfidence = 0;       // 0..100; words below are ignored
    uint32_t margin = 2;             // pixels added around each word
    std::vector<std::pair<DcmTagKey, std::vector<std::string>>> match;   // empty: every instance

    // "PixelOcr": { "Enable": true, "Words": "All", "Language": "eng",
    //               "MinimumConfidence": 0, "Margin": 2, "Match": { "Modality": "US" } }
    // Throws DeidError(BadProfile); DeidError(NotImplemented) if enabled and
    // Tesseract or its language data is not available.
    static OcrSettings Parse(const Json::Value& section, const std::string& where = "PixelOcr");
  };

  // True if this build has Tesseract.
  bool IsOcrAvailable();

  // The rectangles of the words found on every frame of native pixel data
  // (all words, or only those equal to a token of the identifying values),
  // each widened by the margin and clipped to the image.
  std::vector<PixelRectangle> DetectTextRegions(DcmDataset& dataset, const OcrSettings& settings,
                                                const std::vector<std::string>& identifyingTokens);

  // The words Tesseract reads on an 8-bit grayscale image (width * height
  // bytes, row by row), upper-case alphanumeric (words without a letter or
  // digit dropped): Clean Graphics (E.3.3) asks whether an overlay holds text.
  // In memory only, never logged. Throws DeidError(NotImplemented) without
  // Tesseract or its language data, DeidError(Internal) if recognition fails.
  std::vector<std::string> RecognizeWords(const std::vector<uint8_t>& gray, uint32_t width, uint32_t height,
                                          const std::string& language = "eng");

  // Upper-case alphanumeric tokens (length >= 2) of the instance's own
  // identifying values: names, IDs, birth date (several spellings), accession
  // number, institution. Never logged.
  std::vector<std::string> IdentifyingTokens(DcmItem& dataset);
}
