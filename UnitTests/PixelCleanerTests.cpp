// Clean Pixel Data (PS3.15 E.3.1): configured regions, every encoding DCMTK
// decodes, and the fail-closed rule on burned-in text.
#include "DeidentifierTestSupport.h"

#include "Engine/BurnedInText.h"
#include "Engine/DeidError.h"
#include "Engine/PixelCleaner.h"
#include "Engine/PixelRegions.h"
#include "Engine/TextDetection.h"

#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <gtest/gtest.h>
#include <json/reader.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

using namespace Deid;
using namespace Deid::Testing;

namespace
{
  struct ImageSpec
  {
    const char* modality = "US";
    const char* sopClass = UID_UltrasoundMultiframeImageStorage;
    const char* photometric = "MONOCHROME2";
    uint16_t samples = 1;
    uint16_t bits = 8;
    uint16_t bitsStored = 8;
    bool isSigned = false;
    bool planar = false;
    uint32_t frames = 2;
    uint16_t rows = 32;
    uint16_t columns = 48;
  };

  size_t SampleCount(const ImageSpec& s)
  {
    const bool ybr422 = std::string(s.photometric) == "YBR_FULL_422";
    return static_cast<size_t>(s.rows) * s.columns * (ybr422 ? 2 : s.samples) * s.frames;
  }

  // Pixel values that are never black (a pattern of 1..100).
  uint32_t Value(size_t i)
  {
    return 1 + static_cast<uint32_t>((i * 7) % 100);
  }

