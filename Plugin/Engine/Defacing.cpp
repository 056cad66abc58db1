// Defacing of head CT series (PS3.15 E.3.2). The method is in the header.
#include "Defacing.h"

#include "DeidError.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace Deid
{
  namespace
  {
    const double AIR_HOUNSFIELD = -1000;

    DeidError Refuse(const std::string& why)
    {
      return DeidError(ErrorCode::Refused, "Clean Recognizable Visual Features: " + why);
    }

    // A native CT slice and direct access to its stored values.
    struct NativeSlice
    {
      SliceGeometry geometry;
      double slope = 1;
      double intercept = 0;
      bool signedValues = false;
      unsigned int bitsStored = 16;
      Uint16* values = nullptr;

      double ToHounsfield(Uint16 stored) const
      {
        int v;
        if (signedValues)
        {
          // Sign-extend from Bits Stored.
          const int shift = 32 - static_cast<int>(bitsStored);
          v = static_cast<int>(static_cast<uint32_t>(stored) << shift) >> shift;
        }
        else
        {
          v = stored & ((bitsStored >= 16) ? 0xFFFF : ((1u << bitsStored) - 1));
        }
        return v * slope + intercept;
      }

      Uint16 AirValue() const
      {
        double v = std::round((AIR_HOUNSFIELD - intercept) / slope);
        const double lowest = signedValues ? -std::ldexp(1.0, bitsStored - 1) : 0.0;
        const double highest = signedValues ? std::ldexp(1.0, bitsStored - 1) - 1 : std::ldexp(1.0, bitsStored) - 1;
        v = std::min(std::max(v, lowest), highest);
        return static_cast<Uint16>(static_cast<int16_t>(static_cast<int>(v)) & 0xFFFF);
      }
    };

    void ReadDoubles(DcmItem& dataset, const DcmTagKey& key, const char* name, double* values, unsigned long count)
    {
      for (unsigned long i = 0; i < count; i++)
      {
        Float64 v = 0;
        if (dataset.findAndGetFloat64(key, v, i).bad() || !std::isfinite(v))
        {
          throw Refuse(std::string("the slice has no valid ") + name + ": its position in the head is unknown");
        }
        values[i] = v;
      }
    }

    NativeSlice OpenSlice(DcmDataset& dataset)
    {
      if (DcmXfer(dataset.getCurrentXfer()).isEncapsulated())
      {
        throw Refuse("compressed (encapsulated) pixel data is not defaced by this version; store the series "
                     "uncompressed");
      }
      Sint32 frames = 1;
      if (dataset.findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames != 1)
      {
        throw Refuse("multi-frame images are not defaced by this version");
      }
      Uint16 samples = 1, bitsAllocated = 0, bitsStored = 0, representation = 0, rows = 0, columns = 0;
      dataset.findAndGetUint16(DCM_SamplesPerPixel, samples);
      dataset.findAndGetUint16(DCM_BitsAllocated, bitsAllocated);
      dataset.findAndGetUint16(DCM_BitsStored, bitsStored);
      dataset.findAndGetUint16(DCM_PixelRepresentation, representation);
      dataset.findAndGetUint16(DCM_Rows, rows);
      dataset.findAndGetUint16(DCM_Columns, columns);
      if (samples != 1 || bitsAllocated != 16 || bitsStored == 0 || bitsStored > 16 || rows == 0 || columns == 0)
      {
        throw Refuse("only single-sample images of 16 bits allocated are defaced (Samples per Pixel, Bits "
                     "Allocated, Bits Stored, Rows, Columns)");
      }

      NativeSlice slice;
      slice.signedValues = (representation == 1);
      slice.bitsStored = bitsStored;
      Float64 v;
      if (dataset.findAndGetFloat64(DCM_RescaleSlope, v).good() && std::isfinite(v) && v != 0)
      {
        slice.slope = v;
      }
      if (dataset.findAndGetFloat64(DCM_RescaleIntercept, v).good() && std::isfinite(v))
      {
        slice.intercept = v;
      }

      SliceGeometry& g = slice.geometry;
      g.rows = rows;
      g.columns = columns;
      ReadDoubles(dataset, DCM_ImagePositionPatient, "Image Position (Patient) (0020,0032)", g.position, 3);
      double orientation[6];
      ReadDoubles(dataset, DCM_ImageOrientationPatient, "Image Orientation (Patient) (0020,0037)", orientation, 6);
      std::copy(orientation, orientation + 3, g.rowDirection);
      std::copy(orientation + 3, orientation + 6, g.columnDirection);
      double spacing[2];
      ReadDoubles(dataset, DCM_PixelSpacing, "Pixel Spacing (0028,0030)", spacing, 2);
      if (spacing[0] <= 0 || spacing[1] <= 0)
      {
        throw Refuse("the slice has no valid Pixel Spacing (0028,0030)");
      }
      g.rowSpacing = spacing[0];
      g.columnSpacing = spacing[1];

      DcmElement* element = nullptr;
      unsigned long count = 0;
      if (dataset.findAndGetElement(DCM_PixelData, element, OFFalse).bad() || element == nullptr ||
          element->getUint16Array(slice.values).bad() || slice.values == nullptr ||
          (count = element->getLength() / 2) < static_cast<unsigned long>(rows) * columns)
      {
        throw Refuse("the slice has no readable 16-bit Pixel Data (7FE0,0010)");
      }
      return slice;
    }

    double Dot(const double a[3], const double b[3])
    {
      return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    }

    bool IsAxial(const SliceGeometry& g)
    {
      return std::fabs(g.rowDirection[0]) > 0.9 && std::fabs(g.columnDirection[1]) > 0.9;
    }

    struct ProfilePoint
    {
      double z;
      double y;
    };

    // Walks one ray (a column of the sample grid, anterior to posterior):
    // the anterior skin point, and the front of the brain if any.
    void ScanRay(const SliceSample& slice, unsigned int column, const DefacingSettings& s,
                 std::vector<ProfilePoint>& skin, std::vector<ProfilePoint>& brain)
    {
      const SliceGeometry& g = slice.geometry;
      const bool forward = g.columnDirection[1] > 0;   // increasing row goes posterior
      const double step = g.rowSpacing;
      auto valueAt = [&](unsigned int i) -> double
      {
        const unsigned int row = forward ? i : g.rows - 1 - i;
        return slice.hounsfield[static_cast<size_t>(row) * g.columns + column];
      };
      auto pointAt = [&](unsigned int i) -> ProfilePoint
      {
        const unsigned int row = forward ? i : g.rows - 1 - i;
        double p[3];
        g.ToPatient(row, column, p);
        return ProfilePoint{ p[2], p[1] };
      };

      unsigned int i = 0;
      while (i < g.rows && valueAt(i) <= s.skinHounsfield)
      {
        i++;
      }
      if (i == g.rows)
      {
        return;
      }
      skin.push_back(pointAt(i));

      // Bone, then at least minimumBrainRun of soft tissue, then bone again.
      for (;;)
      {
        while (i < g.rows && valueAt(i) < s.boneHounsfield)
        {
          i++;
        }
        while (i < g.rows && valueAt(i) >= s.boneHounsfield)
        {
          i++;
        }
        if (i >= g.rows)
        {
          return;
        }
        const unsigned int start = i;
        while (i < g.rows && valueAt(i) > -100 && valueAt(i) < s.boneHounsfield)
        {
          i++;
        }
        if (i < g.rows && valueAt(i) >= s.boneHounsfield && (i - start) * step >= s.minimumBrainRun)
        {
          brain.push_back(pointAt(start));
          return;
        }
      }
    }
  }

  void SliceGeometry::ToPatient(double row, double column, double point[3]) const
  {
    for (int k = 0; k < 3; k++)
    {
      point[k] = position[k] + column * columnSpacing * rowDirection[k] + row * rowSpacing * columnDirection[k];
    }
  }

  SliceSample ReadSliceSample(DcmDataset& dataset, unsigned int maximumSize)
  {
    const NativeSlice slice = OpenSlice(dataset);
    const SliceGeometry& g = slice.geometry;
    const unsigned int largest = std::max(g.rows, g.columns);
    const unsigned int factor = std::max(1u, (largest + maximumSize - 1) / std::max(1u, maximumSize));

    SliceSample sample;
    SliceGeometry& d = sample.geometry;
    d = g;
    d.rows = std::max(1u, g.rows / factor);
    d.columns = std::max(1u, g.columns / factor);
    d.rowSpacing = g.rowSpacing * factor;
    d.columnSpacing = g.columnSpacing * factor;
    g.ToPatient((factor - 1) / 2.0, (factor - 1) / 2.0, d.position);

    sample.hounsfield.assign(static_cast<size_t>(d.rows) * d.columns, 0.0f);
    for (unsigned int r = 0; r < d.rows; r++)
    {
      for (unsigned int c = 0; c < d.columns; c++)
      {
        double sum = 0;
        unsigned int n = 0;
        for (unsigned int y = r * factor; y < std::min(g.rows, (r + 1) * factor); y++)
        {
          for (unsigned int x = c * factor; x < std::min(g.columns, (c + 1) * factor); x++)
          {
            sum += slice.ToHounsfield(slice.values[static_cast<size_t>(y) * g.columns + x]);
            n++;
          }
        }
        sample.hounsfield[static_cast<size_t>(r) * d.columns + c] = static_cast<float>(n ? sum / n : AIR_HOUNSFIELD);
      }
    }
    return sample;
  }

  DefacingPlane FitDefacingPlane(const std::vector<SliceSample>& slices, const DefacingSettings& s)
  {
    if (slices.size() < s.minimumSlices)
    {
      throw Refuse("defacing needs the whole series (at least " + std::to_string(s.minimumSlices) +
                   " slices), it has " + std::to_string(slices.size()));
    }
    for (const SliceSample& slice : slices)
    {
      if (!IsAxial(slice.geometry))
      {
        throw Refuse("only axial head CT slices are defaced by this version (Image Orientation (Patient))");
      }
    }

    // The left-right centre of the head: mean x of everything above the skin threshold.
    double sumX = 0;
    size_t countX = 0;
    for (const SliceSample& slice : slices)
    {
      const SliceGeometry& g = slice.geometry;
      for (unsigned int r = 0; r < g.rows; r++)
      {
        for (unsigned int c = 0; c < g.columns; c++)
        {
          if (slice.hounsfield[static_cast<size_t>(r) * g.columns + c] > s.skinHounsfield)
          {
            double p[3];
            g.ToPatient(r, c, p);
            sumX += p[0];
            countX++;
          }
        }
      }
    }
    if (countX == 0)
    {
      throw Refuse("no head found in the series (nothing above " + std::to_string(int(s.skinHounsfield)) + " HU)");
    }
    const double centreX = sumX / countX;

    // Per slice: the anterior-most skin point; every brain front point.
    std::vector<ProfilePoint> face;
    std::vector<ProfilePoint> brain;
    for (const SliceSample& slice : slices)
    {
      std::vector<ProfilePoint> skin;
      const SliceGeometry& g = slice.geometry;
      for (unsigned int c = 0; c < g.columns; c++)
      {
        double p[3];
        g.ToPatient(0, c, p);
        if (std::fabs(p[0] - centreX) <= s.bandHalfWidth)
        {
          ScanRay(slice, c, s, skin, brain);
        }
      }
      if (!skin.empty())
      {
        face.push_back(*std::min_element(skin.begin(), skin.end(), [](const ProfilePoint& a, const ProfilePoint& b)
                                         { return a.y < b.y; }));
      }
    }
    if (brain.size() < 3)
    {
      throw Refuse("no brain found behind the skull: the face cannot be removed safely");
    }
    if (face.size() < 3)
    {
      throw Refuse("no face found in the series");
    }

    // The face zone: the lower part of the head's height.
    double zLow = std::numeric_limits<double>::max(), zHigh = -zLow;
    for (const ProfilePoint& p : face)
    {
      zLow = std::min(zLow, p.z);
      zHigh = std::max(zHigh, p.z);
    }
    const double zLimit = zLow + s.faceZone * (zHigh - zLow);
    std::vector<ProfilePoint> zone;
    for (const ProfilePoint& p : face)
    {
      if (p.z <= zLimit)
      {
        zone.push_back(p);
      }
    }
    if (zone.size() < 3)
    {
      throw Refuse("the series covers too little of the head to find the face");
    }

    // Least squares y = m z + c0 through the face.
    double mz = 0, my = 0;
    for (const ProfilePoint& p : zone)
    {
      mz += p.z;
      my += p.y;
    }
    mz /= zone.size();
    my /= zone.size();
    double szz = 0, szy = 0;
    for (const ProfilePoint& p : zone)
    {
      szz += (p.z - mz) * (p.z - mz);
      szy += (p.z - mz) * (p.y - my);
    }
    double m = (szz > 0) ? szy / szz : 0;
    m = std::max(-1.0, std::min(1.0, m));

    // Moved back until it keeps the margin in front of the brain everywhere.
    double c = std::numeric_limits<double>::max();
    for (const ProfilePoint& p : brain)
    {
      c = std::min(c, p.y - s.brainMargin - m * p.z);
    }

    // The face must be in front of it: the most anterior point by minimumFaceDepth.
    double deepest = -std::numeric_limits<double>::max();
    for (const ProfilePoint& p : zone)
    {
      deepest = std::max(deepest, (m * p.z + c) - p.y);
    }
    if (deepest < s.minimumFaceDepth)
    {
      throw Refuse("no face found in front of the brain: it cannot be removed safely");
    }

    // In front: y < m z + c  <=>  m z - y > -c.
    DefacingPlane plane;
    const double norm = std::sqrt(1 + m * m);
    plane.normal[0] = 0;
    plane.normal[1] = -1 / norm;
    plane.normal[2] = m / norm;
    plane.offset = -c / norm;
    return plane;
  }

  size_t DefaceSlice(DcmDataset& dataset, const DefacingPlane& plane)
  {
    NativeSlice slice = OpenSlice(dataset);
    const SliceGeometry& g = slice.geometry;
    const Uint16 air = slice.AirValue();
    const double base = Dot(plane.normal, g.position);
    const double perColumn = g.columnSpacing * Dot(plane.normal, g.rowDirection);
    const double perRow = g.rowSpacing * Dot(plane.normal, g.columnDirection);

    size_t count = 0;
    for (unsigned int r = 0; r < g.rows; r++)
    {
      Uint16* row = slice.values + static_cast<size_t>(r) * g.columns;
      for (unsigned int c = 0; c < g.columns; c++)
      {
        if (base + r * perRow + c * perColumn > plane.offset)
        {
          if (row[c] != air)
          {
            row[c] = air;
          }
          count++;
        }
      }
    }
    if (count > 0)
    {
      // Type 3 values that may no longer hold.
      dataset.findAndDeleteElement(DCM_SmallestImagePixelValue);
      dataset.findAndDeleteElement(DCM_LargestImagePixelValue);
    }
    return count;
  }
}
