#pragma once
// Common subexpression elimination: computes each distinct (op, operands, attributes, type)
// once.
#include "compiler/ir/Graph.h"
#include "support/Result.h"

namespace nnc {

Result<Graph> eliminateCommonSubexpressions(const Graph& g);

}  // namespace nnc
