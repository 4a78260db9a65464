#pragma once
// Turns the grammar's first failed expectation into a message that says what was expected
// and what was found: "expected ')' to close the call to 'dense' opened at 7:15, found 'relu'".
#include <string_view>
#include <vector>

#include "dsl/parser/GrammarRunner.h"
#include "dsl/parser/LineIndex.h"
#include "dsl/parser/SyntaxProblem.h"

namespace nnc::syntax {

SyntaxProblem explainFailure(std::string_view text, const LineIndex& lines, const ExpectationFailure& failure);

// The names of every expectation the message table knows (for tests).
std::vector<std::string_view> knownExpectations();

}  // namespace nnc::syntax
