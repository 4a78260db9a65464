#pragma once
// Sliding windows in the reference kernels: the shared geometry (compiler/ir/Window.h) and
// NHWC offsets.
#include <cstdint>
#include <vector>

#include "compiler/ir/Window.h"

namespace nnc::interp {

// NHWC offset of (n, h, w, c) in a tensor of shape [N, H, W, C].
inline int64_t nhwc(const std::vector<int64_t>& s, int64_t n, int64_t h, int64_t w, int64_t c) {
  return ((n * s[1] + h) * s[2] + w) * s[3] + c;
}

}  // namespace nnc::interp
