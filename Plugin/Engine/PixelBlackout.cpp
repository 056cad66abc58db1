// Black rectangles in native pixel data (PS3.15 E.3.1 by configured regions).
#include "PixelBlackout.h"

#include "DeidError.h"
#include "ElementValues.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>

#include <algorithm>
#include <limits>

namespace Deid
{
  namespace
  {
    uint16_t GetUS(DcmItem& dataset, const DcmTagKey& key, bool required, uint16_t defaultValue)
    {
      Uint16 value = 0;
      if (dataset.findAndGetUint16(key, value).good())
      {
        return value;
      }
      if (required)
      {
        throw DeidError(ErrorCode::BadInput, "Clean Pixel Data: the image has no valid " +
                        std::string(DcmTag(key).getTagName()) + " " + FormatTag(key));
      }
      return defaultValue;
    }

    // The 16-bit words of a palette LUT (PS3.3 C.7.6.3.1.6); 8-bit entries
    // packed two per word are unpacked.
    std::vector<uint32_t> ReadPalette(DcmItem& dataset, const DcmTagKey& descriptorKey,
                                      const DcmTagKey& dataKey, uint32_t& firstMapped)
    {
      const Uint16* descriptor = nullptr;
      unsigned long count = 0;
      DcmElement* element = nullptr;
      if (dataset.findAndGetElement(descriptorKey, element).bad() || element == nullptr ||
          element->getVM() != 3)
      {
        throw DeidError(ErrorCode::NotImplemented, "Clean Pixel Data: PALETTE COLOR without a valid " +
                        FormatTag(descriptorKey) + " descriptor (segmented palettes are not handled)");
      }
      Uint16 d[3] = { 0, 0, 0 };
      for (unsigned long i = 0; i < 3; i++)
      {
        element->getUint16(d[i], i);
      }
      const uint32_t entries = (d[0] == 0) ? 65536u : d[0];
      firstMapped = d[1];
      if (dataset.findAndGetUint16Array(dataKey, descriptor, &count).bad() || descriptor == nullptr)
      {
        throw DeidError(ErrorCode::NotImplemented, "Clean Pixel Data: PALETTE COLOR without " +
                        FormatTag(dataKey) + " (segmented palettes are not handled)");
      }
      std::vector<uint32_t> values;
      if (d[2] == 8 && count * 2 == entries)
      {
        for (unsigned long i = 0; i < count; i++)
        {
          values.push_back(descriptor[i] & 0xFF);
          values.push_back(descriptor[i] >> 8);
        }
      }
      else
      {
        values.assign(descriptor, descriptor + std::min<unsigned long>(count, entries));
      }
      if (values.empty())
      {
        throw DeidError(ErrorCode::NotImplemented, "Clean Pixel Data: empty palette " + FormatTag(dataKey));
      }
      return values;
    }

    // The stored value of the darkest palette entry (luminance of PS3.3 C.7.6.3.1.2 weights).
    uint32_t DarkestPaletteIndex(DcmItem& dataset)
    {
      uint32_t firstRed = 0, firstGreen = 0, firstBlue = 0;
      std::vector<uint32_t> red = ReadPalette(dataset, DCM_RedPaletteColorLookupTableDescriptor,
                                              DCM_RedPaletteColorLookupTableData, firstRed);
      std::vector<uint32_t> green = ReadPalette(dataset, DCM_GreenPaletteColorLookupTableDescriptor,
                                                DCM_GreenPaletteColorLookupTableData, firstGreen);
      std::vector<uint32_t> blue = ReadPalette(dataset, DCM_BluePaletteColorLookupTableDescriptor,
                                               DCM_BluePaletteColorLookupTableData, firstBlue);
      size_t n = std::min(red.size(), std::min(green.size(), blue.size()));
      size_t best = 0;
      double bestLuminance = std::numeric_limits<double>::max();
      for (size_t i = 0; i < n; i++)
      {
        double luminance = 0.299 * red[i] + 0.587 * green[i] + 0.114 * blue[i];
        if (luminance < bestLuminance)
        {
          bestLuminance = luminance;
          best = i;
        }
      }
      return firstRed + static_cast<uint32_t>(best);
    }

