// Clean Recognizable Visual Features (PS3.15 E.3.2): which instances can show
// a face, and the defacing of head CT on a synthetic head phantom.
#include "DeidentifierTestSupport.h"

#include "Engine/DeidError.h"
#include "Engine/Defacing.h"
#include "Engine/PixelCleaner.h"
#include "Engine/RecognizableVisualFeatures.h"
#include "Engine/SeriesDefacer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace Deid;
using namespace Deid::Testing;

namespace
{
  // The phantom, in patient coordinates (LPS, mm: anterior is -y, superior
  // +z): an ellipsoid head with 7 % of skin, a skull (above z = -20) around
  // the brain (above z = -15), a nose and a chin in front.
  const unsigned int SIZE = 128;
  const double SPACING = 2;
  const unsigned int SLICES = 40;
  const double FIRST_Z = -100;
  const double SLICE_STEP = 5;
  const double INTERCEPT = -1024;

  double Inside(double x, double y, double z, double cx, double cy, double cz, double ax, double ay, double az)
  {
    const double dx = (x - cx) / ax, dy = (y - cy) / ay, dz = (z - cz) / az;
    return dx * dx + dy * dy + dz * dz;
  }

  double PhantomHounsfield(double x, double y, double z, bool head = true)
  {
    const double r = Inside(x, y, z, 0, 0, 0, 75, 95, 105);
    if (head)
    {
      if (Inside(x, y, z, 0, -95, -30, 12, 25, 20) <= 1)
      {
        return 40;   // nose
      }
      if (Inside(x, y, z, 0, -70, -85, 25, 18, 14) <= 1)
      {
        return 40;   // chin
      }
    }
    if (r > 1)
    {
      return -1000;
    }
    if (!head)
    {
      return 40;
    }
    const double inner = Inside(x, y, z, 0, 0, 0, 75 * 0.86, 95 * 0.86, 105 * 0.86);
    if (z > -20 && r <= 0.93 * 0.93 && inner > 1)
    {
      return 1000;   // skull
    }
    if (z > -20 && inner <= 1)
    {
      return z > -15 ? 30 : 1000;   // brain above the skull base
    }
    return 40;
  }

