#include "compiler/ir/ShapeRules.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <set>
#include <string>

#include "compiler/ir/AttrSchema.h"
#include "compiler/ir/OpAttrs.h"
#include "compiler/ir/RecurrentCell.h"
#include "compiler/ir/Window.h"

namespace nnc {

namespace {

std::string typeList(const std::vector<TensorType>& in) {
  std::string s;
  for (size_t i = 0; i < in.size(); ++i) s += (i ? " and " : "") + in[i].str();
  return s;
}

Error err(OpKind op, const std::string& msg) { return makeError(std::string(opName(op)) + ": " + msg); }

Result<void> expectArity(OpKind op, const std::vector<TensorType>& in, size_t n) {
  if (in.size() != n)
    return err(op, "expects " + std::to_string(n) + " operand" + (n == 1 ? "" : "s") + ", got " +
                       std::to_string(in.size()));
  return {};
}

Result<void> expectFloat(OpKind op, const TensorType& t, const char* what = "operand") {
  if (t.dtype != DType::F32) return err(op, std::string("expects an f32 ") + what + ", got " + t.str());
  return {};
}

Result<void> expectRank(OpKind op, const TensorType& t, size_t rank, const char* what) {
  if (t.shape.rank() != rank)
    return err(op, std::string("expects ") + what + " of rank " + std::to_string(rank) + ", got " + t.str());
  return {};
}

Result<std::pair<int64_t, int64_t>> windowOut(OpKind op, const Window& g, int64_t h, int64_t w) {
  int64_t oh = windowOutput(h, g.spanH(), g.sh, g.pt, g.pb);
  int64_t ow = windowOutput(w, g.spanW(), g.sw, g.pl, g.pr);
  if (oh < 1 || ow < 1)
    return err(op, "window " + std::to_string(g.kh) + "x" + std::to_string(g.kw) +
                       (g.dilated() ? " (dilated to " + std::to_string(g.spanH()) + "x" + std::to_string(g.spanW()) + ")"
                                    : std::string()) +
                       " does not fit the " + std::to_string(h) + "x" + std::to_string(w) + " input with this padding");
  return std::pair{oh, ow};
}

Result<TensorType> unary(OpKind op, const std::vector<TensorType>& in, const Attrs&) {
  NNC_TRY(expectArity(op, in, 1));
  if (!opInfo(op).unaryI32) NNC_TRY(expectFloat(op, in[0]));
  return in[0];
}

Result<TensorType> cast(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 1));
  std::string to = DTypeAttr::of(a).dtype;  // f32 or i32 (its family's check)
  return TensorType{to == "f32" ? DType::F32 : DType::I32, in[0].shape};
}

Result<TensorType> binary(OpKind op, const std::vector<TensorType>& in, const Attrs&) {
  NNC_TRY(expectArity(op, in, 2));
  bool compare = opInfo(op).maskResult;
  if (in[0].dtype != in[1].dtype) return err(op, "operand dtypes differ: " + typeList(in));
  if (!opInfo(op).binaryI32 && in[0].dtype != DType::F32)
    return err(op, "expects f32 operands, got " + typeList(in));
  auto s = broadcastShapes(in[0].shape, in[1].shape);
  if (!s) return err(op, s.error().message);
  return TensorType{compare ? DType::F32 : in[0].dtype, *s};
}

Result<TensorType> select(OpKind op, const std::vector<TensorType>& in, const Attrs&) {
  NNC_TRY(expectArity(op, in, 3));
  if (in[1].dtype != in[2].dtype) return err(op, "value dtypes differ: " + in[1].str() + " and " + in[2].str());
  auto s = broadcastShapes(in[0].shape, in[1].shape);
  if (!s) return err(op, s.error().message);
  auto s2 = broadcastShapes(*s, in[2].shape);
  if (!s2) return err(op, s2.error().message);
  return TensorType{in[1].dtype, *s2};
}

Result<TensorType> broadcastTo(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 1));
  Shape target(ShapeAttr::of(a).shape);
  auto s = broadcastShapes(in[0].shape, target);
  if (!s || *s != target)
    return err(op, "cannot broadcast " + in[0].shape.str() + " to " + target.str());
  return TensorType{in[0].dtype, target};
}

Result<std::vector<bool>> reducedAxes(OpKind op, const Shape& s, const Attrs& a) {
  std::vector<bool> reduced(s.rank(), false);
  for (int64_t ax : AxesAttr::of(a).axes) {
    int64_t n = normalizeAxis(ax, s.rank());
    if (n < 0) return err(op, "axis " + std::to_string(ax) + " is out of range for " + s.str());
    if (reduced[static_cast<size_t>(n)]) return err(op, "axis " + std::to_string(ax) + " is listed twice");
    reduced[static_cast<size_t>(n)] = true;
  }
  return reduced;
}

