#pragma once
// A syntax error inside the parser, before it becomes a diagnostic: where it is (a byte
// offset into the file) and what to say. Offsets become line:column once, at the end.
#include <cstddef>
#include <string>

namespace nnc::syntax {

struct SyntaxProblem {
  size_t offset = 0;
  std::string message;
};

}  // namespace nnc::syntax