  std::unique_ptr<DcmFileFormat> MakeImage(const ImageSpec& s)
  {
    std::unique_ptr<DcmFileFormat> file = MakeFile(s.sopClass);
    DcmDataset& ds = *file->getDataset();
    ds.putAndInsertString(DCM_Modality, s.modality);
    ds.putAndInsertUint16(DCM_Rows, s.rows);
    ds.putAndInsertUint16(DCM_Columns, s.columns);
    ds.putAndInsertUint16(DCM_SamplesPerPixel, s.samples);
    ds.putAndInsertString(DCM_PhotometricInterpretation, s.photometric);
    ds.putAndInsertUint16(DCM_BitsAllocated, s.bits);
    ds.putAndInsertUint16(DCM_BitsStored, s.bitsStored);
    ds.putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(s.bitsStored - 1));
    ds.putAndInsertUint16(DCM_PixelRepresentation, s.isSigned ? 1 : 0);
    if (s.samples == 3)
    {
      ds.putAndInsertUint16(DCM_PlanarConfiguration, s.planar ? 1 : 0);
    }
    if (s.frames > 1)
    {
      ds.putAndInsertString(DCM_NumberOfFrames, std::to_string(s.frames).c_str());
    }
    ds.putAndInsertString(DCM_BurnedInAnnotation, "YES");
    const size_t n = SampleCount(s);
    if (s.bits == 8)
    {
      std::vector<Uint8> data(n);
      for (size_t i = 0; i < n; i++)
      {
        data[i] = static_cast<Uint8>(Value(i));
      }
      ds.putAndInsertUint8Array(DCM_PixelData, data.data(), n);
    }
    else
    {
      std::vector<Uint16> data(n);
      for (size_t i = 0; i < n; i++)
      {
        data[i] = static_cast<Uint16>(Value(i));
      }
      ds.putAndInsertUint16Array(DCM_PixelData, data.data(), n);
    }
    return file;
  }

  // Encodes the file in a transfer syntax and reads it back, as a stored file would be.
  std::unique_ptr<DcmFileFormat> Encode(std::unique_ptr<DcmFileFormat> file, E_TransferSyntax xfer,
                                        const DcmRepresentationParameter* parameter = nullptr)
  {
    RegisterPixelCodecs();
    EXPECT_TRUE(file->getDataset()->chooseRepresentation(xfer, parameter).good());
    const std::string path = ::testing::TempDir() + "/pixel-cleaner-test.dcm";
    EXPECT_TRUE(file->saveFile(path.c_str(), xfer).good());
    std::unique_ptr<DcmFileFormat> result = ReadDicomFile(path);
    std::remove(path.c_str());
    return result;
  }

  // The decoded samples, widened to 32 bits.
  std::vector<uint32_t> Decode(DcmFileFormat& file)
  {
    RegisterPixelCodecs();
    DcmDataset& ds = *file.getDataset();
    EXPECT_TRUE(ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr).good());
    Uint16 bits = 0;
    ds.findAndGetUint16(DCM_BitsAllocated, bits);
    DcmElement* element = nullptr;
    EXPECT_TRUE(ds.findAndGetElement(DCM_PixelData, element).good());
    std::vector<uint32_t> result;
    if (bits == 8)
    {
      Uint8* p = nullptr;
      Uint16* w = nullptr;
      if (element->getUint8Array(p).bad() && element->getUint16Array(w).good())
      {
        p = reinterpret_cast<Uint8*>(w);
      }
      result.assign(p, p + element->getLength());
    }
    else
    {
      Uint16* p = nullptr;
      element->getUint16Array(p);
      result.assign(p, p + element->getLength() / 2);
    }
    return result;
  }

  PixelRegionRules Rules(const std::string& json)
  {
    Json::Value value;
    std::istringstream in(json);
    std::string errors;
    Json::CharReaderBuilder builder;
    EXPECT_TRUE(Json::parseFromStream(builder, in, &value, &errors)) << json;
    return PixelRegionRules::Parse(value);
  }

  // A 10 x 4 banner at (2, 3) on every US instance.
  const char* const BANNER = R"([{"Name": "banner", "Match": {"Modality": "US"}, "Regions": [[2, 3, 10, 4]]}])";

  bool InBanner(uint32_t x, uint32_t y)
  {
    return x >= 2 && x < 12 && y >= 3 && y < 7;
  }

  DeidentificationResult Clean(DcmFileFormat& file, const PixelRegionRules& rules,
                               const OptionSet& options = OptionSet{ Option::CleanPixelData },
                               const BurnedInTextPolicy& policy = BurnedInTextPolicy::Default())
  {
    Profile profile(Tables(), options, "test", policy);
    Providers providers;
    RegionPixelCleaner cleaner(rules);
    providers.context.pixelCleaner = &cleaner;
    return Deidentifier(profile).Apply(file, providers.context);
  }

  // Every sample of every frame: black inside the banner, the original value outside.
  void ExpectBanner(DcmFileFormat& file, const ImageSpec& s, const std::vector<uint32_t>& black)
  {
    std::vector<uint32_t> pixels = Decode(file);
    ASSERT_EQ(SampleCount(s), pixels.size());
    const size_t frameSamples = SampleCount(s) / s.frames;
    size_t wrong = 0;
    for (uint32_t f = 0; f < s.frames; f++)
    {
      for (uint32_t y = 0; y < s.rows; y++)
      {
        for (uint32_t x = 0; x < s.columns; x++)
        {
          for (uint16_t c = 0; c < s.samples; c++)
          {
            size_t pixel = static_cast<size_t>(y) * s.columns + x;
            size_t i = f * frameSamples + (s.planar ? c * static_cast<size_t>(s.rows) * s.columns + pixel :
                                           pixel * s.samples + c);
            uint32_t expected = InBanner(x, y) ? black[c] : Value(i);
            wrong += (pixels[i] != expected);
          }
        }
      }
    }
    EXPECT_EQ(0u, wrong);
  }
}


TEST(PixelRegions, ParseMatchResolve)
{
  PixelRegionRules rules = Rules(R"([
    {"Name": "acme", "Match": {"Manufacturer": ["Acme*", "ACME"], "Rows": "32", "0008,0060": "US"},
     "Regions": [[0, 0, 100, 5]]},
    {"Name": "fraction", "Match": {}, "Regions": [[0.5, 0.5, 0.5, 0.5]], "Units": "Fraction"}])");
  ASSERT_EQ(2u, rules.GetSize());

  std::unique_ptr<DcmFileFormat> file = MakeImage(ImageSpec());
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_Manufacturer, "Acme Medical");
  std::vector<const PixelRegionRule*> found = rules.FindMatching(ds);
  ASSERT_EQ(2u, found.size());

  std::vector<PixelRectangle> r = PixelRegionRules::Resolve(*found[0], 48, 32);
  ASSERT_EQ(1u, r.size());
  EXPECT_EQ(48u, r[0].width);   // clipped to the image
  EXPECT_EQ(5u, r[0].height);
  r = PixelRegionRules::Resolve(*found[1], 45, 31);
  ASSERT_EQ(1u, r.size());
  EXPECT_EQ(22u, r[0].x);       // outward rounding
  EXPECT_EQ(15u, r[0].y);
  EXPECT_EQ(23u, r[0].width);
  EXPECT_EQ(16u, r[0].height);

  ds.putAndInsertString(DCM_Manufacturer, "Other");
  EXPECT_EQ(1u, rules.FindMatching(ds).size());

  EXPECT_TRUE(MatchesWildcard("A?me*", "Acme Medical"));
  EXPECT_FALSE(MatchesWildcard("Acme", "Acme Medical"));

  for (const char* bad : { R"({"x": 1})", R"([{"Regions": []}])", R"([{"Regions": [[0, 0, 1]]}])",
                           R"([{"Match": {"NoSuchKeyword": "x"}, "Regions": [[0, 0, 1, 1]]}])",
                           R"([{"Regions": [[0, 0, 2, 1]], "Units": "Fraction"}])",
                           R"([{"Regions": [[0, 0, 1, 1]], "Units": "mm"}])",
                           R"([{"Regions": [[-1, 0, 1, 1]]}])", R"([{"Region": [[0, 0, 1, 1]]}])" })
  {
    EXPECT_THROW(Rules(bad), DeidError) << bad;
  }
}

