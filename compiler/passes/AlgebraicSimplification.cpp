// Algebraic simplification.
//
// Differentiation writes every rule in full generality, so a training graph multiplies by
// ones, adds zeros, negates negations, transposes transposed operands, broadcasts scalars
// that the consumer would broadcast anyway and reduces over no axes. Each rewrite below
// removes such a node by an identity that holds exactly in IEEE arithmetic; the only freedom
// taken is the sign of zero (x + 0 -> x keeps a -0.0 that the addition would have turned
// into +0.0), as in any numerical library. Folding x * 0 -> 0 is NOT done: it is wrong for
// x = NaN or inf, which the interpreter and compiled code must propagate (a diverging model
// has to show NaN, not zeros); with a constant x, constant folding already computes it.
//
// Rules are one table of (ops, rewrite). A rewrite sees the node's operands as values of the
// new graph, so chains collapse in one sweep (neg(neg(neg(x))) -> neg(x)). It returns the
// replacement or kNoNode. Replacements always have the node's exact type: a rewrite that
// would change it is refused by the shape rule check in `GraphRewriter::emit`, and where an
// identity would drop a broadcast (x + zeros[bigger] -> x) the value is broadcast instead.
// The nodes made dead are left to dead code elimination.
#include "compiler/passes/AlgebraicSimplification.h"

#include <algorithm>
#include <cmath>

#include "compiler/ir/ShapeRules.h"
#include "compiler/ir/TypedAttrs.h"
#include "compiler/passes/ConstantValues.h"
#include "compiler/passes/GraphRewriter.h"

namespace nnc {

namespace {

// The value every element of `v` holds, when it is a Constant fill or a broadcast of one
// (how IRBuilder writes fills of batched shapes).
std::optional<double> uniformValue(const GraphRewriter& rw, NodeId v) {
  const Node* n = &rw.newNode(v);
  if (n->op == OpKind::BroadcastTo) n = &rw.newNode(n->inputs[0]);
  return constantFill(*n);
}

// One node being simplified: the source node and its operands as new values. (References
// to new nodes are not kept across an emit: the new graph's node vector may grow.)
struct Site {
  GraphRewriter& rw;
  const Node& node;         // in the source graph
  std::vector<NodeId> in;   // its operands, in the new graph

  const Node& operand(size_t i) const { return rw.newNode(in[i]); }
  const TensorType& type(size_t i) const { return rw.newType(in[i]); }
  bool is(size_t i, OpKind k) const { return operand(i).op == k; }
  // The value every element of operand i holds, when it is a Constant fill or a broadcast
  // of one (how IRBuilder writes fills of batched shapes).
  std::optional<double> fillValue(size_t i) const { return uniformValue(rw, in[i]); }
  bool fill(size_t i, double v) const {
    std::optional<double> f = fillValue(i);
    return f && *f == v;
  }
  // The first operand of operand i (its inner value).
  NodeId inner(size_t i) const { return operand(i).inputs[0]; }