Result<TensorType> reduce(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 1));
  if (op != OpKind::ReduceSum && op != OpKind::ReduceMax) NNC_TRY(expectFloat(op, in[0]));
  auto reduced = reducedAxes(op, in[0].shape, a);
  if (!reduced) return reduced.error();
  bool keep = AxesAttr::of(a).keepdims;
  Shape out;
  for (size_t i = 0; i < in[0].shape.rank(); ++i) {
    if (!(*reduced)[i])
      out.dims.push_back(in[0].shape[i]);
    else if (keep)
      out.dims.push_back(1);
  }
  if (out.rank() > 0 && !keep) {
    // Dropping the batch axis is fine; keeping batch anywhere but first is not possible here.
  }
  return TensorType{in[0].dtype, out};
}

Result<TensorType> argmax(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 1));
  int64_t ax = normalizeAxis(AxisAttr::of(a).axis, in[0].shape.rank());
  if (ax < 0) return err(op, "axis " + std::to_string(AxisAttr::of(a).axis) + " is out of range for " + in[0].shape.str());
  Shape out = in[0].shape;
  out.dims.erase(out.dims.begin() + ax);
  return TensorType{DType::I32, out};
}

Result<TensorType> elementCount(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 1));
  auto reduced = reducedAxes(op, in[0].shape, a);
  if (!reduced) return reduced.error();
  return TensorType{DType::F32, Shape{}};
}

Result<TensorType> reshape(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 1));
  Shape target(ShapeAttr::of(a).shape);
  for (size_t i = 0; i < target.rank(); ++i) {
    if (target[i] == kBatch && i != 0) return err(op, "batch may only be the first dimension of " + target.str());
    if (target[i] < 0 && target[i] != kBatch) return err(op, "negative dimension in " + target.str());
  }
  if (in[0].shape.isBatched() != target.isBatched())
    return err(op, "cannot reshape " + in[0].shape.str() + " to " + target.str() +
                       (in[0].shape.isBatched() ? ": the batch dimension must be kept" : ": the input has no batch dimension"));
  NNC_TRY(checkShapeSize(target));
  if (in[0].shape.numElementsPerBatchRow() != target.numElementsPerBatchRow())
    return err(op, "cannot reshape " + in[0].shape.str() + " (" + std::to_string(in[0].shape.numElementsPerBatchRow()) +
                       " elements per sample) to " + target.str() + " (" +
                       std::to_string(target.numElementsPerBatchRow()) + ")");
  return TensorType{in[0].dtype, target};
}

Result<TensorType> transpose(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 1));
  std::vector<int64_t> perm = PermAttr::of(a).perm;
  const Shape& s = in[0].shape;
  if (perm.size() != s.rank())
    return err(op, "permutation of " + std::to_string(perm.size()) + " axes for a tensor of rank " + std::to_string(s.rank()));
  std::vector<bool> seen(s.rank(), false);
  Shape out;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(s.rank()) || seen[static_cast<size_t>(p)])
      return err(op, "perm " + attrValueStr(perm) + " is not a permutation of the " + std::to_string(s.rank()) + " axes");
    seen[static_cast<size_t>(p)] = true;
    out.dims.push_back(s[static_cast<size_t>(p)]);
  }
  if (s.isBatched() && perm[0] != 0) return err(op, "the batch axis must stay first, got perm " + attrValueStr(perm));
  return TensorType{in[0].dtype, out};
}

Result<TensorType> concat(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  if (in.empty()) return err(op, "expects at least one operand");
  const Shape& s0 = in[0].shape;
  int64_t ax = normalizeAxis(AxisAttr::of(a).axis, s0.rank());
  if (ax < 0) return err(op, "axis " + std::to_string(AxisAttr::of(a).axis) + " is out of range for " + s0.str());
  if (s0[static_cast<size_t>(ax)] == kBatch) return err(op, "cannot concatenate along the batch axis");
  Shape out = s0;
  for (size_t i = 1; i < in.size(); ++i) {
    const Shape& s = in[i].shape;
    if (in[i].dtype != in[0].dtype) return err(op, "operand dtypes differ: " + in[0].str() + " and " + in[i].str());
    bool ok = s.rank() == s0.rank();
    for (size_t d = 0; ok && d < s.rank(); ++d)
      if (static_cast<int64_t>(d) != ax && s[d] != s0[d]) ok = false;
    if (!ok)
      return err(op, "shapes " + s0.str() + " and " + s.str() + " differ outside axis " + std::to_string(ax));
    out[static_cast<size_t>(ax)] += s[static_cast<size_t>(ax)];
  }
  return TensorType{in[0].dtype, out};
}

