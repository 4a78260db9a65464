// Image resampling and transposed convolutions: Resize and Upsample, ConvTranspose, and the
// dilated MaxPool nnc's pooling op cannot express.
//
// Resize is separable: along each axis, output cell o is a weighted sum of input cells (its
// "taps", computed exactly as ONNX's reference defines them for every mode, coordinate
// transformation and rounding). When the two spatial axes' taps are those of nnc's `upsample`
// op (integer factors; nearest = asymmetric floor, bilinear = half_pixel), the node becomes
// that op between NCHW <-> NHWC transposes. Otherwise each resized axis is a product with a
// constant [in, out] interpolation matrix: exact for any scale, mode and coordinate
// transformation, differentiable, and meant for the small images of ONNX's tests and
// align_corners models.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <map>
#include <set>

#include "compiler/ir/ImageTaps.h"
#include "compiler/ir/TypedAttrs.h"
#include "compiler/onnx/OnnxContext.h"

namespace nnc::onnximport {
namespace {

const std::vector<int64_t> kResizeToNHWC = {0, 2, 3, 1}, kResizeToNCHW = {0, 3, 1, 2};

// How one axis of a Resize samples its input.
struct ResizeGeometry {
  std::string mode = "nearest";           // nearest | linear | cubic
  std::string transform = "half_pixel";   // coordinate_transformation_mode
  std::string nearestMode = "round_prefer_floor";
  double cubicA = -0.75;
  bool excludeOutside = false;
};

// The taps of output cell o along an axis of `in` cells resized to `out` with `scale`, as
// onnx/backend/test/case/node/resize.py's interpolate_1d_with_x computes them (the
// reference the conformance data comes from). `outside` is set when tf_crop_and_resize
// samples outside the input (the cell is then the extrapolation value).
std::vector<ImageTap> resizeTaps(const ResizeGeometry& g, int64_t in, int64_t o, double scale, double roiStart,
                                 double roiEnd, bool* outside) {
  *outside = false;
  const double x = static_cast<double>(o), inW = static_cast<double>(in), outW = scale * inW;
  double src = 0;
  if (g.transform == "align_corners") {
    src = outW == 1 ? 0.0 : x * (inW - 1) / (outW - 1);
  } else if (g.transform == "asymmetric") {
    src = x / scale;
  } else if (g.transform == "tf_crop_and_resize") {
    src = outW == 1 ? (roiEnd - roiStart) * (inW - 1) / 2 : x * (roiEnd - roiStart) * (inW - 1) / (outW - 1);
    src += roiStart * (inW - 1);
    if (src < 0 || src > inW - 1) {
      *outside = true;
      return {};
    }
  } else if (g.transform == "tf_half_pixel_for_nn") {
    src = (x + 0.5) / scale;
  } else if (g.transform == "pytorch_half_pixel") {
    src = outW == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
  } else {  // half_pixel
    src = (x + 0.5) / scale - 0.5;
  }
  // The left neighbour and the ratio in (0, 1]: an integer coordinate is ratio 1 from the
  // cell before it.
  double base = std::floor(src);
  if (src == base) base -= 1;
  double ratio = src - base;
  std::vector<double> coeffs;
  if (g.mode == "nearest") {
    bool right = true;
    if (ratio != 1) {
      if (g.nearestMode == "round_prefer_ceil") right = ratio >= 0.5;
      else if (g.nearestMode == "floor") right = false;
      else if (g.nearestMode == "ceil") right = true;
      else right = ratio > 0.5;  // round_prefer_floor
    }
    coeffs = {right ? 0.0 : 1.0, right ? 1.0 : 0.0};
  } else if (g.mode == "linear") {
    coeffs = {1 - ratio, ratio};
  } else {
    const double a = g.cubicA, r = ratio, s = 1 - ratio;
    coeffs = {((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a, ((a + 2) * r - (a + 3)) * r * r + 1,
              ((a + 2) * s - (a + 3)) * s * s + 1, ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a};
  }
  // The n nearest cells of the input padded with ceil(n / 2) edge cells on each side.
  const int64_t n = static_cast<int64_t>(coeffs.size()), pad = (n + 1) / 2;
  int64_t first = static_cast<int64_t>(base) + pad - n / 2 + 1;
  first = std::clamp<int64_t>(first, 0, in + 2 * pad - n) - pad;
  if (g.excludeOutside) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (first + i < 0 || first + i >= in) coeffs[static_cast<size_t>(i)] = 0;
      sum += coeffs[static_cast<size_t>(i)];
    }
    if (sum != 0)
      for (double& c : coeffs) c /= sum;
  }
  std::vector<ImageTap> taps;
  for (int64_t i = 0; i < n; ++i) {
    double w = coeffs[static_cast<size_t>(i)];
    if (w == 0) continue;
    int64_t cell = std::clamp<int64_t>(first + i, 0, in - 1);
    auto same = std::find_if(taps.begin(), taps.end(), [&](const ImageTap& t) { return t.src == cell; });
    if (same != taps.end()) same->weight += w;
    else taps.push_back({cell, w});
  }
  return taps;
}

// Whether two tap lists weigh the same cells alike (zero weights ignored).
bool sameResizeTaps(std::vector<ImageTap> a, std::vector<ImageTap> b) {
  auto tidy = [](std::vector<ImageTap>& t) {
    std::vector<ImageTap> merged;
    for (const ImageTap& x : t) {
      auto it = std::find_if(merged.begin(), merged.end(), [&](const ImageTap& m) { return m.src == x.src; });
      if (it != merged.end()) it->weight += x.weight;
      else merged.push_back(x);
    }
    merged.erase(std::remove_if(merged.begin(), merged.end(), [](const ImageTap& m) { return std::abs(m.weight) < 1e-12; }),
                 merged.end());
    std::sort(merged.begin(), merged.end(), [](const ImageTap& p, const ImageTap& q) { return p.src < q.src; });
    t = merged;
  };
  tidy(a);
  tidy(b);
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].src != b[i].src || std::abs(a[i].weight - b[i].weight) > 1e-9) return false;
  return true;
}

