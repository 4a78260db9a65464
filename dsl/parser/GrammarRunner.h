#pragma once
// Runs the X3 grammar (Grammar.cpp) over a file. This header is all the rest of the parser
// sees of X3's parsers: a change anywhere else never recompiles the grammar.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "dsl/parser/SyntaxTree.h"

namespace nnc::syntax {

// The first expectation point (`a > b` in the grammar) that failed.
struct ExpectationFailure {
  size_t where = 0;      // offset of what was found instead (trivia before it not yet skipped)
  std::string which;     // the name of the rule that was expected there (SyntaxMessages.cpp)
  size_t ruleStart = 0;  // offset where the rule holding that expectation began
};

struct GrammarOutcome {
  std::optional<FileSyntax> file;  // set on success
  std::optional<ExpectationFailure> failure;
  // On failure: the end of the last complete declaration before it (0: none). Parsing
  // text[start, completeUpTo) again gives those declarations, for the checks made after
  // parsing.
  size_t completeUpTo = 0;
};

// Parses text[start, stop); offsets in the result are offsets into `text`. `stop` lets the
// caller cut the text before a problem the pre-scan found.
GrammarOutcome runGrammar(std::string_view text, size_t start, size_t stop);

}  // namespace nnc::syntax
