#pragma once
// Algebraic simplification: local rewrites by identities that hold exactly in IEEE
// arithmetic (up to the sign of zero), such as x * 1 -> x and transpose(transpose(x)) -> x.
#include "compiler/ir/Graph.h"
#include "support/Result.h"

namespace nnc {

Result<Graph> simplifyAlgebra(const Graph& g);

}  // namespace nnc