  std::unique_ptr<DcmFileFormat> MakeSlice(unsigned int k, bool head = true, const char* bodyPart = "HEAD",
                                           const char* sopClass = UID_CTImageStorage, const char* series = "1.2.3.4.5.6.7.2")
  {
    std::unique_ptr<DcmFileFormat> file = MakeFile(sopClass);
    DcmDataset& ds = *file->getDataset();
    const std::string sop = "1.2.3.4.5.6.7.100." + std::to_string(k);
    ds.putAndInsertString(DCM_SOPInstanceUID, sop.c_str());
    file->getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, sop.c_str());
    ds.putAndInsertString(DCM_SeriesInstanceUID, series);
    if (bodyPart != nullptr)
    {
      ds.putAndInsertString(DCM_BodyPartExamined, bodyPart);
    }
    const double z = FIRST_Z + k * SLICE_STEP;
    const double origin = -(SIZE - 1.0) * SPACING / 2;
    const std::string position = std::to_string(origin) + "\\" + std::to_string(origin) + "\\" + std::to_string(z);
    ds.putAndInsertString(DCM_ImagePositionPatient, position.c_str());
    ds.putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
    ds.putAndInsertString(DCM_PixelSpacing, "2\\2");
    ds.putAndInsertString(DCM_SliceThickness, "5");
    ds.putAndInsertUint16(DCM_Rows, SIZE);
    ds.putAndInsertUint16(DCM_Columns, SIZE);
    ds.putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds.putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds.putAndInsertUint16(DCM_BitsAllocated, 16);
    ds.putAndInsertUint16(DCM_BitsStored, 12);
    ds.putAndInsertUint16(DCM_HighBit, 11);
    ds.putAndInsertUint16(DCM_PixelRepresentation, 0);
    ds.putAndInsertString(DCM_RescaleIntercept, "-1024");
    ds.putAndInsertString(DCM_RescaleSlope, "1");
    std::vector<Uint16> pixels(SIZE * SIZE);
    for (unsigned int r = 0; r < SIZE; r++)
    {
      for (unsigned int c = 0; c < SIZE; c++)
      {
        pixels[r * SIZE + c] = static_cast<Uint16>(PhantomHounsfield(origin + c * SPACING, origin + r * SPACING, z, head) -
                                                   INTERCEPT);
      }
    }
    ds.putAndInsertUint16Array(DCM_PixelData, pixels.data(), pixels.size());
    return file;
  }

  // The same slice with signed stored values in Hounsfield units (Pixel
  // Representation 1, Bits Stored 12, Rescale Intercept 0).
  std::unique_ptr<DcmFileFormat> MakeSignedSlice(unsigned int k)
  {
    std::unique_ptr<DcmFileFormat> file = MakeSlice(k);
    DcmDataset& ds = *file->getDataset();
    const Uint16* unsignedValues = nullptr;
    EXPECT_TRUE(ds.findAndGetUint16Array(DCM_PixelData, unsignedValues).good());
    std::vector<Uint16> values(unsignedValues, unsignedValues + SIZE * SIZE);
    for (Uint16& v : values)
    {
      v = static_cast<Uint16>(static_cast<Sint16>(static_cast<int>(v) + static_cast<int>(INTERCEPT)));
    }
    ds.putAndInsertUint16(DCM_PixelRepresentation, 1);
    ds.putAndInsertString(DCM_RescaleIntercept, "0");
    ds.putAndInsertUint16Array(DCM_PixelData, values.data(), values.size());
    return file;
  }

  std::vector<std::unique_ptr<DcmFileFormat>> MakeSeries(bool head = true, const char* bodyPart = "HEAD")
  {
    std::vector<std::unique_ptr<DcmFileFormat>> series;
    for (unsigned int k = 0; k < SLICES; k++)
    {
      series.push_back(MakeSlice(k, head, bodyPart));
    }
    return series;
  }

  std::vector<SliceSample> Samples(const std::vector<std::unique_ptr<DcmFileFormat>>& series)
  {
    std::vector<SliceSample> samples;
    for (const auto& file : series)
    {
      samples.push_back(ReadSliceSample(*file->getDataset()));
    }
    return samples;
  }

  // Hounsfield units of the slice at patient (x, y) (the slice's own z).
  double ValueAt(DcmDataset& ds, double x, double y)
  {
    const Uint16* pixels = nullptr;
    EXPECT_TRUE(ds.findAndGetUint16Array(DCM_PixelData, pixels).good());
    const double origin = -(SIZE - 1.0) * SPACING / 2;
    const unsigned int c = static_cast<unsigned int>(std::lround((x - origin) / SPACING));
    const unsigned int r = static_cast<unsigned int>(std::lround((y - origin) / SPACING));
    return pixels[r * SIZE + c] + INTERCEPT;
  }

  unsigned int SliceAt(double z)
  {
    return static_cast<unsigned int>(std::lround((z - FIRST_Z) / SLICE_STEP));
  }

  bool InFront(const DefacingPlane& plane, double x, double y, double z)
  {
    const double p[3] = { x, y, z };
    return plane.IsInFront(p);
  }
}


TEST(Defacing, PhantomIsWhatTheTestsAssume)
{
  auto nose = MakeSlice(SliceAt(-30));
  EXPECT_EQ(40, ValueAt(*nose->getDataset(), 0, -114));   // nose tip
  auto brain = MakeSlice(SliceAt(10));
  EXPECT_EQ(30, ValueAt(*brain->getDataset(), 0, -60));   // brain
  EXPECT_EQ(1000, ValueAt(*brain->getDataset(), 0, -86)); // skull
  EXPECT_EQ(40, ValueAt(*brain->getDataset(), 0, -92));   // forehead skin
}

