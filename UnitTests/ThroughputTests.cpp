// The engine's own cost, for profiling (issue 14; README "Performance").
// Disabled: run by hand, e.g.
//   build/UnitTests --gtest_also_run_disabled_tests --gtest_filter='Throughput.*'
//   valgrind --tool=callgrind build/UnitTests --gtest_also_run_disabled_tests \
//            --gtest_filter=Throughput.DISABLED_SmallInstances
// DEID_THROUGHPUT_INSTANCES (default 300) and DEID_THROUGHPUT_MB (default 200).
#include "DeidentifierTestSupport.h"

#include "Engine/DefaultProviders.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>

using namespace Deid;
using namespace Deid::Testing;

namespace
{
  size_t FromEnvironment(const char* name, size_t defaultValue)
  {
    const char* value = std::getenv(name);
    return value == nullptr ? defaultValue : static_cast<size_t>(std::atol(value));
  }

  double Seconds(std::chrono::steady_clock::time_point start)
  {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  // Parse (borrowing or copying), Basic Profile, write: the path of /tools/deidentify.
  size_t DeidentifyOnce(const Profile& profile, const std::string& input, bool borrow)
  {
    RandomUidProvider uids;
    RandomPseudonymProvider pseudonyms;
    FixedDateOffsetProvider offsets(-10);
    ConservativeTextCleaner cleaner;
    DeidentificationContext context;
    context.uids = &uids;
    context.pseudonyms = &pseudonyms;
    context.dateOffsets = &offsets;
    context.textCleaner = &cleaner;
    std::unique_ptr<DcmFileFormat> file = borrow ? ParseDicomBorrowing(input.data(), input.size()) :
      ParseDicom(input.data(), input.size());
    Deidentifier(profile).Apply(*file, context);
    return WriteDicom(*file).size();
  }
}

TEST(Throughput, DISABLED_SmallInstances)
{
  std::ifstream f("/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm", std::ios::binary);
  const std::string input((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(input.empty());
  const std::unique_ptr<Profile> profile = MakeProfile();
  const size_t count = FromEnvironment("DEID_THROUGHPUT_INSTANCES", 300);
  for (bool borrow : { false, true })
  {
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < count; i++)
    {
      DeidentifyOnce(*profile, input, borrow);
    }
    const double s = Seconds(start);
    std::cout << count << " x CT_small.dcm, " << (borrow ? "borrowing" : "copying") << ": " << s << " s, "
              << count / s << " instances/s" << std::endl;
  }
}

TEST(Throughput, DISABLED_LargeMultiFrame)
{
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  const size_t frames = std::max<size_t>(1, FromEnvironment("DEID_THROUGHPUT_MB", 200) * 2);   // 512 KB each
  ds.putAndInsertUint16(DCM_Rows, 512);
  ds.putAndInsertUint16(DCM_Columns, 512);
  ds.putAndInsertUint16(DCM_BitsAllocated, 16);
  ds.putAndInsertUint16(DCM_BitsStored, 16);
  ds.putAndInsertUint16(DCM_HighBit, 15);
  ds.putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds.putAndInsertUint16(DCM_PixelRepresentation, 0);
  ds.putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
  ds.putAndInsertString(DCM_NumberOfFrames, std::to_string(frames).c_str());
  std::vector<Uint16> pixels(frames * 512 * 512, 1234);
  ds.putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
  pixels = std::vector<Uint16>();
  const std::string input = WriteDicom(*file);
  file.reset();

  const std::unique_ptr<Profile> profile = MakeProfile();
  for (bool borrow : { false, true })
  {
    const auto start = std::chrono::steady_clock::now();
    const size_t size = DeidentifyOnce(*profile, input, borrow);
    std::cout << input.size() / (1024 * 1024) << " MB multi-frame, " << (borrow ? "borrowing" : "copying")
              << ": " << Seconds(start) << " s (output " << size / (1024 * 1024) << " MB)" << std::endl;
  }
}
