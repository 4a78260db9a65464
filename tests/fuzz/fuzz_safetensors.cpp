// libFuzzer target: the safetensors reader behind `--init` and `--weights` (see LoaderHarnesses.h).
#include "LoaderHarnesses.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::fuzzSafetensors(data, size);
  return 0;
}
