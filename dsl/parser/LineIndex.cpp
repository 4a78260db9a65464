#include "dsl/parser/LineIndex.h"

#include <algorithm>

namespace nnc::syntax {

LineIndex::LineIndex(std::string_view text) {
  lineStarts_.push_back(0);
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') lineStarts_.push_back(i + 1);
}

SourceLoc LineIndex::locate(size_t offset) const {
  auto after = std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset);
  size_t line = size_t(after - lineStarts_.begin());  // >= 1: lineStarts_[0] == 0
  return SourceLoc{uint32_t(line), uint32_t(offset - lineStarts_[line - 1] + 1)};
}

}  // namespace nnc::syntax
