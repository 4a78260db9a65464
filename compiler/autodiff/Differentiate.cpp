// The differentiation driver (tinygrad's gradient.py, over our IR): find the nodes on a
// path from a requested node to the loss, refuse the ones without a rule, then visit them
// in reverse topological order, accumulating each operand's gradient with Add.
#include "compiler/autodiff/Differentiate.h"

#include "compiler/autodiff/GradRules.h"
#include "compiler/autodiff/IRBuilder.h"

namespace nnc {

namespace {

// Nodes that depend on a `wrt` node through edges gradient flows along.
std::vector<bool> dependsOnWrt(const Graph& g, size_t count, const std::vector<NodeId>& wrt) {
  std::vector<bool> dep(count, false);
  for (NodeId w : wrt) dep[static_cast<size_t>(w)] = true;
  for (size_t i = 0; i < count; ++i) {
    const Node& n = g.nodes()[i];
    for (size_t k = 0; k < n.inputs.size() && !dep[i]; ++k)
      if (dep[static_cast<size_t>(n.inputs[k])] && gradFlowsInto(n, k)) dep[i] = true;
  }
  return dep;
}

// Nodes the loss depends on through such edges.
std::vector<bool> reachesLoss(const Graph& g, size_t count, NodeId loss) {
  std::vector<bool> reach(count, false);
  reach[static_cast<size_t>(loss)] = true;
  for (size_t i = count; i-- > 0;) {
    if (!reach[i]) continue;
    const Node& n = g.nodes()[i];
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (gradFlowsInto(n, k)) reach[static_cast<size_t>(n.inputs[k])] = true;
  }
  return reach;
}

std::string describe(const Node& n) {
  return std::string("'") + opName(n.op) + "'" + (n.name.empty() ? "" : " ('" + n.name + "')");
}

}  // namespace

Result<Gradients> differentiate(Graph& g, NodeId loss, const std::vector<NodeId>& wrt) {
  const size_t count = g.size();  // the forward graph; gradient nodes are appended after it
  if (loss < 0 || static_cast<size_t>(loss) >= count) return makeError("internal: the loss is not in the graph");
  const TensorType lossType = g.type(loss);
  if (!lossType.isFloat() || !lossType.shape.isScalar())
    return makeError("the loss must be an f32 scalar, got " + lossType.str(), g.node(loss).loc);
  for (NodeId w : wrt) {
    if (w < 0 || static_cast<size_t>(w) >= count) return makeError("internal: a differentiated node is not in the graph");
    if (!g.type(w).isFloat())
      return makeError("cannot differentiate with respect to the integer value " + describe(g.node(w)), g.node(w).loc);
  }

  std::vector<bool> dep = dependsOnWrt(g, count, wrt);
  std::vector<bool> reach = reachesLoss(g, count, loss);
  std::vector<bool> onPath(count);
  for (size_t i = 0; i < count; ++i) onPath[i] = dep[i] && reach[i];

  // Refuse, before emitting anything, every op on the path that has no rule.
  for (size_t i = 0; i < count; ++i) {
    const Node& n = g.nodes()[i];
    if (!onPath[i] || isLeaf(n.op)) continue;
    const GradRule& r = gradRule(n.op);
    if (r.kind == GradKind::None)
      return makeError(std::string("cannot differentiate '") + opName(n.op) + "' on the path to the loss (" + r.why + ")",
                       n.loc);
  }

  std::vector<NodeId> grad(count, kNoNode);
  IRBuilder b(g);
  auto accumulate = [&](NodeId target, NodeId contribution) {
    NodeId& slot = grad[static_cast<size_t>(target)];
    slot = slot == kNoNode ? contribution : b.add(slot, contribution);
  };
  if (onPath[static_cast<size_t>(loss)]) grad[static_cast<size_t>(loss)] = b.scalar(1.0);

  for (size_t i = static_cast<size_t>(loss) + 1; i-- > 0;) {
    if (!onPath[i] || grad[i] == kNoNode) continue;
    const Node node = g.nodes()[i];  // a copy: emitting nodes may reallocate the graph
    if (isLeaf(node.op)) continue;
    const GradRule& r = gradRule(node.op);
    if (r.kind != GradKind::Rule) continue;  // Constant kind: nothing flows back
    GradInput in{node, static_cast<NodeId>(i), grad[i], {}};
    bool any = false;
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      size_t opnd = static_cast<size_t>(node.inputs[k]);
      bool want = onPath[opnd] && gradFlowsInto(node, k) && g.type(node.inputs[k]).isFloat();
      in.wanted.push_back(want);
      any = any || want;
    }
    if (!any) continue;
    b.setLoc(node.loc);
    std::vector<NodeId> operandGrads = r.fn(b, in);
    if (b.failed()) break;
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      if (!in.wanted[k] || k >= operandGrads.size() || operandGrads[k] == kNoNode) continue;
      NodeId opnd = node.inputs[k];
      if (g.type(operandGrads[k]) != g.type(opnd))
        return makeError("internal: the gradient rule of " + describe(node) + " gave operand " + std::to_string(k) +
                             " a gradient of type " + g.type(operandGrads[k]).str() + ", expected " + g.type(opnd).str(),
                         node.loc);
      accumulate(opnd, operandGrads[k]);
    }
    if (b.failed()) break;
  }
  if (b.failed()) return *b.error();

  Gradients out;
  b.setLoc({});
  for (NodeId w : wrt) {
    NodeId d = grad[static_cast<size_t>(w)];
    if (d == kNoNode) {
      d = b.fill(0, g.type(w).shape);
      out.unreached.push_back(w);
    } else if (d >= static_cast<NodeId>(count) && g.node(d).name.empty() && !g.node(w).name.empty()) {
      g.node(d).name = g.node(w).name + "/grad";  // a readable `ir --stage train`
    }
    out.grads.push_back(d);
  }
  if (b.failed()) return *b.error();
  return out;
}

}  // namespace nnc