Result<TensorType> slice(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 1));
  const SliceAttr sl = SliceAttr::of(a);
  int64_t ax = normalizeAxis(sl.axis, in[0].shape.rank());
  if (ax < 0) return err(op, "axis is out of range for " + in[0].shape.str());
  int64_t dim = in[0].shape[static_cast<size_t>(ax)];
  if (dim == kBatch) return err(op, "cannot slice the batch axis");
  int64_t b = sl.begin, e = sl.end;
  if (b < 0 || e > dim || b >= e)
    return err(op, "range [" + std::to_string(b) + ", " + std::to_string(e) + ") is not within axis " +
                       std::to_string(ax) + " of " + in[0].shape.str());
  Shape out = in[0].shape;
  out[static_cast<size_t>(ax)] = e - b;
  return TensorType{in[0].dtype, out};
}

Result<TensorType> oneHot(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 1));
  if (in[0].dtype != DType::I32) return err(op, "expects i32 labels, got " + in[0].str());
  int64_t depth = DepthAttr::of(a).depth;
  if (depth <= 0) return err(op, "depth must be positive");
  Shape out = in[0].shape;
  out.dims.push_back(depth);
  return TensorType{DType::F32, out};
}

Result<TensorType> matmul(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 2));
  NNC_TRY(expectFloat(op, in[0], "left operand"));
  NNC_TRY(expectFloat(op, in[1], "right operand"));
  const Shape &sa = in[0].shape, &sb = in[1].shape;
  if (sa.rank() < 2 || sb.rank() < 2) return err(op, "expects operands of rank >= 2, got " + typeList(in));
  size_t ra = sa.rank(), rb = sb.rank();
  const MatMulTransposeAttr t = MatMulTransposeAttr::of(a);
  bool ta = t.transA, tb = t.transB;
  int64_t m = ta ? sa[ra - 1] : sa[ra - 2], ka = ta ? sa[ra - 2] : sa[ra - 1];
  int64_t kb = tb ? sb[rb - 1] : sb[rb - 2], n = tb ? sb[rb - 2] : sb[rb - 1];
  if (rb != 2 && rb != ra)
    return err(op, "the right operand must have rank 2 or the rank of the left one, got " + typeList(in));
  if (rb == ra)
    for (size_t i = 0; i + 2 < ra; ++i)
      if (sa[i] != sb[i]) return err(op, "leading dimensions differ: " + typeList(in));
  if (ka != kb)
    return err(op, "inner dimensions differ: " + in[0].str() + " @ " + in[1].str() + " (" +
                       (ka == kBatch ? std::string("batch") : std::to_string(ka)) + " vs " +
                       (kb == kBatch ? std::string("batch") : std::to_string(kb)) + ")");
  Shape out(std::vector<int64_t>(sa.dims.begin(), sa.dims.end() - 2));
  out.dims.push_back(m);
  out.dims.push_back(n);
  for (size_t i = 1; i < out.rank(); ++i)
    if (out[i] == kBatch) return err(op, "the batch dimension would not stay first: " + typeList(in));
  return TensorType{DType::F32, out};
}

// Grouped convolutions: `groups` (OpAttrs.h) must be positive and divide both the input
// channels and the filters.
Result<int64_t> convGroups(OpKind op, const Attrs& a, int64_t channels, int64_t filters) {
  int64_t groups = ConvAttr::of(a).groups;  // positive (its family's check)
  if (channels % groups != 0)
    return err(op, "groups = " + std::to_string(groups) + " does not divide the " + std::to_string(channels) +
                       " input channels");
  if (filters % groups != 0)
    return err(op, "groups = " + std::to_string(groups) + " does not divide the " + std::to_string(filters) + " filters");
  return groups;
}

Result<TensorType> conv2d(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 2));
  NNC_TRY(expectRank(op, in[0], 4, "an input [batch, height, width, channels]"));
  NNC_TRY(expectRank(op, in[1], 4, "a filter [kh, kw, in / groups, out]"));
  NNC_TRY(expectFloat(op, in[0]));
  NNC_TRY(expectFloat(op, in[1]));
  const Shape &x = in[0].shape, &w = in[1].shape;
  auto groups = convGroups(op, a, x[3], w[3]);
  if (!groups) return groups.error();
  if (x[3] != w[2] * *groups)
    return err(op, "input has " + std::to_string(x[3]) + " channels but the filter " + w.str() + " expects " +
                       std::to_string(w[2] * *groups) +
                       (*groups > 1 ? " (" + std::to_string(w[2]) + " per group x " + std::to_string(*groups) + " groups)"
                                    : std::string()));
  auto o = windowOut(op, ConvAttr::of(a).window(w[0], w[1]), x[1], x[2]);
  if (!o) return o.error();
  return TensorType{DType::F32, Shape{x[0], o->first, o->second, w[3]}};
}