struct ResizedAxis {
  int64_t in = 0, out = 0;
  bool unchanged = false;                   // known to be the identity (scale 1): no taps
  std::vector<std::vector<ImageTap>> taps;  // per output cell
  std::vector<bool> outside;                // per output cell (tf_crop_and_resize)
  std::vector<ImageTap> tapsOf(int64_t o) const { return unchanged ? std::vector<ImageTap>{{o, 1.0}} : taps[size_t(o)]; }
  bool outsideAt(int64_t o) const { return !unchanged && outside[size_t(o)]; }
  bool identity() const {
    if (unchanged) return true;
    if (in != out) return false;
    for (int64_t o = 0; o < out; ++o)
      if (outside[size_t(o)] || !sameResizeTaps(taps[size_t(o)], {{o, 1.0}})) return false;
    return true;
  }
  bool matches(const AxisTaps& t) const {
    if (static_cast<int64_t>(t.size()) != out) return false;
    for (int64_t o = 0; o < out; ++o)
      if (outsideAt(o) || !sameResizeTaps(tapsOf(o), t[size_t(o)])) return false;
    return true;
  }
};

// The IR's upsample when the spatial axes of an NCHW input are exactly its taps (and the
// other axes are unchanged); kNoNode when they are not.
Result<NodeId> resizeAsUpsample(ImportContext& ctx, NodeId x, const std::vector<ResizedAxis>& axes) {
  if (axes.size() != 4 || !axes[0].identity() || !axes[1].identity()) return kNoNode;
  for (const char* mode : {"nearest", "bilinear"}) {
    std::vector<int64_t> scale;
    bool fits = true;
    for (size_t a = 2; a < 4 && fits; ++a) {
      const ResizedAxis& r = axes[a];
      fits = r.unchanged || (r.in > 0 && r.out % r.in == 0 && r.matches(upsampleTaps(r.in, r.out / r.in, mode[0] == 'b')));
      scale.push_back(r.unchanged ? 1 : fits ? r.out / r.in : 0);
    }
    if (!fits) continue;
    TRY_NODE(t, ctx.transpose(x, kResizeToNHWC));
    TRY_NODE(u, ctx.op(OpKind::Upsample, {t}, ResampleAttr{scale, mode}.attrs()));
    return ctx.transpose(u, kResizeToNCHW);
  }
  return kNoNode;
}

