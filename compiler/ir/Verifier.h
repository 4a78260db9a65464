#pragma once
// Checks a graph's invariants: operands precede users, every node's type is what its shape
// rule gives, leaves have no operands, outputs/updates/loss refer to real nodes, an update's
// value has its target's type, and no leaf is updated twice. Every pass's output is verified
// in tests; a failure here is a compiler bug, reported (not asserted) with the node.
#include "compiler/ir/Graph.h"
#include "support/Result.h"

namespace nnc {

Result<void> verifyGraph(const Graph& g);

}  // namespace nnc
