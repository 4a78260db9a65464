#pragma once
// Constant folding: replaces operations whose operands are all Constants (and element counts
// known at compile time) by Constants.
#include "compiler/ir/Graph.h"
#include "compiler/passes/PassOptions.h"
#include "support/Result.h"

namespace nnc {

Result<Graph> foldConstants(const Graph& g, const PassOptions& options = {});

}  // namespace nnc