// x resized along `axis` by the product with the constant matrix of the axis' taps.
Result<NodeId> resizeAlongAxis(ImportContext& ctx, NodeId x, size_t axis, const ResizedAxis& r) {
  const size_t rank = ctx.rank(x);
  std::vector<int64_t> perm;
  for (size_t i = 0; i < rank; ++i) perm.push_back(static_cast<int64_t>(i));
  std::swap(perm[axis], perm[rank - 1]);
  ConstTensor m;  // [in, out]
  m.dims = {r.in, r.out};
  m.values.assign(static_cast<size_t>(r.in * r.out), 0.0);
  for (int64_t o = 0; o < r.out; ++o)
    for (const ImageTap& t : r.tapsOf(o)) m.values[size_t(t.src * r.out + o)] += t.weight;
  TRY_NODE(matrix, ctx.materialize(m));
  TRY_NODE(xt, ctx.transpose(x, perm));
  TRY_NODE(y, ctx.op(OpKind::MatMul, {xt, matrix}));
  return ctx.transpose(y, perm);
}

// The output sizes and per-axis taps of a Resize (or Upsample) of `x` given its scales or sizes.
Result<std::vector<ResizedAxis>> resizeAxes(ImportContext& ctx, const Shape& xs, const ResizeGeometry& g,
                                            const std::vector<double>& scales, const std::vector<int64_t>& sizes,
                                            const std::vector<double>& roi) {
  const size_t rank = xs.rank();
  std::vector<ResizedAxis> axes(rank);
  for (size_t a = 0; a < rank; ++a) {
    ResizedAxis& r = axes[a];
    r.in = xs[a];
    double scale = 1;
    if (!sizes.empty()) {
      if (sizes[a] == kBatchInt && r.in == kBatch) {
        r.out = kBatch;
        continue;
      }
      r.out = sizes[a];
      scale = r.in > 0 ? static_cast<double>(r.out) / static_cast<double>(r.in) : 1;
    } else {
      scale = static_cast<double>(static_cast<float>(scales[a]));
      if (!(scale > 0) || scale > 1e6) return ctx.error("scale " + std::to_string(scales[a]) + " must be positive and at most 10^6");
      if (r.in == kBatch) {
        if (scale != 1) return ctx.error("resizing the batch axis is not supported");
        r.out = kBatch;
        continue;
      }
      r.out = static_cast<int64_t>(scale * static_cast<double>(r.in));
    }
    if (r.in == kBatch) return ctx.error("resizing the batch axis is not supported");
    if (r.out < 1 || r.out > kMaxElements) return ctx.error("output size " + std::to_string(r.out) + " along axis " + std::to_string(a) + " is out of range");
    if (r.in < 1) return ctx.error("axis " + std::to_string(a) + " is empty");
    // Scale 1 under these transformations maps every cell onto itself.
    static const std::set<std::string> kIdentityAtScaleOne = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"};
    if (r.out == r.in && scale == 1 && kIdentityAtScaleOne.count(g.transform)) {
      r.unchanged = true;
      continue;
    }
    constexpr int64_t kMaxMatrix = int64_t(1) << 24;
    if (r.in > kMaxMatrix || r.out > kMaxMatrix || r.in * r.out > kMaxMatrix)
      return ctx.error("the axis " + std::to_string(a) + " resize from " + std::to_string(r.in) + " to " +
                       std::to_string(r.out) + " is too large for nnc's interpolation matrix");
    double roiStart = roi.size() == 2 * rank ? roi[a] : 0, roiEnd = roi.size() == 2 * rank ? roi[a + rank] : 1;
    for (int64_t o = 0; o < r.out; ++o) {
      bool outside = false;
      r.taps.push_back(resizeTaps(g, r.in, o, scale, roiStart, roiEnd, &outside));
      r.outside.push_back(outside);
    }
  }
  return axes;
}