TEST(PixelCleaner, NativeEncodings)
{
  struct Case
  {
    ImageSpec spec;
    std::vector<uint32_t> black;
  };
  std::vector<Case> cases;
  { Case c; c.black = { 0 }; cases.push_back(c); }
  { Case c; c.spec.bits = 16; c.spec.bitsStored = 12; c.spec.photometric = "MONOCHROME1"; c.black = { 4095 }; cases.push_back(c); }
  { Case c; c.spec.bits = 16; c.spec.bitsStored = 16; c.spec.isSigned = true; c.black = { 0x8000 }; cases.push_back(c); }
  { Case c; c.spec.samples = 3; c.spec.photometric = "RGB"; c.black = { 0, 0, 0 }; cases.push_back(c); }
  { Case c; c.spec.samples = 3; c.spec.photometric = "RGB"; c.spec.planar = true; c.black = { 0, 0, 0 }; cases.push_back(c); }
  { Case c; c.spec.samples = 3; c.spec.photometric = "YBR_FULL"; c.spec.planar = true; c.black = { 0, 128, 128 }; cases.push_back(c); }

  for (const Case& c : cases)
  {
    SCOPED_TRACE(std::string(c.spec.photometric) + " " + std::to_string(c.spec.bits) + " planar " +
                 std::to_string(c.spec.planar));
    std::unique_ptr<DcmFileFormat> file = Encode(MakeImage(c.spec), EXS_LittleEndianImplicit);
    DeidentificationResult result = Clean(*file, Rules(BANNER));
    EXPECT_TRUE(result.pixels.cleaned);
    ASSERT_EQ(1u, result.pixels.regions.size());
    EXPECT_EQ(UID_LittleEndianImplicitTransferSyntax, result.pixels.writtenTransferSyntax);
    EXPECT_EQ("NO", GetString(*file->getDataset(), DCM_BurnedInAnnotation));
    std::string written = WriteDicom(*file);
    std::unique_ptr<DcmFileFormat> reread = ParseDicom(written.data(), written.size());
    EXPECT_EQ(EXS_LittleEndianImplicit, reread->getDataset()->getOriginalXfer());
    ExpectBanner(*reread, c.spec, c.black);
  }
}

TEST(PixelCleaner, Ybr422AndPalette)
{
  {
    ImageSpec s;
    s.samples = 3;
    s.photometric = "YBR_FULL_422";
    s.frames = 1;
    std::unique_ptr<DcmFileFormat> file = MakeImage(s);
    Clean(*file, Rules(BANNER));
    std::vector<uint32_t> p = Decode(*file);
    // Pairs of pixels: Y1 Y2 Cb Cr. The banner covers x 2..11: pairs 1..5.
    size_t row = 3 * (s.columns / 2) * 4;
    EXPECT_EQ(Value(row + 3), p[row + 3]);                       // pair 0 untouched
    EXPECT_EQ((std::vector<uint32_t>{ 0, 0, 128, 128 }),
              std::vector<uint32_t>(p.begin() + row + 4, p.begin() + row + 8));
    EXPECT_EQ(Value(row + 24), p[row + 24]);                     // pair 6 untouched
  }
  {
    ImageSpec s;
    s.photometric = "PALETTE COLOR";
    s.frames = 1;
    std::unique_ptr<DcmFileFormat> file = MakeImage(s);
    DcmDataset& ds = *file->getDataset();
    const Uint16 descriptor[3] = { 4, 10, 16 };
    const Uint16 red[4] = { 0xFFFF, 0x8000, 0x1000, 0x2000 };
    const Uint16 green[4] = { 0xFFFF, 0x8000, 0x0100, 0x2000 };
    const Uint16 blue[4] = { 0xFFFF, 0x8000, 0x0100, 0x0000 };
    for (auto key : { DCM_RedPaletteColorLookupTableDescriptor, DCM_GreenPaletteColorLookupTableDescriptor,
                      DCM_BluePaletteColorLookupTableDescriptor })
    {
      ds.putAndInsertUint16Array(key, descriptor, 3);
    }
    ds.putAndInsertUint16Array(DCM_RedPaletteColorLookupTableData, red, 4);
    ds.putAndInsertUint16Array(DCM_GreenPaletteColorLookupTableData, green, 4);
    ds.putAndInsertUint16Array(DCM_BluePaletteColorLookupTableData, blue, 4);
    Clean(*file, Rules(BANNER));
    ExpectBanner(*file, s, { 12 });   // first mapped 10 + entry 2 (the darkest)
  }
}