Result<TensorType> conv2dGradInput(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 2));
  NNC_TRY(expectRank(op, in[0], 4, "an output gradient"));
  NNC_TRY(expectRank(op, in[1], 4, "a filter"));
  const Shape &dy = in[0].shape, &w = in[1].shape;
  const ConvGradInputAttr c = ConvGradInputAttr::of(a);
  const std::vector<int64_t>* hw = &c.inputHw;  // [h, w], positive
  int64_t groups = c.groups;
  if (w[3] % groups != 0) return err(op, "groups = " + std::to_string(groups) + " does not divide the filters of " + w.str());
  auto o = windowOut(op, c.window(w[0], w[1]), (*hw)[0], (*hw)[1]);
  if (!o) return o.error();
  if (o->first != dy[1] || o->second != dy[2] || dy[3] != w[3])
    return err(op, "output gradient " + dy.str() + " does not match filter " + w.str() + " and input size");
  return TensorType{DType::F32, Shape{dy[0], (*hw)[0], (*hw)[1], w[2] * groups}};
}

Result<TensorType> conv2dGradFilter(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 2));
  NNC_TRY(expectRank(op, in[0], 4, "an input"));
  NNC_TRY(expectRank(op, in[1], 4, "an output gradient"));
  const Shape &x = in[0].shape, &dy = in[1].shape;
  auto groups = convGroups(op, a, x[3], dy[3]);
  if (!groups) return groups.error();
  const ConvGradFilterAttr c = ConvGradFilterAttr::of(a);
  const Window g = c.window(c.kernel[0], c.kernel[1]);
  auto o = windowOut(op, g, x[1], x[2]);
  if (!o) return o.error();
  if (o->first != dy[1] || o->second != dy[2] || x[0] != dy[0])
    return err(op, "output gradient " + dy.str() + " does not match input " + x.str());
  return TensorType{DType::F32, Shape{g.kh, g.kw, x[3] / *groups, dy[3]}};
}

Result<TensorType> pool(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 1));
  NNC_TRY(expectRank(op, in[0], 4, "an input [batch, height, width, channels]"));
  NNC_TRY(expectFloat(op, in[0]));
  const Window geo = WindowAttr::of(a).geometry();
  const Window* g = &geo;
  if (g->pt >= g->kh || g->pb >= g->kh || g->pl >= g->kw || g->pr >= g->kw)
    return err(op, "padding must be smaller than the window");
  auto o = windowOut(op, *g, in[0].shape[1], in[0].shape[2]);
  if (!o) return o.error();
  const Shape& x = in[0].shape;
  return TensorType{DType::F32, Shape{x[0], o->first, o->second, x[3]}};
}

Result<TensorType> maxPoolGrad(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 2));
  auto y = pool(OpKind::MaxPool, {in[0]}, a);
  if (!y) return y.error();
  if (y->shape != in[1].shape) return err(op, "output gradient " + in[1].str() + " does not match " + y->str());
  return in[0];
}

using ShapeRuleFn = Result<TensorType> (*)(OpKind, const std::vector<TensorType>&, const Attrs&);

// The gradient (dy) -> dx of a one-input image op whose x is [batch, input_hw, channels]:
// x's type, once the forward rule maps it back to dy's shape.
Result<TensorType> imageInputOfGradient(OpKind op, const std::vector<TensorType>& in, const Attrs& a,
                                        OpKind forwardOp, ShapeRuleFn forward) {
  NNC_TRY(expectArity(op, in, 1));
  NNC_TRY(expectRank(op, in[0], 4, "an output gradient"));
  const std::vector<int64_t> hwValues = InputHwAttr::of(a).inputHw;  // [h, w], positive
  const std::vector<int64_t>* hw = &hwValues;
  const Shape& dy = in[0].shape;
  TensorType x{DType::F32, Shape{dy[0], (*hw)[0], (*hw)[1], dy[3]}};
  auto y = forward(forwardOp, {x}, a);
  if (!y) return y.error();
  if (y->shape != dy) return err(op, "output gradient " + in[0].str() + " does not match " + y->str());
  return x;
}

Result<TensorType> avgPoolGrad(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  return imageInputOfGradient(op, in, a, OpKind::AvgPool, pool);
}

