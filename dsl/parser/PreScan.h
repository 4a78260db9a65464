#pragma once
// A cheap linear pass over a whole file before the grammar runs. It finds the lexical errors
// (bytes that start no token, as in binary files or a stray '$'; unterminated strings;
// malformed or out-of-range numbers) and nesting so deep that the recursive-descent grammar
// could run out of stack (`((((...`, `[[[[...`, `f(f(f(...`, `----x`).
#include <optional>
#include <string_view>

#include "dsl/parser/SyntaxProblem.h"

namespace nnc::syntax {

struct EarlyProblem {
  SyntaxProblem problem;
  size_t tokenStart = 0;  // the token it is in (a bad byte may be inside a string)
};

// Nesting counts open '(' and '[' (a call's '(' included) and unary minus signs whose operand
// has not ended yet; `-(-(x))` reaches 4. The first problem is returned: the grammar is then
// run on the text before its token only, so that an earlier syntax error is reported first.
std::optional<EarlyProblem> preScan(std::string_view text, size_t start, size_t maxNesting);

// "nesting deeper than 256 levels (the limit)"
std::string nestingMessage(size_t maxNesting);

}  // namespace nnc::syntax