    template <typename T>
    void Fill(T* pixels, size_t frameSamples, const ImageGeometry& g, uint16_t samples, bool planar,
              const std::vector<uint32_t>& black, const std::vector<PixelRectangle>& rectangles)
    {
      for (uint32_t f = 0; f < g.frames; f++)
      {
        T* frame = pixels + f * frameSamples;
        for (const PixelRectangle& r : rectangles)
        {
          for (uint32_t y = r.y; y < r.y + r.height; y++)
          {
            for (uint32_t x = r.x; x < r.x + r.width; x++)
            {
              const size_t pixel = static_cast<size_t>(y) * g.columns + x;
              for (uint16_t s = 0; s < samples; s++)
              {
                const size_t index = planar ? s * static_cast<size_t>(g.rows) * g.columns + pixel :
                  pixel * samples + s;
                frame[index] = static_cast<T>(black[s]);
              }
            }
          }
        }
      }
    }

    // YBR_FULL_422 native (PS3.3 C.7.6.3.1.2): Y1 Y2 Cb Cr for each pair of
    // pixels of a row; the rectangle is widened to whole pairs.
    template <typename T>
    void Fill422(T* pixels, size_t frameSamples, const ImageGeometry& g, uint32_t middle,
                 const std::vector<PixelRectangle>& rectangles)
    {
      for (uint32_t f = 0; f < g.frames; f++)
      {
        T* frame = pixels + f * frameSamples;
        for (const PixelRectangle& r : rectangles)
        {
          const uint32_t x0 = r.x / 2;
          const uint32_t x1 = std::min<uint32_t>((r.x + r.width + 1) / 2, g.columns / 2);
          for (uint32_t y = r.y; y < r.y + r.height; y++)
          {
            for (uint32_t pair = x0; pair < x1; pair++)
            {
              T* p = frame + (static_cast<size_t>(y) * (g.columns / 2) + pair) * 4;
              p[0] = 0;
              p[1] = 0;
              p[2] = static_cast<T>(middle);
              p[3] = static_cast<T>(middle);
            }
          }
        }
      }
    }
  }

  ImageGeometry GetImageGeometry(DcmItem& dataset)
  {
    ImageGeometry g;
    g.rows = GetUS(dataset, DCM_Rows, true, 0);
    g.columns = GetUS(dataset, DCM_Columns, true, 0);
    Sint32 frames = 1;
    if (dataset.findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames > 1)
    {
      g.frames = static_cast<uint32_t>(frames);
    }
    if (g.rows == 0 || g.columns == 0)
    {
      throw DeidError(ErrorCode::BadInput, "Clean Pixel Data: the image has no rows or columns");
    }
    return g;
  }