TEST(PixelCleaner, CompressedLosslessKeepTheirSyntax)
{
  struct Case
  {
    E_TransferSyntax xfer;
    ImageSpec spec;
    std::vector<uint32_t> black;
  };
  std::vector<Case> cases;
  { Case c; c.xfer = EXS_RLELossless; c.spec.samples = 3; c.spec.photometric = "RGB"; c.black = { 0, 0, 0 }; cases.push_back(c); }
  { Case c; c.xfer = EXS_RLELossless; c.spec.bits = 16; c.spec.bitsStored = 16; c.black = { 0 }; cases.push_back(c); }
  { Case c; c.xfer = EXS_JPEGProcess14SV1; c.black = { 0 }; cases.push_back(c); }
  { Case c; c.xfer = EXS_JPEGProcess14SV1; c.spec.bits = 16; c.spec.bitsStored = 12; c.spec.photometric = "MONOCHROME1"; c.black = { 4095 }; cases.push_back(c); }
  { Case c; c.xfer = EXS_JPEGProcess14; c.spec.samples = 3; c.spec.photometric = "RGB"; c.black = { 0, 0, 0 }; cases.push_back(c); }
  { Case c; c.xfer = EXS_JPEGLSLossless; c.black = { 0 }; cases.push_back(c); }
  { Case c; c.xfer = EXS_JPEGLSLossless; c.spec.bits = 16; c.spec.bitsStored = 16; c.black = { 0 }; cases.push_back(c); }
  { Case c; c.xfer = EXS_JPEGLSLossless; c.spec.samples = 3; c.spec.photometric = "RGB"; c.black = { 0, 0, 0 }; cases.push_back(c); }

  for (const Case& c : cases)
  {
    SCOPED_TRACE(std::string(DcmXfer(c.xfer).getXferName()) + " " + c.spec.photometric + " " +
                 std::to_string(c.spec.bits));
    std::unique_ptr<DcmFileFormat> file = Encode(MakeImage(c.spec), c.xfer);
    ASSERT_EQ(c.xfer, file->getDataset()->getOriginalXfer());
    DeidentificationResult result = Clean(*file, Rules(BANNER));
    EXPECT_TRUE(result.pixels.cleaned);
    EXPECT_FALSE(result.pixels.lossyDecompressed);
    EXPECT_EQ(DcmXfer(c.xfer).getXferID(), result.pixels.writtenTransferSyntax);
    std::string written = WriteDicom(*file);
    std::unique_ptr<DcmFileFormat> reread = ParseDicom(written.data(), written.size());
    EXPECT_EQ(c.xfer, reread->getDataset()->getOriginalXfer());
    EXPECT_EQ(DcmXfer(c.xfer).getXferID(), GetString(*reread->getMetaInfo(), DCM_TransferSyntaxUID));
    ImageSpec decoded = c.spec;
    decoded.planar = GetString(*reread->getDataset(), DCM_PlanarConfiguration) == "1";
    ExpectBanner(*reread, decoded, c.black);
  }
}

