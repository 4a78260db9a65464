// libFuzzer target: the CSV loader (`--data csv:FILE`) (see LoaderHarnesses.h).
#include "LoaderHarnesses.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::fuzzCsv(data, size);
  return 0;
}