TEST(Defacing, PlaneFitFindsTheFaceAndKeepsTheBrain)
{
  const DefacingPlane plane = FitDefacingPlane(Samples(MakeSeries()));
  // The nose and the chin are in front of the plane.
  EXPECT_TRUE(InFront(plane, 0, -114, -30));
  EXPECT_TRUE(InFront(plane, 0, -100, -30));
  EXPECT_TRUE(InFront(plane, 0, -84, -85));
  EXPECT_TRUE(InFront(plane, 20, -110, -30));
  // The brain, with a margin, and the back of the head are behind it.
  for (double z = -15; z <= 80; z += 5)
  {
    const double front = -95 * 0.86 * std::sqrt(std::max(0.0, 1 - (z / (105 * 0.86)) * (z / (105 * 0.86))));
    EXPECT_FALSE(InFront(plane, 0, front - 5, z)) << z;
  }
  EXPECT_FALSE(InFront(plane, 0, 90, 0));
  EXPECT_FALSE(InFront(plane, 60, 0, 0));
  // Parallel to the left-right axis.
  EXPECT_EQ(0, plane.normal[0]);
  EXPECT_LT(plane.normal[1], 0);
}

TEST(Defacing, DefacedSlicesHaveNoNoseNorChinButTheirBrain)
{
  auto series = MakeSeries();
  const DefacingPlane plane = FitDefacingPlane(Samples(series));
  size_t total = 0;
  for (auto& file : series)
  {
    total += DefaceSlice(*file->getDataset(), plane);
  }
  EXPECT_GT(total, 0u);

  DcmDataset& nose = *series[SliceAt(-30)]->getDataset();
  EXPECT_EQ(-1000, ValueAt(nose, 0, -114));
  EXPECT_EQ(-1000, ValueAt(nose, 0, -100));
  EXPECT_EQ(40, ValueAt(nose, 0, 0));          // inside the head
  DcmDataset& chin = *series[SliceAt(-85)]->getDataset();
  EXPECT_EQ(-1000, ValueAt(chin, 0, -84));
  DcmDataset& brain = *series[SliceAt(10)]->getDataset();
  EXPECT_EQ(30, ValueAt(brain, 0, -60));
  EXPECT_EQ(30, ValueAt(brain, 0, 0));
  EXPECT_EQ(1000, ValueAt(brain, 0, -84));     // the skull in front of the brain
  EXPECT_EQ(40, ValueAt(brain, 0, 92));        // the back of the head
  // Every brain voxel of every slice is unchanged.
  auto original = MakeSeries();
  for (unsigned int k = 0; k < SLICES; k++)
  {
    const double z = FIRST_Z + k * SLICE_STEP;
    for (double y = -80; y <= 80; y += 2)
    {
      if (PhantomHounsfield(0, y, z) == 30)
      {
        ASSERT_EQ(ValueAt(*original[k]->getDataset(), 0, y), ValueAt(*series[k]->getDataset(), 0, y)) << z << " " << y;
      }
    }
  }
}

TEST(Defacing, RefusesWhatItCannotDefaceSafely)
{
  auto expectRefused = [](const std::vector<SliceSample>& samples, const char* words)
  {
    try
    {
      FitDefacingPlane(samples);
      ADD_FAILURE() << "accepted";
    }
    catch (const DeidError& e)
    {
      EXPECT_EQ(ErrorCode::Refused, e.GetCode());
      EXPECT_NE(std::string::npos, std::string(e.what()).find(words)) << e.what();
    }
  };

  std::vector<SliceSample> all = Samples(MakeSeries());
  expectRefused(std::vector<SliceSample>(all.begin(), all.begin() + 5), "whole series");
  expectRefused(Samples(MakeSeries(false)), "no brain");   // a blob of soft tissue, no skull

  // Sagittal slices are not handled.
  std::vector<SliceSample> sagittal = all;
  for (SliceSample& s : sagittal)
  {
    s.geometry.rowDirection[0] = 0;
    s.geometry.rowDirection[1] = 1;
    s.geometry.columnDirection[1] = 0;
    s.geometry.columnDirection[2] = -1;
  }
  expectRefused(sagittal, "axial");
}

