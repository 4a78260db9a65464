// More composites: Trilu (a constant mask), Mod, Pad (concatenated blocks), GatherElements
// with known indices (one-hot rows), and a helper that reverses an axis.
#include <cmath>

#include "compiler/ir/TypedAttrs.h"
#include "compiler/onnx/OnnxContext.h"

namespace nnc::onnximport {
namespace {

Result<NodeId> slice(ImportContext& ctx, NodeId x, int64_t axis, int64_t b, int64_t e) {
  if (b == 0 && e == ctx.shape(x)[size_t(axis)]) return x;
  return ctx.op(OpKind::Slice, {x}, SliceAttr{axis, b, e}.attrs());
}

Result<void> mapTrilu(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  Shape s = ctx.shape(x);
  if (s.rank() < 2) return ctx.error("the input needs two dimensions");
  int64_t k = 0;
  if (ctx.hasInput(1)) {
    auto kv = ctx.ints(1, "k");
    if (!kv) return kv.error();
    if (kv->size() != 1) return ctx.error("k must be a scalar");
    k = (*kv)[0];
  }
  bool upper = ctx.attrInt("upper", 1) != 0;
  int64_t n = s[s.rank() - 2], m = s[s.rank() - 1];
  ConstTensor mask{ctx.elemType(0) == 1 ? 1 : ctx.elemType(0), {n, m}, {}};
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) mask.values.push_back(upper ? (j - i >= k) : (j - i <= k));
  TRY_NODE(mk, ctx.materialize(mask));
  TRY_NODE(r, ctx.op(OpKind::Mul, {x, mk}));
  ctx.setOutput(0, r, ctx.elemType(0));
  return {};
}

// a - floor(a / b) * b (Python's sign, fmod = 0) or a - trunc(a / b) * b (C's, fmod = 1),
// computed in f32 (exact for the integers that fit in its mantissa).
Result<void> mapMod(ImportContext& ctx) {
  TRY_NODE(a0, ctx.in(0));
  TRY_NODE(b0, ctx.in(1));
  bool integer = ctx.g.type(a0).dtype == DType::I32;
  Attrs toF = DTypeAttr{"f32"}.attrs(), toI = DTypeAttr{"i32"}.attrs();
  NodeId a = a0, b = b0;
  if (integer) {
    TRY_NODE(af, ctx.op(OpKind::Cast, {a0}, toF));
    TRY_NODE(bf, ctx.op(OpKind::Cast, {b0}, toF));
    a = af, b = bf;
  }
  TRY_NODE(q, ctx.op(OpKind::Div, {a, b}));
  TRY_NODE(qi, ctx.op(OpKind::Cast, {q}, toI));
  TRY_NODE(tr, ctx.op(OpKind::Cast, {qi}, toF));
  NodeId whole = tr;
  if (!ctx.attrInt("fmod", 0)) {
    TRY_NODE(up, ctx.op(OpKind::Greater, {tr, q}));
    TRY_NODE(fl, ctx.op(OpKind::Sub, {tr, up}));
    whole = fl;
  }
  TRY_NODE(prod, ctx.op(OpKind::Mul, {whole, b}));
  TRY_NODE(r, ctx.op(OpKind::Sub, {a, prod}));
  NodeId out = r;
  if (integer) {
    TRY_NODE(ri, ctx.op(OpKind::Cast, {r}, toI));
    out = ri;
  }
  ctx.setOutput(0, out, ctx.elemType(0));
  return {};
}

Result<void> mapPad(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  auto pads = ctx.ints(1, "pads");
  if (!pads) return pads.error();
  size_t r = ctx.rank(x);
  if (pads->size() != 2 * r) return ctx.error("pads must have two entries per axis");
  std::string mode = ctx.attrString("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge") return ctx.error("mode '" + mode + "' is not supported");
  double fill = 0;
  if (ctx.hasInput(2)) {
    const ConstTensor* v = ctx.constant(2);
    if (!v || v->values.size() != 1) return ctx.error("constant_value must be a known scalar");
    fill = v->values[0];
  }
  NodeId cur = x;
  for (size_t a = 0; a < r; ++a) {
    int64_t before = (*pads)[a], after = (*pads)[a + r];
    if (before == 0 && after == 0) continue;
    int64_t d = ctx.shape(cur)[a];
    if (d == kBatch) return ctx.error("padding the batch dimension is not supported");
    // Negative pads crop.
    if (before < 0 || after < 0) {
      int64_t b = std::max<int64_t>(0, -before), e = d - std::max<int64_t>(0, -after);
      if (e <= b) return ctx.error("the pads crop everything");
      TRY_NODE(c, slice(ctx, cur, int64_t(a), b, e));
      cur = c;
      before = std::max<int64_t>(0, before), after = std::max<int64_t>(0, after);
      d = e - b;
    }
    std::vector<NodeId> parts;
    auto block = [&](int64_t count, bool atStart) -> Result<void> {
      if (count == 0) return {};
      if (mode == "constant") {
        std::vector<int64_t> dims = ctx.shape(cur).dims;
        dims[a] = count;
        ConstTensor one{ctx.elemType(0) == 1 ? 1 : ctx.elemType(0), {}, {fill}};
        auto v = ctx.materialize(one);
        if (!v) return v.error();
        auto bl = ctx.op(OpKind::BroadcastTo, {*v}, ShapeAttr{dims}.attrs());
        if (!bl) return bl.error();
        parts.push_back(*bl);
        return {};
      }
      if (mode == "reflect" && count >= d) return ctx.error("reflect padding must be smaller than the dimension");
      for (int64_t i = 0; i < count; ++i) {
        int64_t src;
        if (mode == "edge") src = atStart ? 0 : d - 1;
        else src = atStart ? count - i : d - 2 - i;
        auto s = slice(ctx, cur, int64_t(a), src, src + 1);
        if (!s) return s.error();
        parts.push_back(*s);
      }
      return {};
    };
    NNC_TRY(block(before, true));
    parts.push_back(cur);
    NNC_TRY(block(after, false));
    TRY_NODE(c, ctx.op(OpKind::Concat, parts, AxisAttr{int64_t(a)}.attrs()));
    cur = c;
  }
  ctx.setOutput(0, cur, ctx.elemType(0));
  return {};
}

// out = x with the axis coordinate taken from the known indices: one-hot rows of the indices
// times x (its other dimensions equal the indices'), summed over the axis.
Result<void> mapGatherElements(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  const ConstTensor* idx = ctx.constant(1);
  if (!idx) return ctx.error("the indices must be known when the model is compiled (bind them with --const)");
  Shape s = ctx.shape(x);
  int64_t r = static_cast<int64_t>(s.rank());
  int64_t axis = ctx.attrInt("axis", 0);
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r || static_cast<int64_t>(idx->dims.size()) != r) return ctx.error("axis or indices' rank out of range");
  int64_t n = s[size_t(axis)];
  for (int64_t i = 0; i < r; ++i)
    if (i != axis && idx->dims[size_t(i)] != s[size_t(i)])
      return ctx.error("indices of another shape than the data (off the axis) are not supported");
  if (ctx.g.type(x).dtype != DType::F32) return ctx.error("only float data is supported");
  ConstTensor fixed = *idx;
  fixed.elemType = 7;
  for (double& v : fixed.values) {
    if (v < 0) v += double(n);
    if (v < 0 || v >= double(n)) return ctx.error("index out of range");
  }
  TRY_NODE(iv, ctx.materialize(fixed));
  TRY_NODE(hot, ctx.op(OpKind::OneHot, {iv}, DepthAttr{n}.attrs()));  // idx dims + [n]
  // x with its axis moved last and a 1 in its place: [.., 1, .., n].
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < r; ++i)
    if (i != axis) perm.push_back(i);
  perm.push_back(axis);
  TRY_NODE(xt, ctx.transpose(x, perm));
  std::vector<int64_t> dims = ctx.shape(xt).dims;
  dims.insert(dims.begin() + axis, 1);
  TRY_NODE(xr, ctx.reshape(xt, dims));
  TRY_NODE(prod, ctx.op(OpKind::Mul, {hot, xr}));
  TRY_NODE(sum, ctx.op(OpKind::ReduceSum, {prod}, AxesAttr{{r}}.attrs()));
  ctx.setOutput(0, sum, ctx.elemType(0));
  return {};
}

