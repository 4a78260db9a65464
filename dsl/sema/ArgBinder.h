#pragma once
// Binds the arguments of a call (or the keys of the train block) to a Callable's parameters
// and checks them, generically, from its signature:
//   - arity, positional-after-keyword, unknown keywords (with "did you mean"), duplicates;
//   - missing required arguments, defaults for the others;
//   - each value against its kind and range; tensors against their dtype and rank;
//   - finally the callable's own cross-argument validator.
// Every problem found is reported (not just the first); the result is empty if any was.
#include <optional>
#include <string>
#include <vector>

#include "dsl/ast/AST.h"
#include "dsl/sema/Signature.h"

namespace nnc::sema {

class Sema;

// One argument as written: `key` is empty for a positional one.
struct ArgSyntax {
  std::string key;
  SourceLoc keyLoc;
  const ast::Expr* value = nullptr;
};

std::optional<BoundCall> bindCall(Sema& s, const Callable& c, SourceLoc loc, const std::vector<ArgSyntax>& args);

// The arguments of a call expression.
std::vector<ArgSyntax> callArgs(const ast::Expr& call);

// A Name or Call naming a callable of `family` (`he_normal`, `adam(lr = 1e-3)`), bound.
// `what` says what the value is for in messages ("'optimizer'").
std::optional<BoundCall> bindCallableExpr(Sema& s, Family family, const ast::Expr& e, const std::string& what);

// `c` applied to an existing tensor with every other argument at its default (the
// `activation =` of layers).
std::optional<BoundCall> bindDefaults(Sema& s, const Callable& c, SourceLoc loc, NodeId firstTensor);

}  // namespace nnc::sema
