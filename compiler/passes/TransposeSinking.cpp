// Transpose sinking (TransposeSinking.h). Each rewrite emits its replacement through
// GraphRewriter::emit with the node's type as the expectation, so a rewrite that would change
// a value's type does not happen.
#include "compiler/passes/TransposeSinking.h"

#include "compiler/passes/GraphRewriter.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc {

namespace {

using Perm = std::vector<int64_t>;

bool isIdentityPermutation(const Perm& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != static_cast<int64_t>(i)) return false;
  return true;
}

Perm inversePermutation(const Perm& p) {
  Perm q(p.size());
  for (size_t i = 0; i < p.size(); ++i) q[static_cast<size_t>(p[i])] = static_cast<int64_t>(i);
  return q;
}

// The permutation of a Transpose node of the new graph, or nothing.
std::optional<Perm> transposePerm(const GraphRewriter& rw, NodeId v) {
  const Node& n = rw.newNode(v);
  if (n.op != OpKind::Transpose) return std::nullopt;
  Perm p = PermAttr::of(n).perm;
  if (p.size() != rw.newType(n.inputs[0]).shape.rank()) return std::nullopt;
  return p;
}

struct Sinker {
  GraphRewriter& rw;

  NodeId transposeTo(NodeId x, const Perm& p, const TensorType& expected) {
    if (isIdentityPermutation(p)) return rw.newType(x) == expected ? x : kNoNode;
    return rw.emit(OpKind::Transpose, {x}, PermAttr{p}.attrs(), expected);
  }

  // transpose(transpose(x, p), q) -> transpose(x, p then q)
  NodeId composed(const Node& n, const std::vector<NodeId>& in) {
    std::optional<Perm> first = transposePerm(rw, in[0]);
    if (!first) return kNoNode;
    Perm q = PermAttr::of(n).perm;
    if (q.size() != first->size()) return kNoNode;
    Perm p(q.size());
    for (size_t i = 0; i < q.size(); ++i) p[i] = (*first)[static_cast<size_t>(q[i])];
    return transposeTo(rw.newNode(in[0]).inputs[0], p, n.type);
  }

  // u(transpose(x, p)) -> transpose(u(x), p)
  NodeId unary(const Node& n, const std::vector<NodeId>& in) {
    std::optional<Perm> p = transposePerm(rw, in[0]);
    if (!p) return kNoNode;
    NodeId u = rw.emit(n.op, {rw.newNode(in[0]).inputs[0]}, n.attrs);
    return u == kNoNode ? kNoNode : transposeTo(u, *p, n.type);
  }

  // f(transpose(x, p), c) -> transpose(f(x, c'), p), c' the broadcast operand in x's layout.
  NodeId broadcasting(const Node& n, const std::vector<NodeId>& in) {
    const Shape& out = n.type.shape;
    std::optional<Perm> perm;
    for (NodeId v : in)
      if (rw.newType(v).shape == out)
        if (std::optional<Perm> p = transposePerm(rw, v)) perm = p;
    if (!perm || (out.isBatched() && (*perm)[0] != 0)) return kNoNode;
    const Perm inverse = inversePermutation(*perm);
    std::vector<NodeId> moved;
    for (NodeId v : in) {
      const TensorType t = rw.newType(v);
      if (t.shape == out) {
        std::optional<Perm> p = transposePerm(rw, v);
        if (!p || *p != *perm) return kNoNode;  // a full-size operand would need a transpose of its own
        moved.push_back(rw.newNode(v).inputs[0]);
        continue;
      }
      if (t.shape.rank() == 0) {
        moved.push_back(v);
        continue;
      }
      // A broadcast operand: full rank (leading unit axes, as broadcasting aligns on the
      // right), then into x's layout. Batched ones are left alone (their batch axis would
      // have to stay first through a reshape).
      if (t.shape.isBatched() && t.shape.rank() != out.rank()) return kNoNode;
      NodeId full = v;
      if (t.shape.rank() != out.rank()) {
        std::vector<int64_t> dims(out.rank() - t.shape.rank(), 1);
        dims.insert(dims.end(), t.shape.dims.begin(), t.shape.dims.end());
        full = rw.emit(OpKind::Reshape, {v}, ShapeAttr{dims}.attrs());
        if (full == kNoNode) return kNoNode;
      }
      NodeId c = rw.emit(OpKind::Transpose, {full}, PermAttr{inverse}.attrs());
      if (c == kNoNode) return kNoNode;
      moved.push_back(c);
    }
    NodeId f = rw.emit(n.op, moved, n.attrs);
    return f == kNoNode ? kNoNode : transposeTo(f, *perm, n.type);
  }

  // reshape(transpose(x, p)) -> reshape(x) when p keeps the order of the axes longer than 1
  // (then both list the elements in the same order).
  NodeId reshape(const Node& n, const std::vector<NodeId>& in) {
    std::optional<Perm> p = transposePerm(rw, in[0]);
    if (!p) return kNoNode;
    NodeId x = rw.newNode(in[0]).inputs[0];
    const Shape& xs = rw.newType(x).shape;
    int64_t last = -1;
    for (int64_t axis : *p) {
      if (xs[static_cast<size_t>(axis)] == 1) continue;
      if (axis < last) return kNoNode;
      last = axis;
    }
    return rw.emit(OpKind::Reshape, {x}, n.attrs, n.type);
  }

  NodeId visit(NodeId id) {
    const Node& n = rw.source().node(id);
    if (isLeaf(n.op)) return rw.copy(id);
    std::vector<NodeId> in = rw.mappedInputs(id);
    NodeId r = kNoNode;
    if (n.op == OpKind::Transpose) {
      r = composed(n, in);
    } else if (n.op == OpKind::Reshape) {
      r = reshape(n, in);
    } else if (opCategory(n.op) == OpCategory::Elementwise && in.size() == 1) {
      r = unary(n, in);
    } else if (opCategory(n.op) == OpCategory::Broadcast && !in.empty()) {
      r = broadcasting(n, in);
    }
    return r != kNoNode ? r : rw.copyWithInputs(id, std::move(in));
  }
};

}  // namespace

Result<Graph> sinkTransposes(const Graph& g) {
  GraphRewriter rw(g, "transpose-sinking");
  Sinker sinker{rw};
  return rw.run([&](GraphRewriter&, NodeId id) { return sinker.visit(id); });
}

}  // namespace nnc