  // An op with this node's type, or kNoNode when the shape rule gives another.
  NodeId emit(OpKind op, std::vector<NodeId> ins, Attrs attrs = {}) {
    return rw.emit(op, std::move(ins), std::move(attrs), node.type);
  }
  // Whether `op(ins)` would have this node's type.
  bool gives(OpKind op, const std::vector<NodeId>& ins, const Attrs& attrs) const {
    std::vector<TensorType> types;
    for (NodeId v : ins) types.push_back(rw.newType(v));
    Result<TensorType> t = inferType(op, types, attrs);
    return t && *t == node.type;
  }
  // `v` itself when it has this node's type.
  NodeId same(NodeId v) const { return rw.newType(v) == node.type ? v : kNoNode; }
  // `v` standing for this node: itself, or broadcast to this node's shape when the node's
  // operation only broadcast it.
  NodeId as(NodeId v) {
    if (rw.newType(v) == node.type) return v;
    if (rw.newType(v).dtype != node.type.dtype) return kNoNode;
    return emit(OpKind::BroadcastTo, {v}, ShapeAttr{node.type.shape.dims}.attrs());
  }
};

using Rewrite = NodeId (*)(Site&);

// Whether shapes differ only by leading axes of size 1. NumPy broadcasting aligns shapes on
// the right, so such a reshape changes nothing about how a value broadcasts.
bool sameUpToLeadingOnes(const Shape& a, const Shape& b) {
  auto strip = [](const Shape& s) {
    size_t i = 0;
    while (i < s.rank() && s[i] == 1) ++i;
    return std::vector<int64_t>(s.dims.begin() + static_cast<std::ptrdiff_t>(i), s.dims.end());
  };
  return strip(a) == strip(b);
}

// The value a broadcasting consumer can read instead of `v`: the operand of a broadcast_to,
// or of a reshape that only adds or drops leading unit axes. kNoNode if there is none.
NodeId broadcastSource(const GraphRewriter& rw, NodeId v) {
  const Node& n = rw.newNode(v);
  if (n.op == OpKind::BroadcastTo) return n.inputs[0];
  if (n.op == OpKind::Reshape && sameUpToLeadingOnes(rw.newType(n.inputs[0]).shape, n.type.shape)) return n.inputs[0];
  return kNoNode;
}

bool isIdentityPerm(const std::vector<int64_t>& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != static_cast<int64_t>(i)) return false;
  return true;
}

// x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1, x ** 1 -> x
NodeId identityOperand(Site& s) {
  OpKind op = s.node.op;
  double unit = (op == OpKind::Add || op == OpKind::Sub) ? 0.0 : 1.0;
  if (s.fill(1, unit)) return s.as(s.in[0]);
  if ((op == OpKind::Add || op == OpKind::Mul) && s.fill(0, unit)) return s.as(s.in[1]);
  return kNoNode;
}

// 0 - x -> neg(x)
NodeId negationBySubtraction(Site& s) { return s.fill(0, 0.0) ? s.emit(OpKind::Neg, {s.in[1]}) : kNoNode; }

// x * -1, -1 * x -> neg(x)
NodeId negationByProduct(Site& s) {
  if (s.fill(1, -1.0)) return s.emit(OpKind::Neg, {s.in[0]});
  return s.fill(0, -1.0) ? s.emit(OpKind::Neg, {s.in[1]}) : kNoNode;
}

// x / -1 -> neg(x)
NodeId negationByDivision(Site& s) { return s.fill(1, -1.0) ? s.emit(OpKind::Neg, {s.in[0]}) : kNoNode; }

// x + neg(y) -> x - y;  neg(x) + y -> y - x;  x - neg(y) -> x + y
NodeId absorbNegation(Site& s) {
  if (s.node.op == OpKind::Add) {
    if (s.is(1, OpKind::Neg)) return s.emit(OpKind::Sub, {s.in[0], s.inner(1)});
    if (s.is(0, OpKind::Neg)) return s.emit(OpKind::Sub, {s.in[1], s.inner(0)});
  }
  if (s.node.op == OpKind::Sub && s.is(1, OpKind::Neg)) return s.emit(OpKind::Add, {s.in[0], s.inner(1)});
  return kNoNode;
}

// concat(0, a, 0) + concat(b, 0, 0) -> concat(b, a, 0): the sum of zero-padded pieces
// along one axis is the concatenation of the pieces (pieces that overlap are added). The
// gradient of a slice pads it with zeros, so a value sliced into many parts (an RNN's
// per-step inputs and gates) gets a gradient that is a chain of such sums over the full
// tensor; this turns the chain into one concat. It applies when no nonzero piece would
// have to be cut (zero pieces are cut freely) and neither operand is broadcast.
struct Piece {
  int64_t begin, end;
  NodeId value;  // kNoNode: zeros
};

std::optional<std::vector<Piece>> concatPieces(const Site& s, size_t i, size_t axis) {
  const Node& c = s.operand(i);
  if (c.op != OpKind::Concat || c.type != s.node.type) return std::nullopt;
  if (normalizeAxis(AxisAttr::of(c).axis, c.type.shape.rank()) != static_cast<int64_t>(axis)) return std::nullopt;
  std::vector<Piece> pieces;
  int64_t at = 0;
  for (NodeId part : c.inputs) {
    int64_t len = s.rw.newType(part).shape[axis];
    std::optional<double> f = uniformValue(s.rw, part);
    pieces.push_back({at, at + len, f && *f == 0 ? kNoNode : part});
    at += len;
  }
  return pieces;
}

NodeId zerosLike(GraphRewriter& rw, TensorType t) {
  if (!t.shape.isBatched()) return rw.emitConstant(std::move(t), fillAttrs(0.0));
  NodeId zero = rw.emitConstant(TensorType{t.dtype, Shape{}}, fillAttrs(0.0));
  return rw.emit(OpKind::BroadcastTo, {zero}, ShapeAttr{t.shape.dims}.attrs(), t);
}

NodeId sumOfPaddedPieces(Site& s) {
  if (!s.is(0, OpKind::Concat) || s.node.type.shape.rank() == 0) return kNoNode;
  int64_t ax = normalizeAxis(AxisAttr::of(s.operand(0)).axis, s.node.type.shape.rank());
  if (ax < 0) return kNoNode;
  size_t axis = static_cast<size_t>(ax);
  std::optional<std::vector<Piece>> a = concatPieces(s, 0, axis), b = concatPieces(s, 1, axis);
  if (!a || !b) return kNoNode;
  std::vector<int64_t> cuts;
  for (const auto* side : {&*a, &*b})
    for (const Piece& p : *side) cuts.push_back(p.end);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  for (const auto* side : {&*a, &*b})
    for (const Piece& p : *side)
      for (int64_t cut : cuts)
        if (p.value != kNoNode && p.begin < cut && cut < p.end) return kNoNode;
  // The value of each segment between cuts, merging neighbouring zero segments.
  auto covering = [](const std::vector<Piece>& side, int64_t begin) {
    for (const Piece& p : side)
      if (p.begin <= begin && begin < p.end) return p.value;
    return kNoNode;
  };
  std::vector<Piece> segments;
  int64_t begin = 0;
  for (int64_t end : cuts) {
    NodeId x = covering(*a, begin), y = covering(*b, begin);
    NodeId v = x == kNoNode ? y : y == kNoNode ? x : s.rw.emit(OpKind::Add, {x, y});
    if (x != kNoNode && y != kNoNode && v == kNoNode) return kNoNode;
    if (v == kNoNode && !segments.empty() && segments.back().value == kNoNode)
      segments.back().end = end;
    else
      segments.push_back({begin, end, v});
    begin = end;
  }
  std::vector<NodeId> parts;
  for (const Piece& p : segments) {
    if (p.value != kNoNode) {
      parts.push_back(p.value);
      continue;
    }
    TensorType t = s.node.type;
    t.shape[axis] = p.end - p.begin;
    NodeId z = zerosLike(s.rw, t);
    if (z == kNoNode) return kNoNode;
    parts.push_back(z);
  }
  if (parts.size() == 1) return s.same(parts[0]);
  return s.emit(OpKind::Concat, std::move(parts), AxisAttr{ax}.attrs());
}

// x ** 2 -> square(x)
NodeId powerOfTwo(Site& s) { return s.fill(1, 2.0) ? s.emit(OpKind::Square, {s.in[0]}) : kNoNode; }

// maximum(x, x), minimum(x, x), select(c, x, x) -> x
NodeId sameOperands(Site& s) {
  size_t first = s.node.op == OpKind::Select ? 1 : 0;
  return s.in[first] == s.in[first + 1] ? s.as(s.in[first]) : kNoNode;
}

// select(constant c, a, b) -> a or b
NodeId constantCondition(Site& s) {
  std::optional<double> c = s.fillValue(0);
  if (!c) return kNoNode;
  return s.as(*c != 0 ? s.in[1] : s.in[2]);  // NaN counts as true, as `cond != 0` says
}

// op(..., broadcast_to(y), ...) -> op(..., y, ...) when op's own broadcasting gives the same
// type: the scalar (or row) is read in place instead of materialised. Reshapes that only
// add leading unit axes are peeled the same way; the gradient of a mean builds chains of
// both (reshape to [1], broadcast to [batch], reshape to [batch, 1]).
NodeId operandBroadcasts(Site& s) {
  std::vector<NodeId> ins = s.in;
  bool changed = false;
  for (size_t i = 0; i < ins.size(); ++i) {
    for (NodeId src = broadcastSource(s.rw, ins[i]); src != kNoNode; src = broadcastSource(s.rw, ins[i])) {
      std::vector<NodeId> candidate = ins;
      candidate[i] = src;
      if (!s.gives(s.node.op, candidate, s.node.attrs)) break;
      ins = std::move(candidate);
      changed = true;
    }
  }
  return changed ? s.emit(s.node.op, std::move(ins), s.node.attrs) : kNoNode;
}

// f(broadcast_to(y)) -> broadcast_to(f(y)) for one-operand elementwise f: computed once per
// element of y instead of once per element of the broadcast (the gradient of a mean negates
// a scalar broadcast over the batch).
NodeId hoistOverBroadcast(Site& s) {
  if (!s.is(0, OpKind::BroadcastTo)) return kNoNode;
  NodeId fy = s.rw.emit(s.node.op, {s.inner(0)}, s.node.attrs);
  if (fy == kNoNode) return kNoNode;
  return s.emit(OpKind::BroadcastTo, {fy}, ShapeAttr{s.node.type.shape.dims}.attrs());
}

// neg(neg(x)) -> x
NodeId doubleNegation(Site& s) { return s.is(0, OpKind::Neg) ? s.same(s.inner(0)) : kNoNode; }

// relu(relu(x)), abs(abs(x)), sign(sign(x)) -> the inner one; abs(neg(x)), square(neg(x)) -> op(x)
NodeId unaryRepeats(Site& s) {
  OpKind op = s.node.op;
  if (s.is(0, op) && (op == OpKind::Relu || op == OpKind::Abs || op == OpKind::Sign)) return s.same(s.in[0]);
  if (s.is(0, OpKind::Neg) && (op == OpKind::Abs || op == OpKind::Square)) return s.emit(op, {s.inner(0)});
  return kNoNode;
}

// cast to the operand's own dtype -> x
NodeId castToSameType(Site& s) { return s.same(s.in[0]); }

// transpose by the identity -> x; transpose(transpose(x, p), q) -> transpose(x, p∘q)
NodeId transposes(Site& s) {
  std::vector<int64_t> perm = PermAttr::of(s.node).perm;
  NodeId x = s.in[0];
  if (s.is(0, OpKind::Transpose)) {
    std::vector<int64_t> first = PermAttr::of(s.operand(0)).perm;
    if (first.size() != perm.size()) return kNoNode;
    std::vector<int64_t> composed(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) {
      if (perm[i] < 0 || static_cast<size_t>(perm[i]) >= first.size()) return kNoNode;
      composed[i] = first[static_cast<size_t>(perm[i])];
    }
    perm = std::move(composed);
    x = s.inner(0);
  }
  if (isIdentityPerm(perm)) return s.same(x);
  return x != s.in[0] ? s.emit(OpKind::Transpose, {x}, PermAttr{perm}.attrs()) : kNoNode;
}

// reshape to the operand's shape -> x; reshape(reshape(x)) -> reshape(x);
// reshape(broadcast_to(y)) -> broadcast_to(y) when the reshape keeps how y broadcasts
// (y is a single element, or only leading unit axes change).
NodeId reshapes(Site& s) {
  NodeId x = s.is(0, OpKind::Reshape) ? s.inner(0) : s.in[0];
  if (s.rw.newType(x) == s.node.type) return x;
  if (x != s.in[0]) return s.emit(OpKind::Reshape, {x}, s.node.attrs);
  if (!s.is(0, OpKind::BroadcastTo)) return kNoNode;
  NodeId y = s.inner(0);
  const Shape& ys = s.rw.newType(y).shape;
  bool oneElement = !ys.isBatched() && ys.numElements() == 1;
  if (!oneElement && !sameUpToLeadingOnes(s.type(0).shape, s.node.type.shape)) return kNoNode;
  return s.emit(OpKind::BroadcastTo, {y}, ShapeAttr{s.node.type.shape.dims}.attrs());
}

// broadcast_to its own shape -> x; broadcast_to(broadcast_to(x)) -> broadcast_to(x), also
// through reshapes that only change leading unit axes.
NodeId broadcasts(Site& s) {
  if (NodeId x = s.same(s.in[0]); x != kNoNode) return x;
  NodeId x = s.in[0];
  for (NodeId src = broadcastSource(s.rw, x); src != kNoNode; src = broadcastSource(s.rw, x)) {
    if (!s.gives(OpKind::BroadcastTo, {src}, s.node.attrs)) break;
    x = src;
  }
  return x != s.in[0] ? s.emit(OpKind::BroadcastTo, {x}, s.node.attrs) : kNoNode;
}

// A reduction over no axes, or over axes of size 1, only drops (or keeps) unit axes:
// x itself, or a reshape of it.
NodeId trivialReduction(Site& s) {
  const Shape& shape = s.type(0).shape;
  for (int64_t ax : AxesAttr::of(s.node).axes) {
    int64_t a = normalizeAxis(ax, shape.rank());
    if (a < 0 || shape[static_cast<size_t>(a)] != 1) return kNoNode;
  }
  if (NodeId x = s.same(s.in[0]); x != kNoNode) return x;
  return s.emit(OpKind::Reshape, {s.in[0]}, ShapeAttr{s.node.type.shape.dims}.attrs());
}

// slice of a whole axis -> x; slice(slice(x)) on one axis -> one slice
NodeId slices(Site& s) {
  const Shape& shape = s.type(0).shape;
  const SliceAttr sl = SliceAttr::of(s.node);
  int64_t axis = normalizeAxis(sl.axis, shape.rank());
  if (axis < 0) return kNoNode;
  int64_t begin = sl.begin, end = sl.end;
  if (begin == 0 && end == shape[static_cast<size_t>(axis)]) return s.same(s.in[0]);
  if (!s.is(0, OpKind::Slice)) return kNoNode;
  NodeId x = s.inner(0);
  const SliceAttr inner = SliceAttr::of(s.operand(0));
  if (normalizeAxis(inner.axis, s.rw.newType(x).shape.rank()) != axis) return kNoNode;
  int64_t offset = inner.begin;
  return s.emit(OpKind::Slice, {x}, SliceAttr{axis, offset + begin, offset + end}.attrs());
}

// slice(concat(a, b, ...)) on the concat's axis, inside one piece -> that piece, or a slice
// of it. The gradient of a slice is a concat padded with zeros; a recurrence's gradient rule
// slices its state columns straight back out, and the padded concat then never exists.
NodeId sliceOfConcatPiece(Site& s) {
  if (!s.is(0, OpKind::Concat)) return kNoNode;
  const Node& c = s.operand(0);
  const size_t rank = s.type(0).shape.rank();
  const SliceAttr sl = SliceAttr::of(s.node);
  int64_t axis = normalizeAxis(sl.axis, rank);
  if (axis < 0 || normalizeAxis(AxisAttr::of(c).axis, rank) != axis) return kNoNode;
  int64_t begin = sl.begin, end = sl.end, at = 0;
  for (NodeId part : c.inputs) {
    int64_t len = s.rw.newType(part).shape[static_cast<size_t>(axis)];
    if (begin >= at && end <= at + len) {
      if (begin == at && end == at + len) return s.same(part);
      return s.emit(OpKind::Slice, {part}, SliceAttr{axis, begin - at, end - at}.attrs());
    }
    at += len;
  }
  return kNoNode;
}

// concat of one operand -> x
NodeId singleConcat(Site& s) { return s.in.size() == 1 ? s.same(s.in[0]) : kNoNode; }

// matmul(transpose(a), b) -> matmul(a, b, transpose_a = !transpose_a), likewise for b, when
// the transpose only swaps the last two axes: the kernel reads either layout.
NodeId matmulTransposes(Site& s) {
  std::vector<NodeId> ins = s.in;
  MatMulTransposeAttr t = MatMulTransposeAttr::of(s.node);
  bool changed = false;
  bool* flags[2] = {&t.transA, &t.transB};
  for (size_t i = 0; i < 2; ++i) {
    if (!s.is(i, OpKind::Transpose)) continue;
    std::vector<int64_t> perm = PermAttr::of(s.operand(i)).perm;
    size_t r = perm.size();
    if (r < 2 || perm[r - 1] != static_cast<int64_t>(r - 2) || perm[r - 2] != static_cast<int64_t>(r - 1)) continue;
    perm.resize(r - 2);
    if (!isIdentityPerm(perm)) continue;
    ins[i] = s.inner(i);
    *flags[i] = !*flags[i];
    changed = true;
  }
  return changed ? s.emit(OpKind::MatMul, std::move(ins), t.attrs()) : kNoNode;
}

// Every op of a category (so that an op added to Ops.def gets the category's rules).
std::vector<OpKind> opsIn(OpCategory c) {
  std::vector<OpKind> ops;
  for (int i = 0; i < numOpKinds(); ++i)
    if (opCategory(static_cast<OpKind>(i)) == c) ops.push_back(static_cast<OpKind>(i));
  return ops;
}

struct RuleEntry {
  std::vector<OpKind> ops;
  Rewrite rewrite;
};

// The rules, tried in this order; the first that applies wins.
const std::vector<RuleEntry>& rules() {
  using K = OpKind;
  static const std::vector<RuleEntry> table = {
      {{K::Add, K::Sub, K::Mul, K::Div, K::Pow}, identityOperand},
      {{K::Sub}, negationBySubtraction},
      {{K::Mul}, negationByProduct},
      {{K::Div}, negationByDivision},
      {{K::Add, K::Sub}, absorbNegation},
      {{K::Add}, sumOfPaddedPieces},
      {{K::Pow}, powerOfTwo},
      {{K::Maximum, K::Minimum, K::Select}, sameOperands},
      {{K::Select}, constantCondition},
      {{K::BroadcastTo}, broadcasts},
      {opsIn(OpCategory::Broadcast), operandBroadcasts},
      {{K::Neg}, doubleNegation},
      {{K::Relu, K::Abs, K::Sign, K::Square}, unaryRepeats},
      {{K::Cast}, castToSameType},
      {opsIn(OpCategory::Elementwise), hoistOverBroadcast},
      {{K::Transpose}, transposes},
      {{K::Reshape}, reshapes},
      {{K::ReduceSum, K::ReduceMean, K::ReduceMax}, trivialReduction},
      {{K::Slice}, slices},
      {{K::Slice}, sliceOfConcatPiece},
      {{K::Concat}, singleConcat},
      {{K::MatMul}, matmulTransposes},
  };
  return table;
}

NodeId simplify(GraphRewriter& rw, NodeId id) {
  const Node& n = rw.source().node(id);
  if (isLeaf(n.op)) return rw.copy(id);
  Site site{rw, n, rw.mappedInputs(id)};
  // Rules may rely on the node being well-typed (operand counts, ranks); a malformed node is
  // copied as it is and left for the verifier to report.
  std::vector<TensorType> types;
  for (NodeId in : site.in) {
    if (in == kNoNode) return rw.copy(id);  // reported by copy
    types.push_back(rw.newType(in));
  }
  Result<TensorType> t = inferType(n.op, types, n.attrs);
  if (!t || *t != n.type) return rw.copy(id);
  for (const RuleEntry& rule : rules()) {
    if (std::find(rule.ops.begin(), rule.ops.end(), n.op) == rule.ops.end()) continue;
    if (NodeId v = rule.rewrite(site); v != kNoNode) return v;
  }
  return rw.copy(id);
}

}  // namespace

Result<Graph> simplifyAlgebra(const Graph& g) {
  GraphRewriter rw(g, "algebraic-simplification");
  return rw.run(simplify);
}

}  // namespace nnc
