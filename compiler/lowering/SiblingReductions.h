#pragma once
// Multi-output reduce kernels (issue 14). Sums and means over the same operand space and the
// same axes are siblings: one loop reads the operand space once and keeps every sibling's
// accumulators (batch normalisation's E[d] and E[d^2] in the forward pass, sum(dy) and
// sum(dy * d) in the backward one, which would otherwise read the tensor once per sum). The
// partitioner (Fusion.cpp) puts the lower siblings of a reduce kernel's root in its `fused`
// and `stored` lists; the reduce emitter (kernels/EmitFused.cpp) accumulates them all. The
// table below names the reductions that may be siblings; the key says which ones match.
#include <map>
#include <tuple>
#include <vector>

#include "compiler/ir/Graph.h"

namespace nnc::lowering {

// Whether `op` accumulates a sum that a sibling kernel can share (ReduceSum, ReduceMean).
bool mayBeSiblingReduction(OpKind op);

// The live sibling-able reductions of a graph grouped by key (operand shape, sorted axes,
// keepdims), so that finding a root's siblings does not scan the graph.
class SiblingReductions {
 public:
  SiblingReductions(const Graph& g, const std::vector<bool>& live);
  // The reductions with `root`'s key (root included), highest id first; empty when root is
  // not a sibling-able reduction.
  const std::vector<NodeId>& of(NodeId root) const;

 private:
  using Key = std::tuple<std::vector<int64_t>, std::vector<int64_t>, bool>;
  static bool keyOf(const Graph& g, NodeId n, Key* key);
  const Graph& g_;
  std::map<Key, std::vector<NodeId>> groups_;
  std::vector<NodeId> none_;
};

// Whether a reduce kernel rooted at `root` may also store the elementwise producers it
// computes: its emitter visits every operand element exactly once, and the threads split its
// outermost kept dimension, which must be the operand's first (a per-sample sum: each thread
// then writes whole samples, never a cache line another thread writes, and a reduction to a
// scalar, which runs on one thread, takes no elementwise work from the parallel kernels).
bool reductionMayStore(const Graph& g, NodeId root);

}  // namespace nnc::lowering