TEST(PixelCleaner, LossyJpegIsWrittenExplicitLittleEndian)
{
  ImageSpec s;
  s.frames = 1;
  std::unique_ptr<DcmFileFormat> file = Encode(MakeImage(s), EXS_JPEGProcess1);
  ASSERT_EQ(EXS_JPEGProcess1, file->getDataset()->getOriginalXfer());
  std::vector<uint32_t> before = Decode(*file);
  file = Encode(MakeImage(s), EXS_JPEGProcess1);
  DeidentificationResult result = Clean(*file, Rules(BANNER));
  EXPECT_TRUE(result.pixels.lossyDecompressed);
  EXPECT_EQ(UID_LittleEndianExplicitTransferSyntax, result.pixels.writtenTransferSyntax);
  std::string written = WriteDicom(*file);
  std::unique_ptr<DcmFileFormat> reread = ParseDicom(written.data(), written.size());
  DcmDataset& ds = *reread->getDataset();
  EXPECT_EQ(EXS_LittleEndianExplicit, ds.getOriginalXfer());
  EXPECT_EQ("01", GetString(ds, DCM_LossyImageCompression));
  EXPECT_NE(std::string::npos, GetString(ds, DCM_DeidentificationMethod).find("Lossy pixels rewritten"));
  std::vector<uint32_t> after = Decode(*reread);
  ASSERT_EQ(before.size(), after.size());
  for (uint32_t y = 0; y < s.rows; y++)
  {
    for (uint32_t x = 0; x < s.columns; x++)
    {
      size_t i = static_cast<size_t>(y) * s.columns + x;
      if (InBanner(x, y))
      {
        EXPECT_EQ(0u, after[i]);
      }
      else
      {
        EXPECT_EQ(before[i], after[i]) << x << "," << y;   // decoded once: identical outside
      }
    }
  }
}

TEST(PixelCleaner, UndecodableSyntaxFailsTheInstance)
{
  std::unique_ptr<DcmFileFormat> file = MakeImage(ImageSpec());
  DcmDataset& ds = *file->getDataset();
  delete ds.remove(DCM_PixelData);
  DcmPixelData* pixelData = new DcmPixelData(DCM_PixelData);
  DcmPixelSequence* sequence = new DcmPixelSequence(DCM_PixelSequenceTag);
  sequence->insert(new DcmPixelItem(DCM_PixelItemTag));   // empty offset table
  DcmPixelItem* fragment = new DcmPixelItem(DCM_PixelItemTag);
  const Uint8 bytes[4] = { 0xFF, 0x4F, 0xFF, 0x51 };
  fragment->putUint8Array(bytes, 4);
  sequence->insert(fragment);
  pixelData->putOriginalRepresentation(EXS_JPEG2000LosslessOnly, nullptr, sequence);
  ds.insert(pixelData);
  const std::string path = ::testing::TempDir() + "/pixel-cleaner-j2k.dcm";
  ASSERT_TRUE(file->saveFile(path.c_str(), EXS_JPEG2000LosslessOnly).good());
  file = ReadDicomFile(path);
  std::remove(path.c_str());
  ASSERT_EQ(EXS_JPEG2000LosslessOnly, file->getDataset()->getOriginalXfer());
  try
  {
    Clean(*file, Rules(BANNER));
    ADD_FAILURE() << "an undecodable instance was accepted";
  }
  catch (const DeidError& e)
  {
    EXPECT_EQ(ErrorCode::NotImplemented, e.GetCode());
    EXPECT_NE(std::string::npos, std::string(e.what()).find("JPEG 2000"));
    EXPECT_NE(std::string::npos, std::string(e.what()).find("cannot be decoded"));
  }
}