TEST(RecognizableVisualFeatures, Classification)
{
  auto kind = [](DcmFileFormat& f) { return ClassifyVisualFeatures(*f.getDataset()).kind; };

  EXPECT_EQ(VisualFeatureKind::HeadCt, kind(*MakeSlice(0)));
  EXPECT_EQ(VisualFeatureKind::HeadCt, kind(*MakeSlice(0, true, "BRAIN")));
  EXPECT_EQ(VisualFeatureKind::None, kind(*MakeSlice(0, true, "CHEST")));
  EXPECT_EQ(VisualFeatureKind::HeadMr, kind(*MakeSlice(0, true, "HEAD", UID_MRImageStorage)));
  EXPECT_EQ(VisualFeatureKind::None, kind(*MakeSlice(0, true, "KNEE", UID_MRImageStorage)));

  // No body part: the description, then a head-sized field of view (256 mm here).
  auto unknown = MakeSlice(0, true, nullptr);
  EXPECT_EQ(VisualFeatureKind::HeadCt, kind(*unknown));
  unknown->getDataset()->putAndInsertString(DCM_PixelSpacing, "0.8\\0.8");   // 102 mm
  EXPECT_EQ(VisualFeatureKind::HeadCt, kind(*unknown));
  unknown->getDataset()->putAndInsertString(DCM_PixelSpacing, "3\\3");       // 384 mm: a body
  EXPECT_EQ(VisualFeatureKind::None, kind(*unknown));
  unknown->getDataset()->putAndInsertString(DCM_SeriesDescription, "Routine Brain");
  EXPECT_EQ(VisualFeatureKind::HeadCt, kind(*unknown));
  // The anatomic region code.
  auto coded = MakeSlice(0, true, nullptr);
  coded->getDataset()->putAndInsertString(DCM_PixelSpacing, "3\\3");
  DcmItem& region = AddItem(*coded->getDataset(), DCM_AnatomicRegionSequence);
  region.putAndInsertString(DCM_CodeValue, "69536005");
  EXPECT_EQ(VisualFeatureKind::HeadCt, kind(*coded));
  region.putAndInsertString(DCM_CodeValue, "51185008");   // thorax
  EXPECT_EQ(VisualFeatureKind::None, kind(*coded));

  auto photo = MakeFile(UID_VLPhotographicImageStorage);
  photo->getDataset()->putAndInsertString(DCM_Modality, "XC");
  EXPECT_EQ(VisualFeatureKind::Photograph, kind(*photo));
  auto endoscopy = MakeFile(UID_VLEndoscopicImageStorage);
  endoscopy->getDataset()->putAndInsertString(DCM_Modality, "ES");
  endoscopy->getDataset()->putAndInsertUint8Array(DCM_PixelData, reinterpret_cast<const Uint8*>("\0\0"), 2);
  EXPECT_EQ(VisualFeatureKind::None, kind(*endoscopy));

  auto rendering = MakeSlice(0, true, "CHEST", UID_SecondaryCaptureImageStorage);
  rendering->getDataset()->putAndInsertString(DCM_ImageType, "DERIVED\\SECONDARY\\VOLUME RENDERING");
  EXPECT_EQ(VisualFeatureKind::Rendering, kind(*rendering));
  auto vrps = MakeFile(UID_VolumeRenderingVolumetricPresentationStateStorage);
  EXPECT_EQ(VisualFeatureKind::Rendering, kind(*vrps));

  auto mesh = MakeFile(UID_SurfaceScanMeshStorage);
  EXPECT_EQ(VisualFeatureKind::Surface, kind(*mesh));
  mesh->getDataset()->putAndInsertString(DCM_BodyPartExamined, "KNEE");
  EXPECT_EQ(VisualFeatureKind::None, kind(*mesh));

  // The reason names the SOP Class and the attribute, never a value.
  auto described = MakeSlice(0, true, nullptr);
  described->getDataset()->putAndInsertString(DCM_StudyDescription, "HEAD of Doe^John");
  described->getDataset()->putAndInsertString(DCM_PixelSpacing, "3\\3");
  const std::string reason = ClassifyVisualFeatures(*described->getDataset()).reason;
  EXPECT_NE(std::string::npos, reason.find("CT Image Storage")) << reason;
  EXPECT_NE(std::string::npos, reason.find("(0008,1030)")) << reason;
  EXPECT_EQ(std::string::npos, reason.find("Doe")) << reason;
}

