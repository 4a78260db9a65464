#pragma once
// Converts the grammar's syntax tree into the compiler's AST, and checks what is easier to
// check on a finished tree than in the grammar:
//   - number literals: well formed ("3x", "1.2.3" are not) and in range ("1e999" is not);
//   - dimensions in types are integers or names;
//   - positional arguments come before keyword arguments;
//   - no expression is nested more than `maxDepth` levels deep, counting every operator,
//     call, list and minus sign between the root and a leaf. Chains like `a + b + c + ...`
//     nest one level per operator once they are left-associative nodes, and the compiler
//     walks expressions recursively, so this bounds its stack use.
// The first problem, in the order of the file, is returned.
#include <optional>
#include <string_view>

#include "dsl/ast/AST.h"
#include "dsl/parser/LineIndex.h"
#include "dsl/parser/SyntaxProblem.h"
#include "dsl/parser/SyntaxTree.h"

namespace nnc::syntax {

struct AstOutcome {
  std::optional<ast::Module> module;
  std::optional<SyntaxProblem> problem;
};

AstOutcome toAst(const FileSyntax& file, const LineIndex& lines, size_t maxDepth);

// "expression nested deeper than 256 levels (the limit); ..."
std::string depthMessage(size_t maxDepth);

}  // namespace nnc::syntax
