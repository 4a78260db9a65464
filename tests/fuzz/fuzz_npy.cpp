// libFuzzer target: the .npy loader (`--data npy:NAME=FILE`) (see LoaderHarnesses.h).
#include "LoaderHarnesses.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::fuzzNpy(data, size);
  return 0;
}