TEST(RecognizableVisualFeatures, DeidentifierDefacesHeadCtAndMarksIt)
{
  auto series = MakeSeries();
  std::vector<SliceSample> samples = Samples(series);
  size_t loads = 0;
  SeriesDefacer defacer([&](DcmDataset&) { loads++; return samples; });

  auto profile = MakeProfile(OptionSet{ Option::CleanRecognizableVisualFeatures });
  Deidentifier deidentifier(*profile);
  Providers providers;
  providers.context.defacer = &defacer;
  for (auto& file : series)
  {
    DeidentificationResult result = deidentifier.Apply(*file, providers.context);
    EXPECT_TRUE(result.defacing.defaced);
    DcmDataset& ds = *file->getDataset();
    EXPECT_EQ("NO", GetString(ds, DCM_RecognizableVisualFeatures));
    bool found = false;
    for (unsigned long i = 0; i < CountItems(ds, DCM_DeidentificationMethodCodeSequence); i++)
    {
      found = found || GetString(*GetItem(ds, DCM_DeidentificationMethodCodeSequence, i), DCM_CodeValue) == "113102";
    }
    EXPECT_TRUE(found);
  }
  EXPECT_EQ(1u, loads);   // one fit for the whole series
  EXPECT_EQ(1u, defacer.GetFittedSeriesCount());
  EXPECT_EQ(-1000, ValueAt(*series[SliceAt(-30)]->getDataset(), 0, -114));
  EXPECT_EQ(30, ValueAt(*series[SliceAt(10)]->getDataset(), 0, -60));
}

TEST(RecognizableVisualFeatures, DeidentifierRefusesOrPasses)
{
  auto profile = MakeProfile(OptionSet{ Option::CleanRecognizableVisualFeatures });
  Deidentifier deidentifier(*profile);
  auto expectRefused = [&](DcmFileFormat& file, IDefacer* defacer, const char* words)
  {
    Providers providers;
    providers.context.defacer = defacer;
    try
    {
      deidentifier.Apply(file, providers.context);
      ADD_FAILURE() << "accepted";
    }
    catch (const DeidError& e)
    {
      EXPECT_EQ(ErrorCode::Refused, e.GetCode());
      const std::string what = e.what();
      EXPECT_NE(std::string::npos, what.find("Clean Recognizable Visual Features")) << what;
      EXPECT_NE(std::string::npos, what.find(words)) << what;
      EXPECT_EQ(std::string::npos, what.find("1.2.3.4.5.6.7")) << what;   // no UID of the instance
    }
  };

  auto mr = MakeSlice(20, true, "HEAD", UID_MRImageStorage);
  SeriesDefacer unused([](DcmDataset&) -> std::vector<SliceSample> { throw DeidError(ErrorCode::Internal, "x"); });
  expectRefused(*mr, &unused, "MR Image Storage");
  auto photo = MakeSlice(0, true, nullptr, UID_VLPhotographicImageStorage);
  expectRefused(*photo, &unused, "VL Photographic Image Storage");
  auto lonely = MakeSlice(20);
  expectRefused(*lonely, nullptr, "cannot read the series");
  SeriesDefacer tooFew([](DcmDataset& ds) { return std::vector<SliceSample>{ ReadSliceSample(ds) }; });
  expectRefused(*lonely, &tooFew, "whole series");

  // A chest CT passes, pixels unchanged, with no RecognizableVisualFeatures claim.
  auto chest = MakeSlice(20, true, "CHEST");
  const double before = ValueAt(*chest->getDataset(), 0, -114);
  Providers providers;
  providers.context.defacer = &unused;
  DeidentificationResult result = deidentifier.Apply(*chest, providers.context);
  EXPECT_FALSE(result.defacing.defaced);
  EXPECT_EQ(before, ValueAt(*chest->getDataset(), 0, -114));
  EXPECT_FALSE(Has(*chest->getDataset(), DCM_RecognizableVisualFeatures));

  // Without the option, a head CT passes unchanged.
  auto basic = MakeProfile();
  auto head = MakeSlice(SliceAt(-30));
  Providers plain;
  Deidentifier(*basic).Apply(*head, plain.context);
  EXPECT_EQ(40, ValueAt(*head->getDataset(), 0, -114));
}

