#pragma once
// The reference interpreter: executes any IR graph, every op, in f32 or f64, with plain,
// obviously-correct loops. It is the oracle compiled code is tested against, and gradcheck
// runs it in f64. It is not a performance path.
#include <unordered_map>
#include <vector>

#include "compiler/interp/Tensor.h"
#include "compiler/ir/Graph.h"
#include "compiler/support/Result.h"

namespace nnc {

enum class Precision { F32, F64 };

// Values for the graph's Input, Param, State and Hyper leaves, by node id. Constants come
// from their attributes. The batch size is read from the Input tensors' first dimension.
using LeafValues = std::unordered_map<NodeId, Tensor>;

// Evaluates the nodes `wanted` (and whatever they depend on). Errors: a missing or
// mis-shaped leaf value, inconsistent batch sizes.
Result<std::vector<Tensor>> interpret(const Graph& g, const LeafValues& leaves, const std::vector<NodeId>& wanted,
                                      Precision precision = Precision::F64);

// Evaluates every node (for tests that compare all intermediate values).
Result<std::vector<Tensor>> interpretAll(const Graph& g, const LeafValues& leaves, Precision precision = Precision::F64);

}  // namespace nnc