  void BlackOutNativePixels(DcmDataset& dataset, const std::vector<PixelRectangle>& rectangles)
  {
    const ImageGeometry g = GetImageGeometry(dataset);
    const uint16_t samples = GetUS(dataset, DCM_SamplesPerPixel, true, 1);
    const uint16_t bitsAllocated = GetUS(dataset, DCM_BitsAllocated, true, 0);
    const uint16_t bitsStored = GetUS(dataset, DCM_BitsStored, false, bitsAllocated);
    const uint16_t highBit = GetUS(dataset, DCM_HighBit, false, static_cast<uint16_t>(bitsStored - 1));
    const bool isSigned = GetUS(dataset, DCM_PixelRepresentation, false, 0) == 1;
    const bool planar = GetUS(dataset, DCM_PlanarConfiguration, false, 0) == 1;
    const std::string photometric = GetString(dataset, DCM_PhotometricInterpretation);

    if ((bitsAllocated != 8 && bitsAllocated != 16) || bitsStored == 0 || bitsStored > bitsAllocated ||
        highBit >= bitsAllocated || highBit + 1 < bitsStored)
    {
      throw DeidError(ErrorCode::NotImplemented, "Clean Pixel Data: Bits Allocated " +
                      std::to_string(bitsAllocated) + " / Bits Stored " + std::to_string(bitsStored) +
                      " is not handled (8 or 16 bits allocated)");
    }
    if (samples != 1 && samples != 3)
    {
      throw DeidError(ErrorCode::NotImplemented, "Clean Pixel Data: Samples per Pixel " +
                      std::to_string(samples) + " is not handled (1 or 3)");
    }

    // The stored value for each sample, as an unsigned bit pattern in place.
    const uint32_t storedMask = (bitsStored >= 32) ? 0xFFFFFFFFu : ((1u << bitsStored) - 1u);
    const uint32_t shift = highBit + 1u - bitsStored;
    auto pattern = [&](int64_t value) -> uint32_t
    {
      return (static_cast<uint32_t>(value) & storedMask) << shift;
    };
    const int64_t minimum = isSigned ? -(int64_t(1) << (bitsStored - 1)) : 0;
    const int64_t maximum = isSigned ? (int64_t(1) << (bitsStored - 1)) - 1 : (int64_t(1) << bitsStored) - 1;
    const int64_t middle = isSigned ? 0 : (int64_t(1) << (bitsStored - 1));

    std::vector<uint32_t> black;
    bool ybr422 = false;
    if (samples == 1 && photometric == "MONOCHROME2")
    {
      black = { pattern(minimum) };
    }
    else if (samples == 1 && photometric == "MONOCHROME1")
    {
      black = { pattern(maximum) };
    }
    else if (samples == 1 && photometric == "PALETTE COLOR")
    {
      black = { pattern(DarkestPaletteIndex(dataset)) };
    }
    else if (samples == 3 && photometric == "RGB")
    {
      black = { pattern(minimum), pattern(minimum), pattern(minimum) };
    }
    else if (samples == 3 && photometric == "YBR_FULL")
    {
      black = { pattern(minimum), pattern(middle), pattern(middle) };
    }
    else if (samples == 3 && photometric == "YBR_FULL_422" && !planar && g.columns % 2 == 0)
    {
      ybr422 = true;
    }
    else
    {
      throw DeidError(ErrorCode::NotImplemented, "Clean Pixel Data: Photometric Interpretation \"" +
                      photometric + "\" with " + std::to_string(samples) + " samples per pixel is not handled");
    }

    DcmElement* element = nullptr;
    if (dataset.findAndGetElement(DCM_PixelData, element).bad() || element == nullptr)
    {
      throw DeidError(ErrorCode::BadInput, "Clean Pixel Data: no Pixel Data (7FE0,0010)");
    }

    const size_t bytesPerSample = bitsAllocated / 8;
    const size_t frameSamples = ybr422 ? static_cast<size_t>(g.rows) * g.columns * 2 :
      static_cast<size_t>(g.rows) * g.columns * samples;
    const size_t needed = frameSamples * g.frames * bytesPerSample;
    if (element->getLength() < needed)
    {
      throw DeidError(ErrorCode::BadInput, "Clean Pixel Data: Pixel Data (7FE0,0010) is shorter than "
                      "Rows x Columns x Samples x Frames");
    }

    for (const PixelRectangle& r : rectangles)
    {
      if (r.x + r.width > g.columns || r.y + r.height > g.rows)
      {
        throw DeidError(ErrorCode::Internal, "Clean Pixel Data: region outside the image");
      }
    }

    if (bitsAllocated == 8)
    {
      Uint8* pixels = nullptr;
      Uint16* words = nullptr;
      if ((element->getUint8Array(pixels).bad() || pixels == nullptr) &&
          element->getUint16Array(words).good() && words != nullptr)
      {
        pixels = reinterpret_cast<Uint8*>(words);   // 8-bit samples read as OW (little endian host)
      }
      if (pixels == nullptr)
      {
        throw DeidError(ErrorCode::BadInput, "Clean Pixel Data: cannot access the 8-bit pixel data");
      }
      ybr422 ? Fill422(pixels, frameSamples, g, pattern(middle), rectangles) :
        Fill(pixels, frameSamples, g, samples, planar, black, rectangles);
    }
    else
    {
      Uint16* pixels = nullptr;
      if (element->getUint16Array(pixels).bad() || pixels == nullptr)
      {
        throw DeidError(ErrorCode::BadInput, "Clean Pixel Data: cannot access the 16-bit pixel data");
      }
      ybr422 ? Fill422(pixels, frameSamples, g, pattern(middle), rectangles) :
        Fill(pixels, frameSamples, g, samples, planar, black, rectangles);
    }
  }
}