// ---- upsample and pad (image resampling) ----------------------------------------------------
Result<std::pair<int64_t, int64_t>> upsampleScale(OpKind, const Attrs& a) {
  // The factors are at least 1 and the mode nearest or bilinear (the family's check).
  const std::vector<int64_t> s = ResampleAttr::of(a).scale;
  return std::pair{s[0], s[1]};
}

Result<TensorType> upsample(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 1));
  NNC_TRY(expectRank(op, in[0], 4, "an input [batch, height, width, channels]"));
  NNC_TRY(expectFloat(op, in[0]));
  auto s = upsampleScale(op, a);
  if (!s) return s.error();
  const Shape& x = in[0].shape;
  return TensorType{DType::F32, Shape{x[0], x[1] * s->first, x[2] * s->second, x[3]}};
}

Result<TensorType> upsampleGrad(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  return imageInputOfGradient(op, in, a, OpKind::Upsample, upsample);
}

// pads [top, left, bottom, right]; reflect needs each pad smaller than its side (one
// reflection, without the edge cell, as PyTorch's reflect).
Result<TensorType> pad(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 1));
  NNC_TRY(expectRank(op, in[0], 4, "an input [batch, height, width, channels]"));
  NNC_TRY(expectFloat(op, in[0]));
  // Non-negative pads, constant or reflect (the family's check).
  const PadAttr pa = PadAttr::of(a);
  const std::vector<int64_t>* p = &pa.pads;
  const Shape& x = in[0].shape;
  if (pa.reflect()) {
    const char* sides[] = {"top", "left", "bottom", "right"};
    for (size_t i = 0; i < 4; ++i) {
      int64_t side = x[1 + i % 2];
      if ((*p)[i] >= side)
        return err(op, std::string("reflect padding ") + sides[i] + " = " + std::to_string((*p)[i]) +
                           " must be smaller than the image's " + (i % 2 ? "width " : "height ") + std::to_string(side));
    }
  }
  return TensorType{DType::F32, Shape{x[0], x[1] + (*p)[0] + (*p)[2], x[2] + (*p)[1] + (*p)[3], x[3]}};
}

Result<TensorType> padGrad(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  return imageInputOfGradient(op, in, a, OpKind::Pad, pad);
}

Result<TensorType> softmax(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  NNC_TRY(expectArity(op, in, 1));
  NNC_TRY(expectFloat(op, in[0]));
  if (normalizeAxis(AxisAttr::of(a).axis, in[0].shape.rank()) < 0)
    return err(op, "axis " + std::to_string(AxisAttr::of(a).axis) + " is out of range for " + in[0].shape.str());
  return in[0];
}

// attention_softmax(s[..., Tq, Tk]) and attention_softmax_grad(y, dy) (multi_head_attention).
Result<TensorType> attentionSoftmax(OpKind op, const std::vector<TensorType>& in, const Attrs&) {
  const bool grad = op == OpKind::AttentionSoftmaxGrad;
  NNC_TRY(expectArity(op, in, grad ? 2 : 1));
  for (const TensorType& t : in) NNC_TRY(expectFloat(op, t));
  const Shape& sc = in[0].shape;
  if (sc.rank() < 2 || sc[sc.rank() - 2] == kBatch || sc[sc.rank() - 1] == kBatch)
    return err(op, "expects scores [..., queries, keys] with static queries and keys, got " + in[0].str());
  if (grad && in[1] != in[0]) return err(op, "output gradient " + in[1].str() + " does not match " + in[0].str());
  // scale positive and finite, causal 0 or 1: the family's check.
  return in[0];
}

Result<TensorType> dropout(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  // DropoutMask: (x, step[, rate][, first_row]) (OpAttrs.h's dropoutMaskOperands): the rate
  // is an operand exactly when the `rate` attribute is absent.
  const bool runtimeRate = op == OpKind::DropoutMask && !DropoutMaskAttr::of(a).rate;
  if (op == OpKind::Dropout) {
    NNC_TRY(expectArity(op, in, 1));
  } else {
    const size_t fixed = runtimeRate ? 3 : 2;
    if (in.size() != fixed && in.size() != fixed + 1) NNC_TRY(expectArity(op, in, fixed));
  }
  NNC_TRY(expectFloat(op, in[0]));
  const TensorType scalar{DType::F32, Shape{}};
  if (runtimeRate) {
    if (in[2] != scalar) return err(op, "the rate operand must be an f32 scalar, not " + in[2].str());
  } else {
    // The rate is in [0, 1) (the family's check).
  }
  const size_t firstRow = runtimeRate ? 3 : 2;
  if (op == OpKind::DropoutMask && in.size() > firstRow && in[firstRow] != scalar)
    return err(op, "first_row must be an f32 scalar, not " + in[firstRow].str());
  return in[0];
}

