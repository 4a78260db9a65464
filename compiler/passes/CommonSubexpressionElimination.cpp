// Common subexpression elimination by hash-consing.
//
// Gradient graphs recompute the same things many times: each gradient rule rebuilds the
// masks, transposes and broadcasts it needs (relu's `greater(x, 0)` in the forward and the
// backward pass, the same `ones` for every mean), and the optimizer repeats its scalar
// arithmetic (1 - beta, bias corrections) per parameter. Every op is a pure function of its
// operands and attributes (even dropout_mask, whose seed and salt are attributes), so two
// nodes with the same op, operands, attributes and type compute the same value. Walking in
// topological order with operands already merged, one table lookup per node finds them all.
//
// Leaves are identities, not computations: two Params (or Inputs, States, Hyper scalars) of
// the same type are different values and are never merged. Only Constants with identical
// attributes (compared bitwise: 0.0 and -0.0 stay apart) and type are.
#include "compiler/passes/CommonSubexpressionElimination.h"

#include <unordered_map>

#include "compiler/passes/GraphRewriter.h"

namespace nnc {

Result<Graph> eliminateCommonSubexpressions(const Graph& g) {
  // Hash of a computation in the new graph -> the new values with that hash.
  std::unordered_map<size_t, std::vector<NodeId>> seen;
  GraphRewriter rw(g, "common-subexpression-elimination");
  return rw.run([&](GraphRewriter& r, NodeId id) {
    const Node& n = g.node(id);
    if (isLeaf(n.op) && n.op != OpKind::Constant) return r.copy(id);
    std::vector<NodeId> inputs = r.mappedInputs(id);
    Computation c{n.op, inputs, n.attrs, n.type};
    std::vector<NodeId>& bucket = seen[hashComputation(c)];
    for (NodeId v : bucket)
      if (sameComputation(c, computationOf(r.newNode(v)))) return v;
    NodeId v = r.copy(id);
    bucket.push_back(v);
    return v;
  });
}

}  // namespace nnc
