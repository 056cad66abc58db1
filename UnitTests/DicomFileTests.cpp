// Parsing and writing Part 10 files in memory: bad input is DeidError(BadInput),
// never a crash; writing keeps the transfer syntax.
#include "DeidentifierTestSupport.h"

#include "Engine/DeidError.h"

#include <dcmtk/dcmdata/dcxfer.h>

#include <gtest/gtest.h>

#include <cstring>
#include <random>

using namespace Deid;
using namespace Deid::Testing;

namespace
{
  ErrorCode ParseError(const std::string& bytes)
  {
    try
    {
      ParseDicom(bytes.data(), bytes.size());
    }
    catch (DeidError& e)
    {
      return e.GetCode();
    }
    return ErrorCode::Internal;   // "no error"
  }

  std::string SampleBytes()
  {
    auto file = MakeFile();
    DcmDataset& ds = *file->getDataset();
    ds.putAndInsertUint16(DCM_Rows, 16);
    ds.putAndInsertUint16(DCM_Columns, 16);
    ds.putAndInsertUint16(DCM_BitsAllocated, 16);
    ds.putAndInsertUint16(DCM_BitsStored, 12);
    ds.putAndInsertUint16(DCM_HighBit, 11);
    ds.putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds.putAndInsertUint16(DCM_PixelRepresentation, 0);
    ds.putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    std::vector<Uint16> pixels(256, 1000);
    ds.putAndInsertUint16Array(DCM_PixelData, pixels.data(), 256);
    DcmItem& item = AddItem(ds, DCM_ReferencedImageSequence);
    item.putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.4.5.6.7.9");
    return WriteDicom(*file);
  }
}

TEST(DicomFile, RoundTrip)
{
  std::string bytes = SampleBytes();
  auto file = ParseDicom(bytes.data(), bytes.size());
  EXPECT_EQ("Doe^John", GetString(*file->getDataset(), DCM_PatientName));
  EXPECT_EQ(EXS_LittleEndianExplicit, file->getDataset()->getOriginalXfer());
  EXPECT_EQ(bytes, WriteDicom(*file));
}

TEST(DicomFile, KeepsTransferSyntax)
{
  for (E_TransferSyntax xfer : { EXS_LittleEndianImplicit, EXS_BigEndianExplicit, EXS_DeflatedLittleEndianExplicit })
  {
    auto file = MakeFile();
    std::string path = ::testing::TempDir() + "/deid-xfer.dcm";
    ASSERT_TRUE(file->saveFile(path.c_str(), xfer).good());
    auto read = ReadDicomFile(path);
    std::remove(path.c_str());
    EXPECT_EQ(xfer, read->getDataset()->getOriginalXfer());

    std::string bytes = WriteDicom(*read);
    auto back = ParseDicom(bytes.data(), bytes.size());
    EXPECT_EQ(xfer, back->getDataset()->getOriginalXfer()) << DcmXfer(xfer).getXferName();
    EXPECT_EQ("Doe^John", GetString(*back->getDataset(), DCM_PatientName));
    OFString ts;
    back->getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, ts);
    EXPECT_EQ(DcmXfer(xfer).getXferID(), std::string(ts.c_str()));
  }
}

TEST(DicomFile, EmptyAndGarbageInputIsBadInput)
{
  EXPECT_THROW(ParseDicom(nullptr, 0), DeidError);
  EXPECT_EQ(ErrorCode::BadInput, ParseError(""));
  EXPECT_EQ(ErrorCode::BadInput, ParseError("hello, this is not DICOM at all"));
  EXPECT_EQ(ErrorCode::BadInput, ParseError(std::string(128, '\0') + "DICM"));
  EXPECT_EQ(ErrorCode::BadInput, ParseError(std::string(128, '\0') + "DICM" + std::string(64, '\xff')));
  EXPECT_EQ(ErrorCode::BadInput, ParseError(std::string(4096, '\0')));

  std::mt19937 random(42);
  for (int i = 0; i < 200; i++)
  {
    std::string garbage(1 + random() % 4096, '\0');
    for (char& c : garbage)
    {
      c = static_cast<char>(random());
    }
    if (i % 2 == 0 && garbage.size() > 132)
    {
      garbage.replace(128, 4, "DICM");
    }
    ErrorCode code = ParseError(garbage);
    EXPECT_EQ(ErrorCode::BadInput, code) << "garbage " << i;
  }
}

TEST(DicomFile, TruncatedInputIsBadInputNeverACrash)
{
  const std::string bytes = SampleBytes();

  // In the middle of the pixel data and of the meta header: always detected.
  EXPECT_EQ(ErrorCode::BadInput, ParseError(bytes.substr(0, bytes.size() - 100)));
  EXPECT_EQ(ErrorCode::BadInput, ParseError(bytes.substr(0, 140)));
  EXPECT_EQ(ErrorCode::BadInput, ParseError(bytes.substr(0, 131)));

  // Every truncation point: either BadInput or a (shorter) valid data set.
  size_t rejected = 0;
  for (size_t size = 1; size < bytes.size(); size += 3)
  {
    ErrorCode code = ParseError(bytes.substr(0, size));
    EXPECT_TRUE(code == ErrorCode::BadInput || code == ErrorCode::Internal) << size;
    if (code == ErrorCode::BadInput)
    {
      rejected++;
    }
  }
  EXPECT_GT(rejected, bytes.size() / 3 * 9 / 10);
}