Result<void> emitResize(ImportContext& ctx, NodeId x, const ResizeGeometry& g, const std::vector<double>& scales,
                        const std::vector<int64_t>& sizes, const std::vector<double>& roi, double extrapolation) {
  if (ctx.g.type(x).dtype != DType::F32) return ctx.error("only float tensors can be resized");
  const Shape xs = ctx.shape(x);
  auto axesR = resizeAxes(ctx, xs, g, scales, sizes, roi);
  if (!axesR) return axesR.error();
  const std::vector<ResizedAxis>& axes = *axesR;
  if (std::all_of(axes.begin(), axes.end(), [](const ResizedAxis& r) { return r.identity(); })) {
    ctx.setOutput(0, x);
    return {};
  }
  TRY_NODE(up, resizeAsUpsample(ctx, x, axes));
  if (up != kNoNode) {
    ctx.setOutput(0, up);
    return {};
  }
  NodeId y = x;
  bool anyOutside = false;
  for (size_t a = 0; a < axes.size(); ++a) {
    if (axes[a].out == kBatch || axes[a].identity()) continue;
    TRY_NODE(r, resizeAlongAxis(ctx, y, a, axes[a]));
    y = r;
    for (int64_t o = 0; o < axes[a].out; ++o) anyOutside = anyOutside || axes[a].outsideAt(o);
  }
  if (anyOutside && extrapolation != 0) {
    // tf_crop_and_resize: cells outside the input along any axis hold the extrapolation value
    // (their matrix columns are zero).
    ConstTensor e;
    for (const ResizedAxis& r : axes) e.dims.push_back(r.out == kBatch || r.unchanged ? 1 : r.out);
    e.values.assign(static_cast<size_t>(elementCount(e.dims)), 0.0);
    for (size_t i = 0; i < e.values.size(); ++i) {
      size_t rest = i;
      bool out = false;
      for (size_t a = axes.size(); a-- > 0;) {
        size_t d = static_cast<size_t>(e.dims[a]);
        if (axes[a].out != kBatch && axes[a].outsideAt(static_cast<int64_t>(rest % d))) out = true;
        rest /= d;
      }
      if (out) e.values[i] = extrapolation;
    }
    TRY_NODE(c, ctx.materialize(e));
    TRY_NODE(sum, ctx.op(OpKind::Add, {y, c}));
    y = sum;
  }
  ctx.setOutput(0, y);
  return {};
}

std::vector<double> constantDoubles(const ConstTensor* t) { return t ? t->values : std::vector<double>{}; }

// Resize (opset 11+): X, roi, scales, sizes; scales or sizes known at import.
Result<void> mapResize(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  ResizeGeometry g;
  g.mode = ctx.attrString("mode", "nearest");
  g.transform = ctx.attrString("coordinate_transformation_mode", "half_pixel");
  g.nearestMode = ctx.attrString("nearest_mode", "round_prefer_floor");
  g.cubicA = ctx.attrFloat("cubic_coeff_a", -0.75);
  g.excludeOutside = ctx.attrInt("exclude_outside", 0) != 0;
  if (g.mode != "nearest" && g.mode != "linear" && g.mode != "cubic") return ctx.error("mode '" + g.mode + "' is not supported");
  static const std::set<std::string> kTransforms = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                                     "tf_crop_and_resize", "tf_half_pixel_for_nn"};
  if (!kTransforms.count(g.transform))
    return ctx.error("coordinate_transformation_mode '" + g.transform + "' is not supported");
  if (g.mode == "nearest" && g.nearestMode != "round_prefer_floor" && g.nearestMode != "round_prefer_ceil" &&
      g.nearestMode != "floor" && g.nearestMode != "ceil")
    return ctx.error("nearest_mode '" + g.nearestMode + "' is not supported");
  const size_t rank = ctx.rank(x);
  std::vector<double> scales, roi;
  std::vector<int64_t> sizes;
  if (ctx.hasInput(3)) {
    auto s = ctx.ints(3, "sizes");
    if (!s) return s.error();
    sizes = *s;
  }
  if (sizes.empty()) {
    if (!ctx.hasInput(2)) return ctx.error("neither scales nor sizes is given");
    if (!ctx.constant(2)) {
      auto known = ctx.ints(2, "scales");  // the located "must be known" error
      return known.error();
    }
    scales = constantDoubles(ctx.constant(2));
    if (scales.size() != rank) return ctx.error("scales has " + std::to_string(scales.size()) + " values for an input of rank " + std::to_string(rank));
  } else if (sizes.size() != rank) {
    return ctx.error("sizes has " + std::to_string(sizes.size()) + " values for an input of rank " + std::to_string(rank));
  }
  if (g.transform == "tf_crop_and_resize") {
    if (!ctx.constant(1)) {
      auto known = ctx.ints(1, "roi");
      return known.error();
    }
    roi = constantDoubles(ctx.constant(1));
    if (roi.size() != 2 * rank) return ctx.error("roi needs " + std::to_string(2 * rank) + " values");
  }
  return emitResize(ctx, x, g, scales, sizes, roi, ctx.attrFloat("extrapolation_value", 0.0));
}

