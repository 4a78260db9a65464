#pragma once
// The invariant every successful load must keep: an array's shape accounts for exactly its
// elements. Code downstream (binding, batching, compiled kernels) indexes by the shape.
#include <span>

#include "FuzzInput.h"
#include "runtime/data/Array.h"
#include "runtime/support/Checked.h"

namespace nnc::fuzz {

inline void checkArray(const data::Array& a) {
  std::optional<uint64_t> n = io::checkedProduct(std::span<const int64_t>(a.shape()));
  NNC_FUZZ_CHECK(n.has_value());
  NNC_FUZZ_CHECK(int64_t(*n) == a.numel());
  NNC_FUZZ_CHECK(a.byteSize() == size_t(a.numel()) * 4);
}

}  // namespace nnc::fuzz
