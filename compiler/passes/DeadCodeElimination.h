#pragma once
// Dead code elimination: removes every computation and Constant that no root (output,
// update, loss) depends on.
#include "compiler/ir/Graph.h"
#include "support/Result.h"

namespace nnc {

Result<Graph> eliminateDeadCode(const Graph& g);

}  // namespace nnc