Result<TensorType> batchNorm(OpKind op, const std::vector<TensorType>& in, const Attrs&) {
  NNC_TRY(expectArity(op, in, 5));
  NNC_TRY(expectFloat(op, in[0]));
  if (in[0].shape.rank() < 1) return err(op, "expects an input of rank >= 1");
  Shape c{in[0].shape.dims.back()};
  for (size_t i = 1; i < 5; ++i)
    if (in[i].shape != c || in[i].dtype != DType::F32)
      return err(op, "statistics and scales must be f32" + c.str() + ", got " + in[i].str());
  return in[0];
}

// ---- recurrences (RecurrentCell.h) -------------------------------------------------------
Result<RecurrentCell> recurrentCellAttrs(OpKind op, const Attrs& a) {
  std::string why;
  std::optional<RecurrentCell> c = recurrentCellOf(a, &why);
  if (!c) return err(op, why);
  return *c;
}

// A [batch, time, width] f32 sequence operand with time >= 1.
Result<void> expectRecurrentSequence(OpKind op, const TensorType& t, int64_t width, const char* what) {
  NNC_TRY(expectFloat(op, t, what));
  NNC_TRY(expectRank(op, t, 3, what));
  if (t.shape[1] < 1) return err(op, std::string(what) + " needs at least one time step, got " + t.str());
  if (t.shape[2] != width)
    return err(op, std::string(what) + " must have " + std::to_string(width) + " columns, got " + t.str());
  return {};
}

Result<void> expectRecurrentMatrix(OpKind op, const TensorType& t, const Shape& want, const char* what) {
  if (t.dtype != DType::F32 || t.shape != want)
    return err(op, std::string(what) + " must be f32" + want.str() + ", got " + t.str());
  return {};
}

Result<TensorType> recurrence(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  auto c = recurrentCellAttrs(op, a);
  if (!c) return c.error();
  NNC_TRY(expectArity(op, in, c->forwardOperands()));
  const int64_t n = c->gateWidth(), u = c->units;
  NNC_TRY(expectRecurrentSequence(op, in[0], n, "the input projection"));
  NNC_TRY(expectRecurrentMatrix(op, in[1], Shape{u, n}, "the recurrent weight"));
  if (c->kind == RecurrentCellKind::Gru) NNC_TRY(expectRecurrentMatrix(op, in[2], Shape{n}, "the recurrent bias"));
  return TensorType{DType::F32, Shape{in[0].shape[0], in[0].shape[1], c->savedWidth()}};
}

Result<TensorType> recurrenceGrad(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  auto c = recurrentCellAttrs(op, a);
  if (!c) return c.error();
  NNC_TRY(expectArity(op, in, c->gradOperands()));
  const int64_t u = c->units;
  NNC_TRY(expectRecurrentSequence(op, in[0], u, "the state gradient"));
  NNC_TRY(expectRecurrentSequence(op, in[1], c->savedWidth(), "the saved states"));
  if (in[1].shape[0] != in[0].shape[0] || in[1].shape[1] != in[0].shape[1])
    return err(op, "the state gradient " + in[0].str() + " and the saved states " + in[1].str() + " differ in batch or time");
  NNC_TRY(expectRecurrentMatrix(op, in[2], Shape{u, c->gateWidth()}, "the recurrent weight"));
  if (c->kind == RecurrentCellKind::Rnn && in[3] != in[0])
    return err(op, "the activation derivative must be " + in[0].str() + ", got " + in[3].str());
  return TensorType{DType::F32, Shape{in[0].shape[0], in[0].shape[1], c->gradWidth()}};
}

