// Fuzz target: the .npy loader (`--data npy:NAME=FILE`), plain and gzip. A loaded array is
// encoded again and reloaded: what nnc writes (`predict --out`) it must read back unchanged.
#include "ArrayCheck.h"
#include <cstring>

#include "runtime/data/Npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::MemFile file(data, size);
  nnc::Result<nnc::data::Array> a = nnc::data::loadNpy(file.path());
  if (!a.ok()) return 0;
  nnc::fuzz::checkArray(*a);
  std::vector<uint8_t> bytes = nnc::data::encodeNpy(*a);
  nnc::fuzz::MemFile again(bytes.data(), bytes.size());
  nnc::Result<nnc::data::Array> b = nnc::data::loadNpy(again.path());
  NNC_FUZZ_CHECK(b.ok());
  NNC_FUZZ_CHECK(b->shape() == a->shape() && b->dtype() == a->dtype());
  // Bitwise, not ==: NaN payloads must survive too.
  NNC_FUZZ_CHECK(a->byteSize() == 0 || std::memcmp(b->data(), a->data(), a->byteSize()) == 0);
  return 0;
}