TEST(DicomFile, CorruptedLengthsAreBadInput)
{
  std::string bytes = SampleBytes();
  // Find the Patient's Name element (explicit VR LE: tag, "PN", 2-byte length)
  // and make its length huge.
  const std::string tag("\x10\x00\x10\x00PN", 6);
  size_t pos = bytes.find(tag);
  ASSERT_NE(std::string::npos, pos);
  std::string corrupted = bytes;
  corrupted[pos + 6] = '\xfe';
  corrupted[pos + 7] = '\xff';
  EXPECT_EQ(ErrorCode::BadInput, ParseError(corrupted));

  // A sequence with a length beyond the end.
  const std::string sq("\x08\x00\x40\x11SQ\x00\x00", 8);   // (0008,1140) Referenced Image Sequence
  pos = bytes.find(sq);
  ASSERT_NE(std::string::npos, pos);
  corrupted = bytes;
  corrupted.replace(pos + 8, 4, std::string("\xf0\xff\xff\x7f", 4));
  EXPECT_EQ(ErrorCode::BadInput, ParseError(corrupted));

  // A sequence item with a length beyond its sequence: DCMTK may repair it,
  // but it never crashes.
  const std::string item("\xfe\xff\x00\xe0", 4);
  pos = bytes.find(item);
  ASSERT_NE(std::string::npos, pos);
  corrupted = bytes;
  corrupted.replace(pos + 4, 4, std::string("\xf0\xff\xff\x7f", 4));
  ErrorCode code = ParseError(corrupted);
  EXPECT_TRUE(code == ErrorCode::BadInput || code == ErrorCode::Internal);
}

TEST(DicomFile, RawDataSetWithoutMetaHeader)
{
  auto file = MakeFile();
  std::string path = ::testing::TempDir() + "/deid-raw.dcm";
  ASSERT_TRUE(file->getDataset()->saveFile(path.c_str(), EXS_LittleEndianImplicit).good());
  auto read = ReadDicomFile(path);
  std::remove(path.c_str());
  EXPECT_EQ("PID-12345", GetString(*read->getDataset(), DCM_PatientID));
}

TEST(DicomFile, MissingFileIsBadInput)
{
  try
  {
    ReadDicomFile("/nonexistent/file.dcm");
    FAIL();
  }
  catch (DeidError& e)
  {
    EXPECT_EQ(ErrorCode::BadInput, e.GetCode());
  }
}

// Issue 14: a large value (the pixel data) stays in the caller's buffer when
// parsing with ParseDicomBorrowing, and the writer streams it from there:
// the file is held in memory once, and the output is the same bytes.
TEST(DicomFile, BorrowedPixelDataIsNotCopied)
{
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertUint16(DCM_Rows, 512);
  ds.putAndInsertUint16(DCM_Columns, 1024);
  ds.putAndInsertUint16(DCM_BitsAllocated, 16);
  ds.putAndInsertUint16(DCM_BitsStored, 16);
  ds.putAndInsertUint16(DCM_HighBit, 15);
  ds.putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds.putAndInsertUint16(DCM_PixelRepresentation, 0);
  ds.putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
  std::vector<Uint16> pixels(512 * 1024);
  for (size_t i = 0; i < pixels.size(); i++)
  {
    pixels[i] = static_cast<Uint16>(i * 7);
  }
  ds.putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
  const std::string bytes = WriteDicom(*file);

  auto borrowed = ParseDicomBorrowing(bytes.data(), bytes.size());
  DcmElement* pixelData = nullptr;
  ASSERT_TRUE(borrowed->getDataset()->findAndGetElement(DCM_PixelData, pixelData).good());
  EXPECT_FALSE(pixelData->valueLoaded());   // left in "bytes"
  EXPECT_EQ("Doe^John", GetString(*borrowed->getDataset(), DCM_PatientName));

  borrowed->getDataset()->putAndInsertString(DCM_PatientName, "Changed");
  const std::string output = WriteDicom(*borrowed);
  EXPECT_FALSE(pixelData->valueLoaded());   // streamed, not loaded

  auto back = ParseDicom(output.data(), output.size());
  EXPECT_EQ("Changed", GetString(*back->getDataset(), DCM_PatientName));
  const Uint16* values = nullptr;
  ASSERT_TRUE(back->getDataset()->findAndGetUint16Array(DCM_PixelData, values).good());
  EXPECT_EQ(0, memcmp(values, pixels.data(), pixels.size() * 2));

  // Without a change the output is the input, byte for byte.
  auto again = ParseDicomBorrowing(bytes.data(), bytes.size());
  EXPECT_EQ(bytes, WriteDicom(*again));
}

// A declared length beyond the input is refused by the borrowing parse too.
TEST(DicomFile, BorrowingRefusesLengthsBeyondTheInput)
{
  std::string bytes = SampleBytes();
  bytes.resize(bytes.size() - 100);
  EXPECT_THROW(ParseDicomBorrowing(bytes.data(), bytes.size()), DeidError);
}