// Upsample (opsets 7-9): X and scales (an attribute before opset 9); asymmetric coordinates.
Result<void> mapUpsample(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  ResizeGeometry g;
  g.mode = ctx.attrString("mode", "nearest");
  g.transform = "asymmetric";
  g.nearestMode = "floor";
  if (g.mode == "bilinear") g.mode = "linear";
  if (g.mode != "nearest" && g.mode != "linear") return ctx.error("mode '" + g.mode + "' is not supported");
  std::vector<double> scales;
  if (const auto* a = ctx.attr("scales")) {
    scales.assign(a->floats().begin(), a->floats().end());
  } else if (ctx.constant(1)) {
    scales = constantDoubles(ctx.constant(1));
  } else {
    auto known = ctx.ints(1, "scales");
    return known.error();
  }
  if (scales.size() != ctx.rank(x)) return ctx.error("scales must have one value per input dimension");
  return emitResize(ctx, x, g, scales, {}, {}, 0.0);
}

// ---- ConvTranspose: the adjoint of a convolution (nnc's Conv2DGradInput) ------------------

// The transposed convolution's geometry along its spatial axes (1-D as height 1).
struct TransposedWindow {
  std::vector<int64_t> strides, dilations, pads, outputPadding;  // pads: begin..., end...
};

Result<TransposedWindow> transposedWindow(ImportContext& ctx, const Shape& xs, const Shape& ws, size_t spatial) {
  TransposedWindow t;
  t.strides = ctx.attrInts("strides").value_or(std::vector<int64_t>(spatial, 1));
  t.dilations = ctx.attrInts("dilations").value_or(std::vector<int64_t>(spatial, 1));
  t.pads = ctx.attrInts("pads").value_or(std::vector<int64_t>(2 * spatial, 0));
  t.outputPadding = ctx.attrInts("output_padding").value_or(std::vector<int64_t>(spatial, 0));
  if (t.strides.size() != spatial || t.dilations.size() != spatial || t.pads.size() != 2 * spatial ||
      t.outputPadding.size() != spatial)
    return ctx.error("strides, dilations, pads and output_padding must match the " + std::to_string(spatial) +
                     " spatial dimension(s)");
  for (size_t i = 0; i < spatial; ++i) {
    if (t.strides[i] < 1 || t.strides[i] > (1 << 20) || t.dilations[i] < 1 || t.dilations[i] > (1 << 20))
      return ctx.error("strides and dilations must be between 1 and 2^20");
    if (t.outputPadding[i] < 0 || t.outputPadding[i] > (1 << 20)) return ctx.error("output_padding must be between 0 and 2^20");
    if (t.pads[i] < 0 || t.pads[i + spatial] < 0 || t.pads[i] > (1 << 20) || t.pads[i + spatial] > (1 << 20))
      return ctx.error("pads must be between 0 and 2^20");
  }
  std::string autoPad = ctx.attrString("auto_pad", "NOTSET");
  auto outputShape = ctx.attrInts("output_shape");
  if (autoPad == "VALID") t.pads.assign(2 * spatial, 0);
  if (outputShape || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    // ONNX: total padding = stride * (in - 1) + output_padding + span - out, split between
    // the two ends (the larger half at the end for SAME_UPPER, at the start otherwise). A
    // negative total grows the output with zero cells.
    std::vector<int64_t> out(spatial);
    for (size_t i = 0; i < spatial; ++i) out[i] = xs[2 + i] * t.strides[i];
    if (outputShape) {
      std::vector<int64_t> os = *outputShape;
      if (os.size() == spatial + 2) os.erase(os.begin(), os.begin() + 2);
      if (os.size() != spatial) return ctx.error("output_shape must give the " + std::to_string(spatial) + " spatial size(s)");
      for (int64_t v : os)
        if (v < 1 || v > (1 << 24)) return ctx.error("output_shape " + std::to_string(v) + " is out of range");
      out = os;
    }
    for (size_t i = 0; i < spatial; ++i) {
      int64_t span = (ws[2 + i] - 1) * t.dilations[i] + 1;
      int64_t total = t.strides[i] * (xs[2 + i] - 1) + t.outputPadding[i] + span - out[i];
      int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);  // floor division
      if (autoPad == "SAME_UPPER") {
        t.pads[i] = half, t.pads[i + spatial] = total - half;
      } else {
        t.pads[i] = total - half, t.pads[i + spatial] = half;
      }
    }
  } else if (autoPad != "NOTSET" && autoPad != "VALID") {
    return ctx.error("auto_pad '" + autoPad + "' is not supported");
  }
  return t;
}

