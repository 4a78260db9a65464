#pragma once
// Internal: the geometry attributes of convolutions and pooling (strides [2], pads
// [top, left, bottom, right], window or kernel [2]), already checked by the shape rules.
#include <cstdint>
#include <vector>

#include "compiler/ir/Attrs.h"

namespace nnc::codegen {

struct WindowGeometry {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, pt = 0, pl = 0;

  static WindowGeometry from(const Attrs& a, std::vector<int64_t> window) {
    WindowGeometry g;
    std::vector<int64_t> s = a.getInts("strides"), p = a.getInts("pads");
    if (window.size() == 2) g.kh = window[0], g.kw = window[1];
    if (s.size() == 2) g.sh = s[0], g.sw = s[1];
    if (p.size() == 4) g.pt = p[0], g.pl = p[1];
    return g;
  }
};

}  // namespace nnc::codegen
