// libFuzzer target: the IDX loader (`--data idx:IMAGES,LABELS`, Fashion-MNIST) (see LoaderHarnesses.h).
#include "LoaderHarnesses.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::fuzzIdx(data, size);
  return 0;
}
