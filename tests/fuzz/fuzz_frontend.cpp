// libFuzzer target: the `.nn` front end (see FrontendHarness.h).
#include "FrontendHarness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::fuzzFrontend(data, size);
  return 0;
}
