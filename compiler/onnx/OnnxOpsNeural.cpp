// Products, convolutions, pooling and normalisations. nnc's Conv2D and pooling are
// channels-last, ONNX's channels-first: the file's NCHW stays at the boundary and
// transposes go around these ops (a later pass can sink and cancel them).
#include <cmath>
#include <map>

#include "compiler/ir/TypedAttrs.h"
#include "compiler/onnx/OnnxContext.h"

namespace nnc::onnximport {

Result<DepthSlices> DepthSlices::of(ImportContext& ctx, NodeId x, NodeId w) {
  TRY_NODE(xt, ctx.transpose(x, {0, 2, 3, 4, 1}));  // [N, D, H, W, C]
  TRY_NODE(wt, ctx.transpose(w, {2, 3, 4, 1, 0}));  // [kd, kh, kw, B, A]
  return DepthSlices(ctx, xt, wt, ctx.shape(x), ctx.shape(w));
}

Result<NodeId> DepthSlices::plane(int64_t z) {
  if (auto it = planes_.find(z); it != planes_.end()) return it->second;
  TRY_NODE(sl, ctx_->op(OpKind::Slice, {xt_}, SliceAttr{int64_t(1), z, z + 1}.attrs()));
  TRY_NODE(r, ctx_->reshape(sl, {xs_[0], xs_[3], xs_[4], xs_[1]}));
  return planes_[z] = r;
}

Result<NodeId> DepthSlices::tap(int64_t t) {
  if (auto it = taps_.find(t); it != taps_.end()) return it->second;
  TRY_NODE(sl, ctx_->op(OpKind::Slice, {wt_}, SliceAttr{int64_t(0), t, t + 1}.attrs()));
  TRY_NODE(r, ctx_->reshape(sl, {ws_[3], ws_[4], ws_[1], ws_[0]}));
  return taps_[t] = r;
}

namespace {

const std::vector<int64_t> kToNHWC = {0, 2, 3, 1}, kToNCHW = {0, 3, 1, 2};

// Broadcast `a` and `b` to common leading dimensions for MatMul (nnc needs them equal).
Result<void> mapMatMul(ImportContext& ctx) {
  TRY_NODE(a0, ctx.in(0));
  TRY_NODE(b0, ctx.in(1));
  NodeId a = a0, b = b0;
  bool vecA = ctx.rank(a) == 1, vecB = ctx.rank(b) == 1;
  if (vecA) {
    TRY_NODE(r, ctx.reshape(a, {1, ctx.shape(a)[0]}));
    a = r;
  }
  if (vecB) {
    TRY_NODE(r, ctx.reshape(b, {ctx.shape(b)[0], 1}));
    b = r;
  }
  size_t ra = ctx.rank(a), rb = ctx.rank(b);
  if (rb > 2 && ra != rb) {
    // Left operand broadcast over the right one's leading dimensions.
    size_t rank = std::max(ra, rb);
    std::vector<int64_t> da = ctx.shape(a).dims, db = ctx.shape(b).dims;
    da.insert(da.begin(), rank - ra, 1);
    db.insert(db.begin(), rank - rb, 1);
    TRY_NODE(ar, ctx.reshape(a, da));
    TRY_NODE(br, ctx.reshape(b, db));
    a = ar, b = br;
  }
  if (ctx.rank(b) > 2 && ctx.shape(a).dims != ctx.shape(b).dims) {
    size_t rank = ctx.rank(a);
    std::vector<int64_t> lead(rank - 2);
    for (size_t i = 0; i + 2 < rank; ++i) {
      int64_t x = ctx.shape(a)[i], y = ctx.shape(b)[i];
      if (x != y && x != 1 && y != 1) return ctx.error("leading dimensions do not broadcast");
      lead[i] = x == 1 ? y : x;
    }
    auto widen = [&](NodeId v) -> Result<NodeId> {
      std::vector<int64_t> dims = lead;
      dims.push_back(ctx.shape(v)[rank - 2]);
      dims.push_back(ctx.shape(v)[rank - 1]);
      if (dims == ctx.shape(v).dims) return v;
      return ctx.op(OpKind::BroadcastTo, {v}, ShapeAttr{dims}.attrs());
    };
    TRY_NODE(aw, widen(a));
    TRY_NODE(bw, widen(b));
    a = aw, b = bw;
  }
  TRY_NODE(m, ctx.op(OpKind::MatMul, {a, b}));
  std::vector<int64_t> dims = ctx.shape(m).dims;
  if (vecB) dims.pop_back();
  if (vecA) dims.erase(dims.end() - (vecB ? 1 : 2));
  TRY_NODE(r, ctx.reshape(m, dims));
  ctx.setOutput(0, r);
  return {};
}

Result<void> mapGemm(ImportContext& ctx) {
  TRY_NODE(a, ctx.in(0));
  TRY_NODE(b, ctx.in(1));
  Attrs attrs = MatMulTransposeAttr{ctx.attrInt("transA", 0) != 0, ctx.attrInt("transB", 0) != 0}.attrs();
  TRY_NODE(m, ctx.op(OpKind::MatMul, {a, b}, attrs));
  NodeId r = m;
  double alpha = ctx.attrFloat("alpha", 1.0), beta = ctx.attrFloat("beta", 1.0);
  if (alpha != 1.0) {
    TRY_NODE(s, ctx.op(OpKind::Mul, {r, ctx.scalar(alpha)}));
    r = s;
  }
  if (ctx.hasInput(2) && beta != 0.0) {
    TRY_NODE(c, ctx.in(2));
    NodeId cc = c;
    if (beta != 1.0) {
      TRY_NODE(s, ctx.op(OpKind::Mul, {c, ctx.scalar(beta)}));
      cc = s;
    }
    TRY_NODE(sum, ctx.op(OpKind::Add, {r, cc}));
    r = sum;
  }
  ctx.setOutput(0, r);
  return {};
}

// Window geometry of Conv and pooling over the spatial dims of an NCHW input.
struct Window {
  std::vector<int64_t> kernel, strides, pads;  // pads: top, left, bottom, right
  std::vector<int64_t> dilations = {1, 1};
  bool dilated() const { return dilations[0] != 1 || dilations[1] != 1; }
};

Result<Window> windowOf(ImportContext& ctx, const Shape& x, std::vector<int64_t> kernel) {
  Window w;
  w.kernel = kernel;
  w.strides = ctx.attrInts("strides").value_or(std::vector<int64_t>{1, 1});
  w.dilations = ctx.attrInts("dilations").value_or(std::vector<int64_t>{1, 1});
  w.pads = ctx.attrInts("pads").value_or(std::vector<int64_t>{0, 0, 0, 0});
  if (w.strides.size() != 2 || w.pads.size() != 4 || kernel.size() != 2 || w.dilations.size() != 2)
    return ctx.error("only two spatial dimensions are supported");
  for (int64_t d : w.dilations)
    if (d < 1 || d > (1 << 20)) return ctx.error("dilations must be between 1 and 2^20");
  for (int64_t k : kernel)
    if (k < 1 || k > (1 << 20)) return ctx.error("kernel_shape must be between 1 and 2^20");
  // A dilated window spans (k - 1) * d + 1 cells.
  for (size_t i = 0; i < 2; ++i) kernel[i] = (kernel[i] - 1) * w.dilations[i] + 1;
  std::string autoPad = ctx.attrString("auto_pad", "NOTSET");
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (size_t i = 0; i < 2; ++i) {
      int64_t in = x[2 + i], out = (in + w.strides[i] - 1) / w.strides[i];
      int64_t total = std::max<int64_t>(0, (out - 1) * w.strides[i] + kernel[i] - in);
      int64_t small = total / 2, large = total - small;
      w.pads[i] = autoPad == "SAME_UPPER" ? small : large;
      w.pads[i + 2] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad == "VALID") {
    w.pads = {0, 0, 0, 0};
  }
  if (ctx.attrInt("ceil_mode", 0)) {
    // Extra padding at the end gives the ceil'd output count.
    for (size_t i = 0; i < 2; ++i) {
      int64_t in = x[2 + i] + w.pads[i] + w.pads[i + 2];
      int64_t rem = (in - kernel[i]) % w.strides[i];
      if (rem != 0) w.pads[i + 2] += w.strides[i] - rem;
    }
  }
  return w;
}

Attrs windowAttrs(const Window& w, bool pool) {
  if (pool) return WindowAttr{w.kernel, w.strides, w.pads}.attrs();
  ConvAttr conv{w.strides, w.pads};
  if (w.dilated()) conv.dilations = w.dilations;
  return conv.attrs();
}

// Bounds on the strides, pads and windows of the 3-D ops below (far beyond any real model;
// they keep the arithmetic on them from overflowing or dividing by zero).
constexpr int64_t kMaxSpatialStep = 1 << 20;

// A 2-D convolution of NHWC `x` with HWIO `w` in `groups` groups (channel slices).
// (nnc's Conv2D takes `groups` itself: grouped and depthwise kernels.)
Result<NodeId> groupedConv2D(ImportContext& ctx, NodeId x, NodeId w, int64_t groups, const Attrs& attrs) {
  if (groups == 1) return ctx.op(OpKind::Conv2D, {x, w}, attrs);
  ConvAttr grouped = ConvAttr::of(attrs);
  grouped.groups = groups;
  return ctx.op(OpKind::Conv2D, {x, w}, grouped.attrs());
}

// 3-D convolution (NCDHW, OIDHW weights) from nnc's 2-D one: output depth z is the sum over
// the depth taps t of the 2-D convolution of input depth z * stride + t - pad with the
// weight's tap t (taps that fall in the padding add nothing). Exact, differentiable, and as
// many 2-D convolutions as output depths times taps: meant for the small volumes ONNX's
// tests and 3-D toy models use.
Result<void> mapConv3D(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  TRY_NODE(w, ctx.in(1));
  if (ctx.rank(w) != 5) return ctx.error("a 3-D convolution needs a weight of rank 5");
  std::vector<int64_t> dil = ctx.attrInts("dilations").value_or(std::vector<int64_t>{1, 1, 1});
  if (dil.size() != 3) return ctx.error("dilations must match three spatial dimensions");
  for (int64_t v : dil)
    if (v < 1 || v > kMaxSpatialStep) return ctx.error("dilations must be between 1 and " + std::to_string(kMaxSpatialStep));
  if (ctx.attrString("auto_pad", "NOTSET") != "NOTSET") return ctx.error("auto_pad on 3-D convolutions is not supported");
  std::vector<int64_t> st = ctx.attrInts("strides").value_or(std::vector<int64_t>{1, 1, 1});
  std::vector<int64_t> p = ctx.attrInts("pads").value_or(std::vector<int64_t>(6, 0));
  if (st.size() != 3 || p.size() != 6) return ctx.error("strides and pads must match three spatial dimensions");
  for (int64_t v : st)
    if (v < 1 || v > kMaxSpatialStep) return ctx.error("strides must be between 1 and " + std::to_string(kMaxSpatialStep));
  for (int64_t v : p)
    if (v < 0 || v > kMaxSpatialStep) return ctx.error("pads must be between 0 and " + std::to_string(kMaxSpatialStep));
  const Shape xs = ctx.shape(x), ws = ctx.shape(w);  // [N, C, D, H, W], [O, C/g, kd, kh, kw]
  int64_t groups = ctx.attrInt("group", 1);
  if (groups < 1 || xs[1] % groups != 0 || ws[0] % groups != 0 || ws[1] != xs[1] / groups)
    return ctx.error("the weight's shape does not match the input channels and groups");
  const int64_t depth = xs[2], kd = ws[2];
  const int64_t outDepth = (depth + p[0] + p[3] - ((kd - 1) * dil[0] + 1)) / st[0] + 1;
  if (outDepth < 1 || kd > 64 || outDepth * kd > 1024) return ctx.error("the depth is too large for nnc's 3-D convolution");
  auto slices = DepthSlices::of(ctx, x, w);
  if (!slices) return slices.error();
  ConvAttr conv{{st[1], st[2]}, {p[1], p[2], p[4], p[5]}};
  if (dil[1] != 1 || dil[2] != 1) conv.dilations = {dil[1], dil[2]};
  Attrs attrs = conv.attrs();
  std::vector<NodeId> depths;
  for (int64_t z = 0; z < outDepth; ++z) {
    NodeId sum = kNoNode;
    for (int64_t t = 0; t < kd; ++t) {
      int64_t zi = z * st[0] + t * dil[0] - p[0];
      if (zi < 0 || zi >= depth) continue;
      TRY_NODE(xp, slices->plane(zi));
      TRY_NODE(wp, slices->tap(t));
      TRY_NODE(conv, groupedConv2D(ctx, xp, wp, groups, attrs));
      if (sum == kNoNode) {
        sum = conv;
      } else {
        TRY_NODE(acc, ctx.op(OpKind::Add, {sum, conv}));
        sum = acc;
      }
    }
    if (sum == kNoNode) return ctx.error("an output depth lies entirely in the padding");
    Shape os = ctx.shape(sum);
    TRY_NODE(r, ctx.reshape(sum, {os[0], 1, os[1], os[2], os[3]}));
    depths.push_back(r);
  }
  NodeId y = depths[0];
  if (depths.size() > 1) {
    TRY_NODE(cat, ctx.op(OpKind::Concat, depths, AxisAttr{int64_t(1)}.attrs()));
    y = cat;
  }
  if (ctx.hasInput(2)) {
    TRY_NODE(bias, ctx.in(2));
    TRY_NODE(yb, ctx.op(OpKind::Add, {y, bias}));
    y = yb;
  }
  TRY_NODE(back, ctx.transpose(y, {0, 4, 1, 2, 3}));
  ctx.setOutput(0, back);
  return {};
}

// Conv over NCHW with OIHW weights: 1-D inputs as height 1; groups as slices.
Result<void> mapConv(ImportContext& ctx) {
  TRY_NODE(x0, ctx.in(0));
  if (ctx.rank(x0) == 5) return mapConv3D(ctx);
  TRY_NODE(w0, ctx.in(1));
  NodeId x = x0, w = w0;
  bool oneD = ctx.rank(x) == 3;
  if (oneD) {
    Shape s = ctx.shape(x), ws = ctx.shape(w);
    TRY_NODE(xr, ctx.reshape(x, {s[0], s[1], 1, s[2]}));
    TRY_NODE(wr, ctx.reshape(w, {ws[0], ws[1], 1, ws[2]}));
    x = xr, w = wr;
  }
  if (ctx.rank(x) != 4 || ctx.rank(w) != 4) return ctx.error("only 1-D and 2-D convolutions are supported");
  const Shape& ws = ctx.shape(w);
  std::vector<int64_t> kernel = {ws[2], ws[3]};
  Window win;
  {
    // 1-D attributes name one spatial dim: widen them.
    auto r = [&]() -> Result<Window> {
      if (!oneD) return windowOf(ctx, ctx.shape(x), kernel);
      std::vector<int64_t> d = ctx.attrInts("dilations").value_or(std::vector<int64_t>{1});
      std::vector<int64_t> st = ctx.attrInts("strides").value_or(std::vector<int64_t>{1});
      std::vector<int64_t> p = ctx.attrInts("pads").value_or(std::vector<int64_t>{0, 0});
      if (ctx.attrString("auto_pad", "NOTSET") != "NOTSET") return ctx.error("auto_pad on 1-D convolutions is not supported");
      if (d.size() != 1 || st.size() != 1 || p.size() != 2) return ctx.error("strides, dilations and pads must match one spatial dimension");
      if (d[0] < 1 || d[0] > kMaxSpatialStep) return ctx.error("dilations must be between 1 and " + std::to_string(kMaxSpatialStep));
      return Window{kernel, {1, st[0]}, {0, p[0], 0, p[1]}, {1, d[0]}};
    }();
    if (!r) return r.error();
    win = *r;
  }
  int64_t groups = ctx.attrInt("group", 1);
  int64_t cin = ctx.shape(x)[1], cout = ws[0];
  if (groups < 1 || cin % groups != 0 || cout % groups != 0 || ws[1] != cin / groups)
    return ctx.error("the weight's shape does not match the input channels and groups");
  TRY_NODE(xt, ctx.transpose(x, kToNHWC));
  TRY_NODE(wt, ctx.transpose(w, {2, 3, 1, 0}));
  TRY_NODE(c, groupedConv2D(ctx, xt, wt, groups, windowAttrs(win, false)));
  NodeId y = c;
  if (ctx.hasInput(2)) {
    TRY_NODE(bias, ctx.in(2));
    TRY_NODE(s, ctx.op(OpKind::Add, {y, bias}));
    y = s;
  }
  TRY_NODE(back, ctx.transpose(y, kToNCHW));
  NodeId r = back;
  if (oneD) {
    Shape s = ctx.shape(r);
    TRY_NODE(rr, ctx.reshape(r, {s[0], s[1], s[3]}));
    r = rr;
  }
  ctx.setOutput(0, r);
  return {};
}

// Hardmax: the one-hot row of the largest element along `axis`.
Result<void> mapHardmax(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  int64_t rank = static_cast<int64_t>(ctx.rank(x));
  int64_t axis = ctx.attrInt("axis", -1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return ctx.error("axis out of range");
  TRY_NODE(am, ctx.op(OpKind::ArgMax, {x}, AxisAttr{axis}.attrs()));
  TRY_NODE(hot, ctx.op(OpKind::OneHot, {am}, DepthAttr{ctx.shape(x)[size_t(axis)]}.attrs()));
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < rank - 1; ++i) {
    if (i == axis) perm.push_back(rank - 1);
    perm.push_back(i);
  }
  if (axis == rank - 1) perm.push_back(rank - 1);
  TRY_NODE(r, ctx.transpose(hot, perm));
  ctx.setOutput(0, r);
  return {};
}

// 3-D pooling (NCDHW) from nnc's 2-D pooling: a window over (D, H, W) is a window over
// (H, W) followed by one over D, for max and for an average that does not count padding
// cells alike (the valid cells of a window are a product of per-axis ranges). Depth joins
// the channels for the first pass; height and width are merged for the second.
Result<void> mapPool3D(ImportContext& ctx, OpKind kind) {
  TRY_NODE(x, ctx.in(0));
  if (ctx.wantsOutput(1)) return ctx.error("the Indices output is not supported");
  auto kernel = ctx.attrInts("kernel_shape");
  if (!kernel || kernel->size() != 3) return ctx.error("kernel_shape must have three values");
  std::vector<int64_t> st = ctx.attrInts("strides").value_or(std::vector<int64_t>{1, 1, 1});
  std::vector<int64_t> p = ctx.attrInts("pads").value_or(std::vector<int64_t>(6, 0));
  if (auto d = ctx.attrInts("dilations"))
    for (int64_t v : *d)
      if (v != 1) return ctx.error("dilations other than 1 are not supported");
  if (st.size() != 3 || p.size() != 6) return ctx.error("strides and pads must match three spatial dimensions");
  for (int64_t v : st)
    if (v < 1 || v > kMaxSpatialStep) return ctx.error("strides must be between 1 and " + std::to_string(kMaxSpatialStep));
  for (int64_t v : p)
    if (v < 0 || v > kMaxSpatialStep) return ctx.error("pads must be between 0 and " + std::to_string(kMaxSpatialStep));
  for (int64_t v : *kernel)
    if (v < 1 || v > kMaxSpatialStep) return ctx.error("kernel_shape must be between 1 and " + std::to_string(kMaxSpatialStep));
  if (ctx.attrString("auto_pad", "NOTSET") != "NOTSET" || ctx.attrInt("ceil_mode", 0))
    return ctx.error("auto_pad and ceil_mode on 3-D pooling are not supported");
  if (kind == OpKind::AvgPool && ctx.attrInt("count_include_pad", 0))
    for (int64_t v : p)
      if (v) return ctx.error("count_include_pad with padding is not supported");
  if (ctx.attrInt("storage_order", 0)) return ctx.error("storage_order 1 is not supported");
  const Shape s = ctx.shape(x);  // [N, C, D, H, W]
  const int64_t n = s[0], c = s[1], d = s[2], h = s[3], w = s[4];
  TRY_NODE(t, ctx.transpose(x, {0, 3, 4, 2, 1}));  // [N, H, W, D, C]
  TRY_NODE(hw, ctx.reshape(t, {n, h, w, d * c}));
  Attrs first = WindowAttr{{(*kernel)[1], (*kernel)[2]}, {st[1], st[2]}, {p[1], p[2], p[4], p[5]}}.attrs();
  TRY_NODE(p1, ctx.op(kind, {hw}, first));
  const int64_t h2 = ctx.shape(p1)[1], w2 = ctx.shape(p1)[2];
  TRY_NODE(u, ctx.reshape(p1, {n, h2, w2, d, c}));
  TRY_NODE(dt, ctx.transpose(u, {0, 3, 1, 2, 4}));  // [N, D, H', W', C]
  TRY_NODE(dm, ctx.reshape(dt, {n, d, h2 * w2, c}));
  Attrs second = WindowAttr{{(*kernel)[0], 1}, {st[0], 1}, {p[0], 0, p[3], 0}}.attrs();
  TRY_NODE(p2, ctx.op(kind, {dm}, second));
  const int64_t d2 = ctx.shape(p2)[1];
  TRY_NODE(v, ctx.reshape(p2, {n, d2, h2, w2, c}));
  TRY_NODE(y, ctx.transpose(v, {0, 4, 1, 2, 3}));
  ctx.setOutput(0, y);
  return {};
}

Result<void> mapPool(ImportContext& ctx, OpKind kind) {
  TRY_NODE(x0, ctx.in(0));
  if (ctx.rank(x0) == 5) return mapPool3D(ctx, kind);
  NodeId x = x0;
  if (ctx.wantsOutput(1)) return ctx.error("the Indices output is not supported");
  auto kernel = ctx.attrInts("kernel_shape");
  if (!kernel) return ctx.error("kernel_shape is missing");
  bool oneD = ctx.rank(x) == 3;
  if (ctx.rank(x) != 4 && !oneD) return ctx.error("only 1-D and 2-D pooling (NCL, NCHW) is supported");
  Result<Window> win = Window{};
  if (oneD) {
    // One spatial dim: pool over [N, C, 1, L] with a window of height 1.
    Shape s = ctx.shape(x);
    TRY_NODE(xr, ctx.reshape(x, {s[0], s[1], 1, s[2]}));
    x = xr;
    if (ctx.attrString("auto_pad", "NOTSET") != "NOTSET" || ctx.attrInt("ceil_mode", 0))
      return ctx.error("auto_pad and ceil_mode on 1-D pooling are not supported");
    std::vector<int64_t> d = ctx.attrInts("dilations").value_or(std::vector<int64_t>{1});
    std::vector<int64_t> st = ctx.attrInts("strides").value_or(std::vector<int64_t>{1});
    std::vector<int64_t> p = ctx.attrInts("pads").value_or(std::vector<int64_t>{0, 0});
    if (kernel->size() != 1 || d.size() != 1 || st.size() != 1 || p.size() != 2)
      return ctx.error("kernel_shape, strides, dilations and pads must match one spatial dimension");
    if (d[0] < 1 || d[0] > kMaxSpatialStep) return ctx.error("dilations must be between 1 and " + std::to_string(kMaxSpatialStep));
    win = Window{{1, (*kernel)[0]}, {1, st[0]}, {0, p[0], 0, p[1]}, {1, d[0]}};
  } else {
    win = windowOf(ctx, ctx.shape(x), *kernel);
  }
  if (!win) return win.error();
  if (kind == OpKind::AvgPool && ctx.attrInt("count_include_pad", 0))
    for (int64_t p : win->pads)
      if (p) return ctx.error("count_include_pad with padding is not supported");
  if (ctx.attrInt("storage_order", 0)) return ctx.error("storage_order 1 is not supported");
  TRY_NODE(xt, ctx.transpose(x, kToNHWC));
  NodeId pooled = kNoNode;
  if (win->dilated()) {
    // nnc's pooling has no dilations: max over the window's taps (OnnxOpsImage.cpp).
    if (kind != OpKind::MaxPool) return ctx.error("dilations are supported on MaxPool only");
    TRY_NODE(p, dilatedMaxPool(ctx, xt, win->kernel, win->strides, win->pads, win->dilations));
    pooled = p;
  } else {
    TRY_NODE(p, ctx.op(kind, {xt}, windowAttrs(*win, true)));
    pooled = p;
  }
  TRY_NODE(r, ctx.transpose(pooled, kToNCHW));
  NodeId y = r;
  if (oneD) {
    Shape s = ctx.shape(r);
    TRY_NODE(rr, ctx.reshape(r, {s[0], s[1], s[3]}));
    y = rr;
  }
  ctx.setOutput(0, y);
  return {};
}

std::vector<int64_t> range(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t i = from; i < to; ++i) v.push_back(i);
  return v;
}

Result<void> mapGlobalPool(ImportContext& ctx, OpKind reduce) {
  TRY_NODE(x, ctx.in(0));
  if (ctx.rank(x) < 3) return ctx.error("the input needs spatial dimensions");
  TRY_NODE(r, ctx.op(reduce, {x}, AxesAttr{range(2, int64_t(ctx.rank(x))), true}.attrs()));
  ctx.setOutput(0, r);
  return {};
}

// [C] -> [C, 1, ...] so that it broadcasts over NCHW's channel axis.
Result<NodeId> perChannel(ImportContext& ctx, NodeId v, size_t rank) {
  std::vector<int64_t> dims = ctx.shape(v).dims;
  dims.insert(dims.end(), rank - 2, 1);
  return ctx.reshape(v, dims);
}

// BatchNormalization as nnc's mode-dependent BatchNorm op (batch statistics and running
// updates while training, running statistics in inference, whatever `training_mode` says),
// which normalises the last axis: the channel axis is moved last and back. ONNX's momentum
// weighs the running statistic, as nnc's does. The running statistics the training mode
// outputs are nnc's state updates; a graph that reads them is refused.
Result<void> mapBatchNorm(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  size_t rank = ctx.rank(x);
  if (rank < 2) return ctx.error("the input needs a channel axis");
  if (ctx.outputUsed(1) || ctx.outputUsed(2))
    return ctx.error("the running mean and variance outputs are read by the graph; nnc keeps them as state");
  NodeId in[4];
  for (size_t i = 0; i < 4; ++i) {
    TRY_NODE(v, ctx.in(i + 1));
    in[i] = v;
  }
  std::vector<int64_t> toLast{0}, fromLast{0, static_cast<int64_t>(rank) - 1};
  for (size_t i = 2; i < rank; ++i) toLast.push_back(static_cast<int64_t>(i)), fromLast.push_back(static_cast<int64_t>(i) - 1);
  toLast.push_back(1);
  NodeId xl = x;
  if (rank > 2) {
    TRY_NODE(t, ctx.transpose(x, toLast));
    xl = t;
  }
  Attrs attrs = BatchNormAttr{ctx.attrFloat("momentum", 0.9), ctx.attrFloat("epsilon", 1e-5)}.attrs();
  TRY_NODE(bn, ctx.op(OpKind::BatchNorm, {xl, in[0], in[1], in[2], in[3]}, attrs));
  NodeId y = bn;
  if (rank > 2) {
    TRY_NODE(t, ctx.transpose(bn, fromLast));
    y = t;
  }
  ctx.setOutput(0, y);
  return {};
}

// (x - mean) / sqrt(var + eps) over `axes`, with the biased variance.
Result<NodeId> normalize(ImportContext& ctx, NodeId x, std::vector<int64_t> axes, double eps,
                         NodeId* meanOut = nullptr, NodeId* sdOut = nullptr) {
  Attrs a = AxesAttr{axes, true}.attrs();
  TRY_NODE(mean, ctx.op(OpKind::ReduceMean, {x}, a));
  TRY_NODE(xc, ctx.op(OpKind::Sub, {x, mean}));
  TRY_NODE(sq, ctx.op(OpKind::Square, {xc}));
  TRY_NODE(var, ctx.op(OpKind::ReduceMean, {sq}, a));
  NodeId v = var;
  if (eps != 0) {
    TRY_NODE(ve, ctx.op(OpKind::Add, {var, ctx.scalar(eps)}));
    v = ve;
  }
  TRY_NODE(sd, ctx.op(OpKind::Sqrt, {v}));
  if (meanOut) *meanOut = mean;
  if (sdOut) *sdOut = sd;
  return ctx.op(OpKind::Div, {xc, sd});
}

Result<void> mapInstanceNorm(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  size_t rank = ctx.rank(x);
  if (rank < 3) return ctx.error("the input needs spatial dimensions");
  TRY_NODE(xn, normalize(ctx, x, range(2, int64_t(rank)), ctx.attrFloat("epsilon", 1e-5)));
  TRY_NODE(s0, ctx.in(1));
  TRY_NODE(b0, ctx.in(2));
  TRY_NODE(s, perChannel(ctx, s0, rank));
  TRY_NODE(b, perChannel(ctx, b0, rank));
  TRY_NODE(xs, ctx.op(OpKind::Mul, {xn, s}));
  TRY_NODE(y, ctx.op(OpKind::Add, {xs, b}));
  ctx.setOutput(0, y);
  return {};
}

Result<void> mapLayerNorm(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  int64_t rank = static_cast<int64_t>(ctx.rank(x));
  int64_t axis = ctx.attrInt("axis", -1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return ctx.error("axis out of range");
  NodeId mean = kNoNode, sd = kNoNode;
  TRY_NODE(xn, normalize(ctx, x, range(axis, rank), ctx.attrFloat("epsilon", 1e-5), &mean, &sd));
  ctx.setOutput(1, mean);
  if (ctx.wantsOutput(2)) {
    TRY_NODE(inv, ctx.op(OpKind::Div, {ctx.scalar(1), sd}));
    ctx.setOutput(2, inv);
  }
  TRY_NODE(s, ctx.in(1));
  TRY_NODE(xs, ctx.op(OpKind::Mul, {xn, s}));
  NodeId y = xs;
  if (ctx.hasInput(2)) {
    TRY_NODE(b, ctx.in(2));
    TRY_NODE(yb, ctx.op(OpKind::Add, {xs, b}));
    y = yb;
  }
  ctx.setOutput(0, y);
  return {};
}

Result<void> mapMeanVarianceNorm(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  std::vector<int64_t> axes = ctx.attrInts("axes").value_or(std::vector<int64_t>{0, 2, 3});
  for (int64_t& a : axes)
    if (a < 0) a += static_cast<int64_t>(ctx.rank(x));
  std::sort(axes.begin(), axes.end());
  TRY_NODE(y, normalize(ctx, x, axes, 1e-9));
  ctx.setOutput(0, y);
  return {};
}

OpMapper softmaxLike(OpKind k) {
  return [k](ImportContext& ctx) -> Result<void> {
    TRY_NODE(x, ctx.in(0));
    int64_t axis = normAxis(ctx.attrInt("axis", -1), ctx.rank(x));
    TRY_NODE(r, ctx.op(k, {x}, AxisAttr{axis}.attrs()));
    ctx.setOutput(0, r);
    return {};
  };
}

}  // namespace

void addNeuralOps(OpTable& t) {
  t["MatMul"] = mapMatMul;
  t["Gemm"] = mapGemm;
  t["Conv"] = mapConv;
  t["Hardmax"] = mapHardmax;
  t["MaxPool"] = [](ImportContext& c) { return mapPool(c, OpKind::MaxPool); };
  t["AveragePool"] = [](ImportContext& c) { return mapPool(c, OpKind::AvgPool); };
  t["GlobalAveragePool"] = [](ImportContext& c) { return mapGlobalPool(c, OpKind::ReduceMean); };
  t["GlobalMaxPool"] = [](ImportContext& c) { return mapGlobalPool(c, OpKind::ReduceMax); };
  t["BatchNormalization"] = mapBatchNorm;
  t["InstanceNormalization"] = mapInstanceNorm;
  t["LayerNormalization"] = mapLayerNorm;
  t["MeanVarianceNormalization"] = mapMeanVarianceNorm;
  t["Softmax"] = softmaxLike(OpKind::Softmax);
  t["LogSoftmax"] = softmaxLike(OpKind::LogSoftmax);
}

}  // namespace nnc::onnximport