// CumSum along a known axis: the axis moved last, times a triangular 0/1 matrix.
Result<void> mapCumSum(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  auto axisV = ctx.ints(1, "axis");
  if (!axisV) return axisV.error();
  if (axisV->size() != 1) return ctx.error("axis must be a scalar");
  if (ctx.g.type(x).dtype != DType::F32) return ctx.error("only float data is supported");
  int64_t r = static_cast<int64_t>(ctx.rank(x));
  int64_t axis = (*axisV)[0] < 0 ? (*axisV)[0] + r : (*axisV)[0];
  if (axis < 0 || axis >= r) return ctx.error("axis out of range");
  int64_t n = ctx.shape(x)[size_t(axis)];
  if (n == kBatch) return ctx.error("summing along the batch dimension is not supported");
  bool exclusive = ctx.attrInt("exclusive", 0) != 0, reverse = ctx.attrInt("reverse", 0) != 0;
  // out[j] = sum over i of x[i] * m[i][j]
  ConstTensor m{1, {n, n}, {}};
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      bool in = reverse ? (exclusive ? i > j : i >= j) : (exclusive ? i < j : i <= j);
      m.values.push_back(in ? 1 : 0);
    }
  std::vector<int64_t> perm, back(static_cast<size_t>(r));
  for (int64_t i = 0; i < r; ++i)
    if (i != axis) perm.push_back(i);
  perm.push_back(axis);
  for (int64_t i = 0; i < r; ++i) back[size_t(perm[size_t(i)])] = i;
  TRY_NODE(xt, ctx.transpose(x, perm));
  TRY_NODE(mk, ctx.materialize(m));
  NodeId lhs = xt;
  if (r == 1) {
    TRY_NODE(row, ctx.reshape(xt, {1, n}));
    lhs = row;
  }
  TRY_NODE(prod, ctx.op(OpKind::MatMul, {lhs, mk}));
  NodeId y = prod;
  if (r == 1) {
    TRY_NODE(flat, ctx.reshape(prod, {n}));
    y = flat;
  }
  TRY_NODE(out, ctx.transpose(y, back));
  ctx.setOutput(0, out, ctx.elemType(0));
  return {};
}

}  // namespace

Result<NodeId> reverseAxis(ImportContext& ctx, NodeId x, int64_t axis) {
  int64_t n = ctx.shape(x)[size_t(axis)];
  if (n == kBatch) return ctx.error("reversing the batch dimension is not supported");
  if (n == 1) return x;
  std::vector<NodeId> parts;
  for (int64_t i = n - 1; i >= 0; --i) {
    auto s = slice(ctx, x, axis, i, i + 1);
    if (!s) return s;
    parts.push_back(*s);
  }
  return ctx.op(OpKind::Concat, parts, AxisAttr{axis}.attrs());
}

void addMoreOps(OpTable& t) {
  t["Trilu"] = mapTrilu;
  t["Mod"] = mapMod;
  t["Pad"] = mapPad;
  t["GatherElements"] = mapGatherElements;
  t["CumSum"] = mapCumSum;
}

}  // namespace nnc::onnximport