TEST(Defacing, RefusesCompressedPixelData)
{
  RegisterPixelCodecs();
  auto file = MakeSlice(3);
  DcmDataset& ds = *file->getDataset();
  ASSERT_TRUE(ds.chooseRepresentation(EXS_RLELossless, nullptr).good());
  ds.removeAllButCurrentRepresentations();
  try
  {
    ReadSliceSample(ds);
    ADD_FAILURE() << "read compressed pixel data";
  }
  catch (const DeidError& e)
  {
    EXPECT_EQ(ErrorCode::Refused, e.GetCode());
    EXPECT_NE(std::string::npos, std::string(e.what()).find("compressed")) << e.what();
  }
}

TEST(Defacing, SameFaceWhateverTheRowOrderAndSampling)
{
  auto series = MakeSeries();
  const std::vector<SliceSample> samples = Samples(series);
  const DefacingPlane plane = FitDefacingPlane(samples);

  // Rows stored from posterior to anterior (Image Orientation 1\0\0\0\-1\0).
  std::vector<SliceSample> flipped = samples;
  for (SliceSample& s : flipped)
  {
    SliceGeometry& g = s.geometry;
    double last[3];
    g.ToPatient(g.rows - 1, 0, last);
    g.position[1] = last[1];
    g.columnDirection[1] = -1;
    for (unsigned int r = 0; r < g.rows / 2; r++)
    {
      std::swap_ranges(s.hounsfield.begin() + r * g.columns, s.hounsfield.begin() + (r + 1) * g.columns,
                       s.hounsfield.begin() + (g.rows - 1 - r) * g.columns);
    }
  }
  const DefacingPlane same = FitDefacingPlane(flipped);
  EXPECT_NEAR(plane.normal[1], same.normal[1], 1e-6);
  EXPECT_NEAR(plane.normal[2], same.normal[2], 1e-6);
  EXPECT_NEAR(plane.offset, same.offset, 1e-6);

  // Downsampled by 2 (block means): still the nose and chin, never the brain.
  std::vector<SliceSample> coarse;
  for (const auto& file : series)
  {
    coarse.push_back(ReadSliceSample(*file->getDataset(), 64));
  }
  ASSERT_EQ(64u, coarse[0].geometry.rows);
  const DefacingPlane low = FitDefacingPlane(coarse);
  EXPECT_TRUE(InFront(low, 0, -114, -30));
  EXPECT_TRUE(InFront(low, 0, -84, -85));
  EXPECT_FALSE(InFront(low, 0, -95.0 * 0.86 - 5, 0));   // 5 mm in front of the brain
  EXPECT_NEAR(plane.offset, low.offset, 5.0);
}

TEST(Defacing, SignedStoredValues)
{
  std::vector<std::unique_ptr<DcmFileFormat>> series;
  for (unsigned int k = 0; k < SLICES; k++)
  {
    series.push_back(MakeSignedSlice(k));
  }
  const DefacingPlane plane = FitDefacingPlane(Samples(series));
  DcmDataset& nose = *series[SliceAt(-30)]->getDataset();
  EXPECT_GT(DefaceSlice(nose, plane), 0u);
  const Uint16* values = nullptr;
  ASSERT_TRUE(nose.findAndGetUint16Array(DCM_PixelData, values).good());
  const double origin = -(SIZE - 1.0) * SPACING / 2;
  auto at = [&](double x, double y)
  {
    return static_cast<Sint16>(values[std::lround((y - origin) / SPACING) * SIZE + std::lround((x - origin) / SPACING)]);
  };
  EXPECT_EQ(-1000, at(0, -114));   // air as a signed stored value
  EXPECT_EQ(40, at(0, 0));
}
