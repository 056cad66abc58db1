// Rendering of the first frame for the Clean Pixel Data preview.
#include "PixelPreview.h"

#include "DeidError.h"
#include "PixelCleaner.h"

#include <dcmtk/dcmimage/diregist.h>   // color images in DicomImage
#include <dcmtk/dcmimgle/dcmimage.h>

#include <memory>

namespace Deid
{
  RgbImage RenderFirstFrame(DcmDataset& dataset)
  {
    RegisterPixelCodecs();
    std::unique_ptr<DicomImage> image(new DicomImage(&dataset, dataset.getOriginalXfer(),
                                                     CIF_UsePartialAccessToPixelData, 0, 1));
    if (image->getStatus() != EIS_Normal)
    {
      throw DeidError(ErrorCode::NotImplemented, std::string("Cannot render the image for the preview: ") +
                      DicomImage::getString(image->getStatus()));
    }
    if (image->isMonochrome())
    {
      image->setMinMaxWindow();
    }

    RgbImage result;
    result.width = static_cast<uint32_t>(image->getWidth());
    result.height = static_cast<uint32_t>(image->getHeight());
    const size_t count = static_cast<size_t>(result.width) * result.height;
    const Uint8* data = static_cast<const Uint8*>(image->getOutputData(8, 0, 0));
    if (data == nullptr || count == 0)
    {
      throw DeidError(ErrorCode::NotImplemented, "Cannot render the image for the preview");
    }
    result.pixels.resize(count * 3);
    for (size_t i = 0; i < count; i++)
    {
      for (size_t c = 0; c < 3; c++)
      {
        result.pixels[i * 3 + c] = static_cast<char>(image->isMonochrome() ? data[i] : data[i * 3 + c]);
      }
    }
    return result;
  }

  void OutlineRectangles(RgbImage& image, const std::vector<PixelRectangle>& rectangles)
  {
    auto plot = [&image](int64_t x, int64_t y)
    {
      if (x >= 0 && y >= 0 && x < image.width && y < image.height)
      {
        char* p = &image.pixels[(static_cast<size_t>(y) * image.width + static_cast<size_t>(x)) * 3];
        p[0] = static_cast<char>(255);
        p[1] = 0;
        p[2] = 0;
      }
    };
    for (const PixelRectangle& r : rectangles)
    {
      const int64_t x0 = int64_t(r.x) - 1, y0 = int64_t(r.y) - 1;
      const int64_t x1 = int64_t(r.x) + r.width, y1 = int64_t(r.y) + r.height;
      for (int64_t x = x0; x <= x1; x++)
      {
        plot(x, y0);
        plot(x, y1);
      }
      for (int64_t y = y0; y <= y1; y++)
      {
        plot(x0, y);
        plot(x1, y);
      }
    }
  }
}
