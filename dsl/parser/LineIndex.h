#pragma once
// Byte offset -> 1-based line and column (columns count bytes; a tab is one column).
#include <cstddef>
#include <string_view>
#include <vector>

#include "support/SourceLoc.h"

namespace nnc::syntax {

class LineIndex {
 public:
  explicit LineIndex(std::string_view text);
  SourceLoc locate(size_t offset) const;

 private:
  std::vector<size_t> lineStarts_;  // offset of the first byte of each line
};

}  // namespace nnc::syntax
