#pragma once
#include <cstdint>

namespace nnc {

// A 1-based line and column in a model file. Line 0 means "no position" (for values the
// compiler made up, such as gradients and optimizer state).
struct SourceLoc {
  uint32_t line = 0;
  uint32_t col = 0;
  bool valid() const { return line != 0; }
  friend bool operator==(const SourceLoc&, const SourceLoc&) = default;
};

}  // namespace nnc
