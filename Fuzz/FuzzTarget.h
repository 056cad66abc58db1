// The fuzz target of the engine (issue 9, item 5): arbitrary bytes go through
// every path a DICOM upload takes in the plugin, parse, de-identification with
// several option sets (PS3.15 E.3), the Encrypted Attributes Sequence (E.1.1),
// write, and re-identification (E.1.2) with a throwaway test key.
//
// Shared by the libFuzzer entry point (FuzzMain.cpp) and the regression unit
// tests (UnitTests/FuzzRegressionTests.cpp), so a crash input found by the
// fuzzer is replayed by ctest on the ordinary build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace Deid
{
  namespace Fuzzing
  {
    // What one input went through (for the regression tests and statistics).
    struct Outcome
    {
      bool parsed = false;                 // ParseDicom accepted the input
      unsigned int deidentified = 0;       // option sets that produced an output
      unsigned int refused = 0;            // option sets refused with a DeidError
      bool roundTrip = false;              // the encrypted output re-identified
      bool contentDecoded = false;         // the bytes as decrypted content gave an item
    };

    // Runs the input through the engine. Every error must be a DeidError;
    // anything else (another exception, an output that does not parse again,
    // an encrypted output our own key cannot re-identify) calls Fail(), which
    // aborts: libFuzzer reports it as a crash. ASan/UBSan catch the rest.
    Outcome RunOneInput(const uint8_t* data, size_t size);

    // Aborts with a message naming the broken invariant (never input values).
    [[noreturn]] void Fail(const std::string& invariant);

    // The largest input the harness accepts; longer inputs are truncated, as
    // libFuzzer's -max_len does (keeps each execution fast).
    constexpr size_t MAX_INPUT_SIZE = 256 * 1024;
  }
}