// ---- Embeddings (issue 13) ------------------------------------------------------------------
// embedding(table[V, D], ids i32[...]) -> [..., D]; embedding_grad(dy[..., D], ids[...]) with
// depth V -> [V, D]; embedding_sgd_update(table, dy, ids, lr scalar) -> the table's type.
Result<TensorType> embeddingLookupRule(OpKind op, const std::vector<TensorType>& in, const Attrs& a) {
  const bool update = op == OpKind::EmbeddingSgdUpdate;
  NNC_TRY(expectArity(op, in, op == OpKind::Embedding ? 2 : update ? 4 : 2));
  const TensorType& ids = op == OpKind::EmbeddingGrad ? in[1] : update ? in[2] : in[1];
  if (ids.dtype != DType::I32) return err(op, "expects i32 ids, got " + ids.str());
  Shape table;
  if (op == OpKind::EmbeddingGrad) {
    NNC_TRY(expectFloat(op, in[0], "output gradient"));
    int64_t vocab = DepthAttr::of(a).depth;  // positive (the family's check)
    if (in[0].shape.rank() < 1) return err(op, "expects an output gradient of rank >= 1, got " + in[0].str());
    table = Shape{vocab, in[0].shape.dims.back()};
  } else {
    NNC_TRY(expectFloat(op, in[0], "table"));
    NNC_TRY(expectRank(op, in[0], 2, "a table [vocab, dim]"));
    if (in[0].shape[0] == kBatch || in[0].shape[1] == kBatch) return err(op, "the table " + in[0].str() + " must be static");
    table = in[0].shape;
  }
  Shape rows = ids.shape;
  rows.dims.push_back(table[1]);
  if (op == OpKind::Embedding) return TensorType{DType::F32, rows};
  const TensorType& dy = op == OpKind::EmbeddingGrad ? in[0] : in[1];
  if (dy.shape != rows) return err(op, "output gradient " + dy.str() + " does not match ids " + ids.str() + " and dim " + std::to_string(table[1]));
  if (update) {
    NNC_TRY(expectFloat(op, in[1], "output gradient"));
    if (in[3] != TensorType{DType::F32, Shape{}}) return err(op, "the learning rate must be an f32 scalar, not " + in[3].str());
  }
  return TensorType{DType::F32, table};
}

// The persistent embedding gradient buffer (issue 13): embedding_grad_accumulate(buffer[V, D],
// dy[..., D], ids[...]) and embedding_grad_clear(g[V, D], ids[...]) -> the buffer's type.
Result<TensorType> embeddingGradBufferRule(OpKind op, const std::vector<TensorType>& in, const Attrs&) {
  const bool accumulate = op == OpKind::EmbeddingGradAccumulate;
  NNC_TRY(expectArity(op, in, accumulate ? 3 : 2));
  NNC_TRY(expectFloat(op, in[0], "gradient buffer"));
  NNC_TRY(expectRank(op, in[0], 2, "a gradient buffer [vocab, dim]"));
  if (in[0].shape[0] == kBatch || in[0].shape[1] == kBatch) return err(op, "the buffer " + in[0].str() + " must be static");
  const TensorType& ids = in.back();
  if (ids.dtype != DType::I32) return err(op, "expects i32 ids, got " + ids.str());
  if (accumulate) {
    NNC_TRY(expectFloat(op, in[1], "output gradient"));
    Shape rows = ids.shape;
    rows.dims.push_back(in[0].shape[1]);
    if (in[1].shape != rows)
      return err(op, "output gradient " + in[1].str() + " does not match ids " + ids.str() + " and dim " +
                         std::to_string(in[0].shape[1]));
  }
  return TensorType{DType::F32, in[0].shape};
}

// Augmentation (compiler/ir/Augment.h): random_flip and random_translation (x), and the
// training form AugmentImages (x, step[, first_row]), on images [batch, h, w, c] or
// [batch, h, w] (one channel).
Result<TensorType> augmentImages(OpKind op, const std::vector<TensorType>& in, const Attrs&) {
  if (op == OpKind::AugmentImages) {
    if (in.size() != 2 && in.size() != 3) NNC_TRY(expectArity(op, in, 2));
    const TensorType scalar{DType::F32, Shape{}};
    for (size_t i = 1; i < in.size(); ++i)
      if (in[i] != scalar) return err(op, std::string(i == 1 ? "step" : "first_row") + " must be an f32 scalar, not " + in[i].str());
  } else {
    NNC_TRY(expectArity(op, in, 1));
  }
  NNC_TRY(expectFloat(op, in[0]));
  if (in[0].shape.rank() != 3 && in[0].shape.rank() != 4)
    return err(op, "expects images [batch, height, width, channels] or [batch, height, width], got " + in[0].str());
  // The transform, mode and fractions: the families' checks (FlipAttr, TranslationAttr, AugmentAttr).
  return in[0];
}

Result<TensorType> leaf(OpKind op, const std::vector<TensorType>&, const Attrs&) {
  return err(op, "a leaf has no shape rule; its type is given");
}

using Rule = Result<TensorType> (*)(OpKind, const std::vector<TensorType>&, const Attrs&);

