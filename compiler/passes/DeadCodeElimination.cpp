// Dead code elimination.
//
// Differentiation and the other passes leave values behind that nothing reads any more: the
// forward activations of a layer whose gradient rule does not need them, a `neg` whose two
// negations were cancelled, the second copy of a merged subexpression. This pass keeps what
// the roots (outputs, update targets and values, the loss) reach, walking operands backwards;
// as nodes are topologically ordered one reverse sweep finds them all.
//
// Input, Param, State and Hyper leaves are kept even when unused: the runtime binds them by
// name, and a model's parameter list must not change because a pass found one unused.
// Only Constants among the leaves can die.
#include "compiler/passes/DeadCodeElimination.h"

#include "compiler/passes/GraphRewriter.h"

namespace nnc {

namespace {
bool isBoundByName(OpKind k) {
  return k == OpKind::Input || k == OpKind::Param || k == OpKind::State || k == OpKind::Hyper;
}

std::vector<bool> liveNodes(const Graph& g) {
  std::vector<bool> live(g.size(), false);
  auto mark = [&](NodeId id) {
    if (id >= 0 && static_cast<size_t>(id) < g.size()) live[static_cast<size_t>(id)] = true;
  };
  for (const Output& o : g.outputs) mark(o.node);
  for (const Update& u : g.updates) {
    mark(u.target);
    mark(u.value);
  }
  mark(g.loss);
  for (size_t i = g.size(); i-- > 0;) {
    const Node& n = g.nodes()[i];
    if (isBoundByName(n.op)) live[i] = true;
    if (!live[i]) continue;
    for (NodeId in : n.inputs) mark(in);
  }
  return live;
}
}  // namespace

Result<Graph> eliminateDeadCode(const Graph& g) {
  std::vector<bool> live = liveNodes(g);
  GraphRewriter rw(g, "dead-code-elimination");
  return rw.run([&](GraphRewriter& r, NodeId id) { return live[static_cast<size_t>(id)] ? r.copy(id) : kNoNode; });
}

}  // namespace nnc
