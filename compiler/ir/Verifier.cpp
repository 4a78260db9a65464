#include "compiler/ir/Verifier.h"

#include <set>

#include "compiler/ir/AttrSchema.h"
#include "compiler/ir/ShapeRules.h"

namespace nnc {

namespace {
Error bad(const Graph& g, size_t id, const std::string& what) {
  const Node& n = g.nodes()[id];
  return makeError("IR verifier: node %" + std::to_string(id) + " (" + opName(n.op) +
                       (n.name.empty() ? "" : " '" + n.name + "'") + "): " + what,
                   n.loc);
}
bool inRange(const Graph& g, NodeId id) { return id >= 0 && static_cast<size_t>(id) < g.size(); }
}  // namespace

Result<void> verifyGraph(const Graph& g) {
  for (size_t i = 0; i < g.size(); ++i) {
    const Node& n = g.nodes()[i];
    // Attributes against the op's family (AttrSchema.h), before anything reads them.
    if (auto ok = checkOpAttrs(n.op, n.attrs); !ok) return bad(g, i, ok.error().message);
    if (isLeaf(n.op)) {
      if (!n.inputs.empty()) return bad(g, i, "a leaf has operands");
      if ((n.op == OpKind::Input || n.op == OpKind::Param || n.op == OpKind::State || n.op == OpKind::Hyper) &&
          n.name.empty())
        return bad(g, i, "a leaf without a name");
      if (auto ok = checkShapeSize(n.type.shape); !ok) return bad(g, i, ok.error().message);
      continue;
    }
    std::vector<TensorType> types;
    for (NodeId in : n.inputs) {
      if (!inRange(g, in) || static_cast<size_t>(in) >= i) return bad(g, i, "operand %" + std::to_string(in) + " does not precede it");
      types.push_back(g.type(in));
    }
    Result<TensorType> t = inferType(n.op, types, n.attrs);
    if (!t) return bad(g, i, t.error().message);
    if (*t != n.type) return bad(g, i, "type " + n.type.str() + " but its rule gives " + t->str());
  }
  std::set<NodeId> updated;
  for (const Output& o : g.outputs)
    if (!inRange(g, o.node)) return makeError("IR verifier: output '" + o.name + "' refers to no node");
  for (const Update& u : g.updates) {
    if (!inRange(g, u.target) || !inRange(g, u.value)) return makeError("IR verifier: an update refers to no node");
    OpKind k = g.node(u.target).op;
    if (k != OpKind::Param && k != OpKind::State) return bad(g, static_cast<size_t>(u.target), "updated but not a param or state");
    if (g.type(u.value) != g.type(u.target))
      return bad(g, static_cast<size_t>(u.target), "updated with a value of type " + g.type(u.value).str());
    if (!updated.insert(u.target).second) return bad(g, static_cast<size_t>(u.target), "updated twice");
  }
  if (g.loss != kNoNode && !inRange(g, g.loss)) return makeError("IR verifier: the loss refers to no node");
  return {};
}

}  // namespace nnc
