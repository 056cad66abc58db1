// Defacing of head CT series (PS3.15 E.3.2, Clean Recognizable Visual
// Features). No Orthanc: the caller gives the slices of the series.
//
// Method (README "Clean Recognizable Visual Features and defacing"):
//  1. Each slice is read once, downsampled to at most 128 x 128 block means
//     in Hounsfield units (Rescale Slope / Intercept) with its geometry
//     (Image Position / Orientation (Patient), Pixel Spacing).
//  2. In a band of +-25 mm around the head's left-right centre, for every
//     slice: the anterior-most skin point (first value above -400 HU from the
//     front), and the front of the brain (the first soft-tissue value behind a
//     bone run (>= 300 HU) that continues >= 20 mm and ends at bone).
//  3. A plane parallel to the left-right axis is fitted by least squares to
//     the skin points of the lower 65 % of the head (forehead, nose, lips,
//     chin), then moved back (posteriorly) until it is 10 mm in front of the
//     brain on every slice that has brain.
//  4. Every voxel in front of that plane is set to air (-1000 HU), slice by
//     slice, each instance on its own.
// Refused (DeidError Refused, with the reason): fewer than 10 slices, slices
// that are not axial, compressed or multi-frame pixel data, other than 16
// bits per sample or one sample per pixel, no brain or no face found.
#pragma once

#include <dcmtk/dcmdata/dcdatset.h>

#include <cstddef>
#include <vector>

namespace Deid
{
  struct SliceGeometry
  {
    double position[3] = { 0, 0, 0 };   // patient coordinates (LPS, mm) of the first sample's centre
    double rowDirection[3] = { 1, 0, 0 };      // along a row (increasing column)
    double columnDirection[3] = { 0, 1, 0 };   // along a column (increasing row)
    double rowSpacing = 1;              // mm between rows
    double columnSpacing = 1;           // mm between columns
    unsigned int rows = 0;
    unsigned int columns = 0;

    // Patient coordinates of sample (row, column).
    void ToPatient(double row, double column, double point[3]) const;
  };

  // One slice, downsampled, in Hounsfield units. Holds no patient value.
  struct SliceSample
  {
    SliceGeometry geometry;
    std::vector<float> hounsfield;   // rows x columns, row by row
  };

  // Reads one CT slice (uncompressed, 16 bits, one frame), downsampled by
  // block means so that neither side exceeds maximumSize. Throws
  // DeidError(Refused) naming what is not handled.
  SliceSample ReadSliceSample(DcmDataset& dataset, unsigned int maximumSize = 128);

  // Front side: dot(normal, p) > offset (patient coordinates, mm).
  struct DefacingPlane
  {
    double normal[3] = { 0, -1, 0 };
    double offset = 0;

    bool IsInFront(const double point[3]) const
    {
      return normal[0] * point[0] + normal[1] * point[1] + normal[2] * point[2] > offset;
    }
  };

  struct DefacingSettings
  {
    double skinHounsfield = -400;     // air / skin boundary
    double boneHounsfield = 300;
    double bandHalfWidth = 25;        // mm around the left-right centre
    double brainMargin = 10;          // mm kept in front of the brain
    double minimumBrainRun = 20;      // mm of soft tissue behind bone to count as brain
    double faceZone = 0.65;           // lower fraction of the head's height fitted
    double minimumFaceDepth = 5;      // mm: the most anterior point must be this far in front
    size_t minimumSlices = 10;
  };

  // Fits the plane on the slices of one series. Throws DeidError(Refused)
  // when no safe plane is found.
  DefacingPlane FitDefacingPlane(const std::vector<SliceSample>& slices,
                                 const DefacingSettings& settings = DefacingSettings());

  // Sets every pixel in front of the plane to air (-1000 HU as a stored
  // value, clamped to the stored range). Returns the number of pixels set.
  // Same refusals as ReadSliceSample.
  size_t DefaceSlice(DcmDataset& dataset, const DefacingPlane& plane);
}