// 3-D ConvTranspose (NCDHW, weight [Cin, Cout / group, kd, kh, kw]) from the 2-D one: output
// depth z sums, over the depth taps t and input depths zi with zi * stride + t * dilation -
// pad = z, the 2-D transposed convolution of input plane zi with the weight's tap t. Exact and
// differentiable; as many 2-D ones as output depths times taps (small volumes).
Result<void> mapConvTranspose3D(ImportContext& ctx, NodeId x, NodeId w, int64_t groups) {
  const Shape xs = ctx.shape(x), ws = ctx.shape(w);  // [N, C, D, H, W], [C, O / g, kd, kh, kw]
  auto winR = transposedWindow(ctx, xs, ws, 3);
  if (!winR) return winR.error();
  const TransposedWindow& win = *winR;
  std::vector<int64_t> out(3);
  for (size_t i = 0; i < 3; ++i) {
    if (win.pads[i] < 0 || win.pads[i + 3] < 0 || (win.outputPadding[i] >= win.strides[i] && win.outputPadding[i] > 0))
      return ctx.error("a 3-D transposed convolution needs pads and output_padding that keep the output within the natural one");
    out[i] = win.strides[i] * (xs[2 + i] - 1) + win.outputPadding[i] + (ws[2 + i] - 1) * win.dilations[i] + 1 -
             win.pads[i] - win.pads[i + 3];
    if (out[i] < 1) return ctx.error("the output would be empty along spatial axis " + std::to_string(i));
  }
  const int64_t n = xs[0], depth = xs[2], kd = ws[2], cout = ws[1] * groups;
  if (kd > 64 || out[0] * kd > 1024) return ctx.error("the depth is too large for nnc's 3-D transposed convolution");
  auto slices = DepthSlices::of(ctx, x, w);
  if (!slices) return slices.error();
  ConvGradInputAttr adjoint;
  adjoint.strides = {win.strides[1], win.strides[2]};
  adjoint.pads = {win.pads[1], win.pads[2], win.pads[4], win.pads[5]};
  adjoint.dilations = {win.dilations[1], win.dilations[2]};
  adjoint.groups = groups;
  adjoint.inputHw = {out[1], out[2]};
  const Attrs attrs = adjoint.attrs();
  std::vector<NodeId> depths;
  for (int64_t z = 0; z < out[0]; ++z) {
    NodeId sum = kNoNode;
    for (int64_t t = 0; t < kd; ++t) {
      int64_t num = z + win.pads[0] - t * win.dilations[0];
      if (num < 0 || num % win.strides[0] != 0 || num / win.strides[0] >= depth) continue;
      TRY_NODE(xp, slices->plane(num / win.strides[0]));
      TRY_NODE(wp, slices->tap(t));
      TRY_NODE(conv, ctx.op(OpKind::Conv2DGradInput, {xp, wp}, attrs));
      if (sum == kNoNode) {
        sum = conv;
      } else {
        TRY_NODE(acc, ctx.op(OpKind::Add, {sum, conv}));
        sum = acc;
      }
    }
    if (sum == kNoNode) {  // output padding: no input depth reaches this one
      TRY_NODE(zero, ctx.op(OpKind::BroadcastTo, {ctx.scalar(0)}, ShapeAttr{{n, out[1], out[2], cout}}.attrs()));
      sum = zero;
    }
    TRY_NODE(r, ctx.reshape(sum, {n, 1, out[1], out[2], cout}));
    depths.push_back(r);
  }
  NodeId y = depths[0];
  if (depths.size() > 1) {
    TRY_NODE(cat, ctx.op(OpKind::Concat, depths, AxisAttr{1}.attrs()));
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

Result<void> mapConvTranspose(ImportContext& ctx) {
  TRY_NODE(x0, ctx.in(0));
  TRY_NODE(w0, ctx.in(1));
  NodeId x = x0, w = w0;
  const size_t rank = ctx.rank(x);
  if (rank != 3 && rank != 4 && rank != 5) return ctx.error("only 1-D, 2-D and 3-D transposed convolutions are supported");
  if (ctx.rank(w) != rank) return ctx.error("the weight's rank must be the input's");
  const size_t spatial = rank - 2;
  Shape xs = ctx.shape(x), ws = ctx.shape(w);
  int64_t groups = ctx.attrInt("group", 1);
  if (groups < 1 || ws[0] != xs[1] || xs[1] % groups != 0)
    return ctx.error("the weight " + ws.str() + " does not match the input channels " + std::to_string(xs[1]) +
                     " and group = " + std::to_string(groups));
  if (spatial == 3) return mapConvTranspose3D(ctx, x, w, groups);
  auto winR = transposedWindow(ctx, xs, ws, spatial);
  if (!winR) return winR.error();
  TransposedWindow win = *winR;
  if (spatial == 1) {  // [N, C, L] as [N, C, 1, L]
    TRY_NODE(xr, ctx.reshape(x, {xs[0], xs[1], 1, xs[2]}));
    TRY_NODE(wr, ctx.reshape(w, {ws[0], ws[1], 1, ws[2]}));
    x = xr, w = wr;
    win = {{1, win.strides[0]}, {1, win.dilations[0]}, {0, win.pads[0], 0, win.pads[1]}, {0, win.outputPadding[0]}};
    xs = ctx.shape(x), ws = ctx.shape(w);
  }
  // Negative pads (from output_shape) and output padding beyond the stride are zero cells
  // added around the adjoint's output; the adjoint itself takes non-negative pads.
  std::vector<int64_t> pads(4), hw(2), zeros(4, 0);
  for (size_t i = 0; i < 2; ++i) {
    int64_t begin = win.pads[i], end = win.pads[i + 2];
    if (begin < 0) zeros[i] = -begin, begin = 0;
    if (end < 0) zeros[i + 2] = -end, end = 0;
    int64_t extra = win.outputPadding[i];
    if (extra >= win.strides[i]) zeros[i + 2] += extra, extra = 0;
    pads[i] = begin, pads[i + 2] = end;
    int64_t span = (ws[2 + i] - 1) * win.dilations[i] + 1;
    hw[i] = win.strides[i] * (xs[2 + i] - 1) + extra + span - begin - end;
    if (hw[i] < 1) return ctx.error("the output would be empty along spatial axis " + std::to_string(i));
  }
  ConvGradInputAttr adjoint;
  adjoint.strides = win.strides;
  adjoint.pads = pads;
  adjoint.dilations = win.dilations;
  adjoint.groups = groups;
  adjoint.inputHw = hw;
  TRY_NODE(xt, ctx.transpose(x, kResizeToNHWC));
  TRY_NODE(wt, ctx.transpose(w, {2, 3, 1, 0}));  // [kh, kw, Cout / groups, Cin]
  TRY_NODE(y0, ctx.op(OpKind::Conv2DGradInput, {xt, wt}, adjoint.attrs()));
  NodeId y = y0;
  if (zeros != std::vector<int64_t>{0, 0, 0, 0}) {
    TRY_NODE(p, ctx.op(OpKind::Pad, {y}, PadAttr{zeros, "constant", 0.0}.attrs()));
    y = p;
  }
  if (ctx.hasInput(2)) {
    TRY_NODE(b, ctx.in(2));
    TRY_NODE(s, ctx.op(OpKind::Add, {y, b}));
    y = s;
  }
  TRY_NODE(r, ctx.transpose(y, kResizeToNCHW));
  NodeId out = r;
  if (spatial == 1) {
    Shape s = ctx.shape(r);
    TRY_NODE(rr, ctx.reshape(r, {s[0], s[1], s[3]}));
    out = rr;
  }
  ctx.setOutput(0, out);
  return {};
}

}  // namespace

// A dilated max pooling of NHWC `x` (nnc's pooling op has no dilations), over the input
// padded with the lowest float:
//  - strides that are multiples of the dilations: every window reads one phase of the
//    dilation grid, so the pooling is an ordinary one (stride s / d) over the input
//    subsampled by d (a 1x1 max pooling of stride d);
//  - otherwise the maximum over the window's taps: tap (i, j) is the input shifted by
//    (i * dh, j * dw) and subsampled by the strides.
Result<NodeId> dilatedMaxPool(ImportContext& ctx, NodeId x, const std::vector<int64_t>& kernel,
                              const std::vector<int64_t>& strides, const std::vector<int64_t>& pads,
                              const std::vector<int64_t>& dilations) {
  const Shape xs = ctx.shape(x);
  for (size_t i = 0; i < 2; ++i)
    if (kernel[i] < 1 || kernel[i] > (1 << 20) || strides[i] < 1 || strides[i] > (1 << 20) || pads[i] < 0 ||
        pads[i + 2] < 0 || pads[i] > (1 << 20) || pads[i + 2] > (1 << 20))
      return ctx.error("kernel_shape, strides and pads must be between 1 (0 for pads) and 2^20");
  NodeId padded = x;
  if (pads != std::vector<int64_t>{0, 0, 0, 0}) {
    TRY_NODE(p, ctx.op(OpKind::Pad, {x}, PadAttr{pads, "constant", double(-FLT_MAX)}.attrs()));
    padded = p;
  }
  int64_t out[2];
  for (size_t i = 0; i < 2; ++i) {
    int64_t span = (kernel[i] - 1) * dilations[i] + 1;
    out[i] = (xs[1 + i] + pads[i] + pads[i + 2] - span) / strides[i] + 1;
    if (out[i] < 1) return ctx.error("the dilated window does not fit the input");
  }
  const std::vector<int64_t> noPads{0, 0, 0, 0};
  if (strides[0] % dilations[0] == 0 && strides[1] % dilations[1] == 0) {
    TRY_NODE(grid, ctx.op(OpKind::MaxPool, {padded}, WindowAttr{{1, 1}, dilations, noPads}.attrs()));
    TRY_NODE(pooled, ctx.op(OpKind::MaxPool, {grid}, WindowAttr{kernel, {strides[0] / dilations[0], strides[1] / dilations[1]}, noPads}.attrs()));
    NodeId y = pooled;
    for (int64_t axis = 1; axis <= 2; ++axis)
      if (ctx.shape(y)[size_t(axis)] > out[axis - 1]) {
        TRY_NODE(cut, ctx.op(OpKind::Slice, {y}, SliceAttr{axis, 0, out[axis - 1]}.attrs()));
        y = cut;
      }
    return y;
  }
  if (kernel[0] * kernel[1] > 1024) return ctx.error("the dilated window is too large");
  NodeId y = kNoNode;
  for (int64_t i = 0; i < kernel[0]; ++i)
    for (int64_t j = 0; j < kernel[1]; ++j) {
      int64_t r0 = i * dilations[0], c0 = j * dilations[1];
      TRY_NODE(rows, ctx.op(OpKind::Slice, {padded}, SliceAttr{1, r0, r0 + (out[0] - 1) * strides[0] + 1}.attrs()));
      TRY_NODE(cols, ctx.op(OpKind::Slice, {rows}, SliceAttr{2, c0, c0 + (out[1] - 1) * strides[1] + 1}.attrs()));
      NodeId tap = cols;
      if (strides[0] != 1 || strides[1] != 1) {
        TRY_NODE(s, ctx.op(OpKind::MaxPool, {cols}, WindowAttr{{1, 1}, strides, {0, 0, 0, 0}}.attrs()));
        tap = s;
      }
      if (y == kNoNode) {
        y = tap;
      } else {
        TRY_NODE(m, ctx.op(OpKind::Maximum, {y, tap}));
        y = m;
      }
    }
  return y;
}

void addImageOps(OpTable& t) {
  t["Resize"] = mapResize;
  t["Upsample"] = mapUpsample;
  t["ConvTranspose"] = mapConvTranspose;
}

}  // namespace nnc::onnximport
