#include "compiler/passes/RoundProductOperands.h"

#include "compiler/passes/GraphRewriter.h"

namespace nnc {

// One rule for every product: the category the registry gives matmul and the convolutions
// (their epilogues fuse into their output), so a product op added to Ops.def is covered.
bool roundsOperandsInBf16(OpKind op) { return opCategory(op) == OpCategory::OutFusable; }

Result<RoundedGraph> roundProductOperandsToBf16(const Graph& g) {
  std::vector<bool> isOperand(g.size(), false);
  for (const Node& n : g.nodes())
    if (roundsOperandsInBf16(n.op))
      for (NodeId in : n.inputs)
        if (g.type(in).dtype == DType::F32) isOperand[static_cast<size_t>(in)] = true;

  std::vector<NodeId> rounded(g.size(), kNoNode);  // old operand -> its round_bf16 in the new graph
  GraphRewriter rw(g, "round-product-operands-bf16");
  Result<Graph> out = rw.run([&](GraphRewriter& r, NodeId id) -> NodeId {
    const Node& n = g.node(id);
    NodeId v = kNoNode;
    if (roundsOperandsInBf16(n.op)) {
      std::vector<NodeId> ins;
      for (NodeId in : n.inputs) ins.push_back(isOperand[static_cast<size_t>(in)] ? rounded[static_cast<size_t>(in)] : r.mapped(in));
      v = r.copyWithInputs(id, std::move(ins));
    } else {
      v = r.copy(id);
    }
    if (isOperand[static_cast<size_t>(id)]) rounded[static_cast<size_t>(id)] = r.emit(OpKind::RoundBf16, {v}, {}, n.type);
    return v;
  });
  if (!out) return out.error();
  RoundedGraph result{std::move(*out), {}};
  result.fromOld.reserve(g.size());
  for (size_t i = 0; i < g.size(); ++i) result.fromOld.push_back(rw.mapped(static_cast<NodeId>(i)));
  return result;
}

}  // namespace nnc
