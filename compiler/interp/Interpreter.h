#pragma once
// The reference interpreter: executes any IR graph, every op, in f32 or f64, with plain,
// obviously-correct loops. It is the oracle compiled code is tested against, and gradcheck
// runs it in f64. It is not a performance path.
#include <unordered_map>
#include <vector>

#include "compiler/interp/Tensor.h"
#include "compiler/ir/Graph.h"
#include "support/Result.h"

namespace nnc {

enum class Precision { F32, F64 };

// Values for the graph's Input, Param, State and Hyper leaves, by node id. Constants come
// from their attributes (`value`, a fill, or `values`, row-major). The batch size is read from
// the Input tensors' first dimension.
using LeafValues = std::unordered_map<NodeId, Tensor>;

// Evaluates the nodes `wanted` (and only what they depend on); the results come in the order
// of `wanted`. F64 computes in exact doubles; F32 rounds every f32 leaf on entry and every f32
// result to float (each op computes in double, then rounds).
// Errors: a wanted id outside the graph; a needed leaf without a value, or whose value's
// dtype, shape or element count differs from the leaf's type (batch dims take the batch
// size); i32 values that are not integers; batched leaves that disagree on the batch size;
// a needed node whose type is not what its shape rule gives. Every op's semantics is
// documented beside its kernel (Kernels.h and the *Kernels.cpp files).
Result<std::vector<Tensor>> interpret(const Graph& g, const LeafValues& leaves, const std::vector<NodeId>& wanted,
                                      Precision precision = Precision::F64);

// Evaluates every node (for tests that compare all intermediate values).
Result<std::vector<Tensor>> interpretAll(const Graph& g, const LeafValues& leaves, Precision precision = Precision::F64);

}  // namespace nnc