TEST(PixelCleaner, FailsClosedOnBurnedInText)
{
  auto refused = [](DcmFileFormat& file, const PixelRegionRules& rules, const OptionSet& options,
                    const BurnedInTextPolicy& policy) -> std::string
  {
    try
    {
      Clean(file, rules, options, policy);
      return std::string();
    }
    catch (const DeidError& e)
    {
      EXPECT_EQ(ErrorCode::Refused, e.GetCode());
      return e.what();
    }
  };
  const BurnedInTextPolicy policy = BurnedInTextPolicy::Default();
  BurnedInTextPolicy accept = policy;
  accept.acceptRisk = true;
  const PixelRegionRules none;

  // Ultrasound without CleanPixelData: refused, unless the risk is accepted.
  std::unique_ptr<DcmFileFormat> us = MakeImage(ImageSpec());
  us->getDataset()->putAndInsertString(DCM_BurnedInAnnotation, "NO");   // not trusted
  std::string reason = refused(*us, none, OptionSet(), policy);
  EXPECT_NE(std::string::npos, reason.find("Modality (0008,0060) is US")) << reason;
  EXPECT_NE(std::string::npos, reason.find("AcceptBurnedInAnnotationRisk")) << reason;
  EXPECT_EQ(std::string::npos, reason.find("Doe")) << reason;
  us = MakeImage(ImageSpec());
  EXPECT_EQ("", refused(*us, none, OptionSet(), accept));
  EXPECT_EQ("YES", GetString(*us->getDataset(), DCM_BurnedInAnnotation));   // not cleaned: not NO

  // Secondary capture by its SOP class, whatever its modality.
  ImageSpec sc;
  sc.modality = "DOC";
  sc.sopClass = UID_SecondaryCaptureImageStorage;
  std::unique_ptr<DcmFileFormat> file = MakeImage(sc);
  file->getDataset()->putAndInsertString(DCM_BurnedInAnnotation, "NO");
  EXPECT_NE(std::string::npos, refused(*file, none, OptionSet(), policy).find("SOP Class UID"));

  // A CT with Burned In Annotation YES.
  ImageSpec ct;
  ct.modality = "CT";
  ct.sopClass = UID_CTImageStorage;
  file = MakeImage(ct);
  EXPECT_NE(std::string::npos, refused(*file, none, OptionSet(), policy).find("(0028,0301) is YES"));
  file = MakeImage(ct);
  file->getDataset()->putAndInsertString(DCM_BurnedInAnnotation, "NO");
  EXPECT_EQ("", refused(*file, none, OptionSet(), policy));

  // CleanPixelData without a matching region rule: refused for an ultrasound,
  // a CT passes unchanged (BurnedInAnnotation not set to NO).
  file = MakeImage(ImageSpec());
  EXPECT_NE(std::string::npos, refused(*file, none, OptionSet{ Option::CleanPixelData }, policy)
            .find("no pixel region rule"));
  file = MakeImage(ct);
  file->getDataset()->putAndInsertString(DCM_BurnedInAnnotation, "NO");
  DeidentificationResult result = Clean(*file, Rules(BANNER));
  EXPECT_FALSE(result.pixels.cleaned);
  EXPECT_EQ("NO", GetString(*file->getDataset(), DCM_BurnedInAnnotation));

  // No pixels: nothing to refuse.
  file = MakeFile(UID_SecondaryCaptureImageStorage);
  EXPECT_EQ("", refused(*file, none, OptionSet(), policy));
}

TEST(TextDetection, IdentifyingTokensAndSettings)
{
  std::unique_ptr<DcmFileFormat> file = MakeImage(ImageSpec());
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_PatientBirthDate, "19700131");
  ds.putAndInsertString(DCM_AccessionNumber, "acc-77");
  std::vector<std::string> tokens = IdentifyingTokens(ds);
  for (const char* expected : { "DOE", "JOHN", "DOEJOHN", "PID", "12345", "PID12345", "19700131", "31011970",
                                "01311970", "310170", "ACC", "77", "ACC77" })
  {
    EXPECT_NE(tokens.end(), std::find(tokens.begin(), tokens.end(), expected)) << expected;
  }
  EXPECT_EQ(tokens.end(), std::find(tokens.begin(), tokens.end(), "US"));   // the modality is not identifying

  auto parse = [](const std::string& json)
  {
    Json::Value value;
    std::istringstream in(json);
    std::string errors;
    Json::CharReaderBuilder builder;
    EXPECT_TRUE(Json::parseFromStream(builder, in, &value, &errors));
    return OcrSettings::Parse(value);
  };
  EXPECT_FALSE(parse("null").enabled);
  OcrSettings s = parse(R"({"Words": "IdentifyingValues", "MinimumConfidence": 40, "Margin": 3,
                            "Match": {"Modality": "US"}})");
  EXPECT_FALSE(s.enabled);
  EXPECT_FALSE(s.allWords);
  EXPECT_EQ(40, s.minimumConfidence);
  EXPECT_EQ(3u, s.margin);
  EXPECT_TRUE(MatchesAttributes(s.match, ds));
  for (const char* bad : { R"({"Words": "Some"})", R"({"Margin": -1})", R"({"MinimumConfidence": 101})",
                           R"({"Language": "../x"})", R"({"Colour": 1})", R"({"Enable": "yes"})" })
  {
    EXPECT_THROW(parse(bad), DeidError) << bad;
  }
  if (IsOcrAvailable())
  {
    EXPECT_TRUE(parse(R"({"Enable": true})").enabled);
    EXPECT_THROW(parse(R"({"Enable": true, "Language": "xx"})"), DeidError);   // no language data
  }
}
