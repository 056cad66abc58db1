// libFuzzer entry point of the engine (issue 9, item 5). Build with
// -DDEID_FUZZ=ON and clang (see README, "Reliability and bad inputs").
#include "FuzzTarget.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  Deid::Fuzzing::RunOneInput(data, size);
  return 0;
}
