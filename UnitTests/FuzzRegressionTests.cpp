// Replays the fuzz target (Fuzz/FuzzTarget.cpp) on the ordinary build: the
// seed corpus, and every input the fuzzer found a fault with (minimized,
// made in code), so that each fault stays fixed (issue 9, item 5).
#include "BadInputTestSupport.h"
#include "FuzzTarget.h"

#include <gtest/gtest.h>

#include <dirent.h>

using namespace Deid;

namespace
{
  Fuzzing::Outcome RunFuzzTarget(const std::string& bytes)
  {
    return Fuzzing::RunOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
}


TEST(FuzzRegression, SeedCorpus)
{
  // Every pydicom test file the seed corpus is made of goes through every
  // option set, the encrypted round trip and the re-identifier.
  DIR* dir = opendir(BadInput::TEST_FILES);
  ASSERT_NE(nullptr, dir);
  size_t files = 0, parsed = 0, roundTrips = 0;
  while (dirent* entry = readdir(dir))
  {
    const std::string name = entry->d_name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".dcm") == 0)
    {
      const Fuzzing::Outcome outcome = RunFuzzTarget(BadInput::ReadTestFile(name));
      files++;
      parsed += outcome.parsed ? 1 : 0;
      roundTrips += outcome.roundTrip ? 1 : 0;
    }
  }
  closedir(dir);
  EXPECT_GT(files, 60u);
  EXPECT_GT(parsed, 55u);
  EXPECT_EQ(parsed, roundTrips) << "every parsed file must survive the encrypted round trip";
}


TEST(FuzzRegression, DeclaredLengthBeyondInput)
{
  // Found by the fuzzer in its first minute: a 28 KB mutation of CT_small.dcm
  // with an element of implicit VR declaring 2,902,793,733 bytes made DCMTK
  // allocate that much (parsing from memory, it loads values at once) before
  // it noticed the end of the input (libFuzzer: out-of-memory). The engine
  // now checks the declared lengths first (Engine/DeclaredLengths).
  std::string bytes = BadInput::Part10Header("1.2.840.10008.1.2") +
    BadInput::Implicit(0x0008, 0x0016, BadInput::EvenUid("1.2.840.10008.5.1.4.1.1.7")) +
    BadInput::Implicit(0x0008, 0x0018, BadInput::EvenUid(BadInput::SOP_UID)) +
    BadInput::Implicit(0xac06, 0x6705, std::string(64, 'x'), 2902793733u);
  const Fuzzing::Outcome outcome = RunFuzzTarget(bytes);
  EXPECT_FALSE(outcome.parsed);

  try
  {
    ParseDicom(bytes.data(), bytes.size());
    FAIL() << "parsed";
  }
  catch (const DeidError& e)
  {
    EXPECT_EQ(ErrorCode::BadInput, e.GetCode());
    EXPECT_NE(std::string::npos, std::string(e.what()).find("longer than the rest of the input")) << e.what();
  }
}