Rule ruleFor(OpKind op) {
  switch (op) {
    case OpKind::Input: case OpKind::Param: case OpKind::State: case OpKind::Hyper: case OpKind::Constant:
      return leaf;
    case OpKind::Cast: return cast;
    // The registry's scalar rows (generated: a new elementwise op needs no line here).
#define NNC_OP(...)
#define NNC_UNARY(Kind, ...) case OpKind::Kind:
#define NNC_BINARY(...)
#include "compiler/ir/Ops.def"
      return unary;
#define NNC_OP(...)
#define NNC_UNARY(...)
#define NNC_BINARY(Kind, ...) case OpKind::Kind:
#include "compiler/ir/Ops.def"
      return binary;
    case OpKind::Select: return select;
    case OpKind::BroadcastTo: return broadcastTo;
    case OpKind::ReduceSum: case OpKind::ReduceMean: case OpKind::ReduceMax: return reduce;
    case OpKind::ArgMax: return argmax;
    case OpKind::ElementCount: return elementCount;
    case OpKind::Reshape: return reshape;
    case OpKind::Transpose: return transpose;
    case OpKind::Concat: return concat;
    case OpKind::Slice: return slice;
    case OpKind::OneHot: return oneHot;
    case OpKind::MatMul: return matmul;
    case OpKind::Conv2D: return conv2d;
    case OpKind::Conv2DGradInput: return conv2dGradInput;
    case OpKind::Conv2DGradFilter: return conv2dGradFilter;
    case OpKind::Recurrence: return recurrence;
    case OpKind::RecurrenceGrad: return recurrenceGrad;
    case OpKind::MaxPool: case OpKind::AvgPool: return pool;
    case OpKind::MaxPoolGrad: return maxPoolGrad;
    case OpKind::AvgPoolGrad: return avgPoolGrad;
    case OpKind::Upsample: return upsample;
    case OpKind::UpsampleGrad: return upsampleGrad;
    case OpKind::Pad: return pad;
    case OpKind::PadGrad: return padGrad;
    case OpKind::Softmax: case OpKind::LogSoftmax: return softmax;
    case OpKind::AttentionSoftmax: case OpKind::AttentionSoftmaxGrad: return attentionSoftmax;
    case OpKind::Dropout: case OpKind::DropoutMask: return dropout;
    case OpKind::BatchNorm: return batchNorm;
    case OpKind::Embedding: case OpKind::EmbeddingGrad: case OpKind::EmbeddingSgdUpdate: return embeddingLookupRule;
    case OpKind::EmbeddingGradAccumulate: case OpKind::EmbeddingGradClear: return embeddingGradBufferRule;
    case OpKind::RandomFlip: case OpKind::RandomTranslation: case OpKind::AugmentImages: return augmentImages;
  }
  return leaf;  // not reached: the switch names every op (-Werror=switch)
}

}  // namespace

Result<Shape> broadcastShapes(const Shape& a, const Shape& b) {
  size_t r = std::max(a.rank(), b.rank());
  Shape out;
  out.dims.resize(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.rank() ? 1 : a[i - (r - a.rank())];
    int64_t db = i < r - b.rank() ? 1 : b[i - (r - b.rank())];
    if (da == db || db == 1)
      out[i] = da;
    else if (da == 1)
      out[i] = db;
    else
      return makeError("cannot broadcast shapes " + a.str() + " and " + b.str());
  }
  for (size_t i = 1; i < r; ++i)
    if (out[i] == kBatch)
      return makeError("cannot broadcast shapes " + a.str() + " and " + b.str() + ": batch would not stay the first dimension");
  return out;
}

int64_t windowOutput(int64_t in, int64_t window, int64_t stride, int64_t padBefore, int64_t padAfter) {
  int64_t span = in + padBefore + padAfter - window;
  if (span < 0 || stride <= 0) return 0;
  return span / stride + 1;
}

std::pair<int64_t, int64_t> samePadding(int64_t in, int64_t window, int64_t stride) {
  int64_t out = (in + stride - 1) / stride;
  int64_t total = std::max<int64_t>(0, (out - 1) * stride + window - in);
  return {total / 2, total - total / 2};
}

Result<void> checkShapeSize(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s.dims) {
    if (d == kBatch) continue;
    if (d < 0) return makeError("negative dimension in " + s.str());
    if (d != 0 && n > kMaxElements / d)
      return makeError("tensor " + s.str() + " has more than 2^40 elements, the limit");
    n *= d;
  }
  return {};
}

Result<TensorType> inferType(OpKind op, const std::vector<TensorType>& inputs, const Attrs& attrs) {
  // The rules read attributes typed (TypedAttrs.h): the family's check comes first.
  if (auto ok = checkOpAttrs(op, attrs); !ok) return err(op, ok.error().message);
  Result<TensorType> t = ruleFor(op)(op, inputs, attrs);
  if (!t) return t;
  if (auto ok = checkShapeSize(t->shape); !ok) return err(op, ok.error().message);
  return t;
}

}  // namespace nnc
