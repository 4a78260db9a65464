// Fuzz target: the IDX loader (`--data idx:IMAGES,LABELS`, Fashion-MNIST), plain and gzip,
// with the default dtype rules and with each forced dtype.
#include "ArrayCheck.h"
#include "runtime/data/Idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::MemFile file(data, size);
  for (std::optional<nnc::data::DType> as : {std::optional<nnc::data::DType>(), std::optional(nnc::data::DType::F32),
                                       std::optional(nnc::data::DType::I32)}) {
    nnc::Result<nnc::data::Array> a = nnc::data::loadIdx(file.path(), as);
    if (a.ok()) nnc::fuzz::checkArray(*a);
  }
  return 0;
}
