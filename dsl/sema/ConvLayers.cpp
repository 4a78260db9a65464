// The convolution variants built on Conv2D's dilations and groups: conv1d (a conv2d over a
// one-row image), depthwise_conv2d (one group per input channel) and separable_conv2d
// (depthwise, then a 1x1 convolution). A depthwise filter [kh, kw, in, multiplier] has the
// memory layout of a grouped filter [kh, kw, 1, in * multiplier] whose output channel
// c * multiplier + m belongs to group c, so it is that filter, reshaped.
#include "compiler/ir/TypedAttrs.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

Attrs convAttrs(const BoundCall& b, const Shape& shape, int64_t kh, int64_t kw, int64_t groups) {
  auto [sh, sw] = b.pair("stride");
  auto [dh, dw] = b.has("dilation") ? b.pair("dilation") : std::pair<int64_t, int64_t>{1, 1};
  return ConvAttr{{sh, sw},
                  windowPads(b.word("padding") == "same", shape[1], shape[2], (kh - 1) * dh + 1, (kw - 1) * dw + 1, sh, sw),
                  {dh, dw}, groups}
      .attrs();
}

namespace {

const InitSpec kConvZeros{"zeros", {}};

std::optional<NodeId> convFinish(Sema& s, const BoundCall& b, Emitter& em, NodeId y, int64_t channels) {
  if (b.flag("bias")) y = em(OpKind::Add, {y, em.param(b, "bias", Shape{channels}, kConvZeros)});
  if (!em.ok()) return std::nullopt;
  return s.activation(b.word("activation"), y, b.loc);
}

// A depthwise convolution of x by a filter [kh, kw, C, multiplier] (already created).
NodeId depthwise(Sema& s, const BoundCall& b, Emitter& em, NodeId x, NodeId w, int64_t kh, int64_t kw,
                 int64_t multiplier) {
  const Shape shape = s.type(x).shape;
  NodeId grouped = em.use(s.reshape(w, {kh, kw, 1, shape[3] * multiplier}, b.loc));
  return em(OpKind::Conv2D, {x, grouped}, convAttrs(b, shape, kh, kw, shape[3]));
}

std::optional<NodeId> buildDepthwiseConv2D(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  const Shape shape = s.type(x).shape;
  auto [kh, kw] = b.pair("kernel");
  int64_t m = b.integer("multiplier");
  Emitter em(s, b.loc);
  NodeId w = em.param(b, "weight", Shape{kh, kw, shape[3], m}, initSpec(*b.arg("init").call));
  NodeId y = depthwise(s, b, em, x, w, kh, kw, m);
  return convFinish(s, b, em, y, shape[3] * m);
}

std::optional<NodeId> buildSeparableConv2D(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  const Shape shape = s.type(x).shape;
  auto [kh, kw] = b.pair("kernel");
  int64_t filters = b.integer("filters");
  Emitter em(s, b.loc);
  NodeId dwt = em.param(b, "depthwise", Shape{kh, kw, shape[3], 1}, initSpec(*b.arg("init").call));
  NodeId pwt = em.param(b, "pointwise", Shape{1, 1, shape[3], filters}, initSpec(*b.arg("init").call));
  NodeId d = depthwise(s, b, em, x, dwt, kh, kw, 1);
  NodeId y = em(OpKind::Conv2D, {d, pwt},
                ConvAttr{{1, 1}, {0, 0, 0, 0}}.attrs());
  return convFinish(s, b, em, y, filters);
}

// [batch, time, channels] as the one-row image [batch, 1, time, channels].
std::optional<NodeId> buildConv1D(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  const Shape shape = s.type(x).shape;
  int64_t k = b.integer("kernel"), filters = b.integer("filters");
  Emitter em(s, b.loc);
  NodeId w = em.param(b, "weight", Shape{k, shape[2], filters}, initSpec(*b.arg("init").call));
  NodeId image = em.use(s.reshape(x, {shape[0], 1, shape[1], shape[2]}, b.loc));
  NodeId w2 = em.use(s.reshape(w, {1, k, shape[2], filters}, b.loc));
  if (!em.ok()) return std::nullopt;
  int64_t st = b.integer("stride"), dl = b.integer("dilation");
  bool same = b.word("padding") == "same";
  std::vector<int64_t> pads = windowPads(same, 1, shape[1], 1, (k - 1) * dl + 1, 1, st);
  NodeId y = em(OpKind::Conv2D, {image, w2}, ConvAttr{{1, st}, pads, {1, dl}}.attrs());
  if (!em.ok()) return std::nullopt;
  const Shape ys = s.type(y).shape;
  y = em.use(s.reshape(y, {ys[0], ys[2], ys[3]}, b.loc));
  return convFinish(s, b, em, y, filters);
}

ParamSpec convActivation() { return spec::word("activation", spec::word("none"), activationChoices(), "activation"); }
ParamSpec convInit() { return spec::callable("init", Family::Initializer, spec::word("glorot_uniform")); }
ParamSpec convPadding() { return spec::word("padding", spec::word("same"), {"same", "valid"}, "padding"); }

}  // namespace

void addConvLayers(Registry& r) {
  const TensorReq image{DTypeReq::F32, 4, 4, "an input", "[batch, height, width, channels]"};
  const TensorReq sequence{DTypeReq::F32, 3, 3, "an input", "[batch, time, channels]"};
  const Range units = spec::between(1, kMaxUnits), window = spec::between(1, kMaxWindow);
  r.add(layer("conv1d",
              {spec::tensor("x", sequence), spec::integer("filters", spec::required(), units),
               spec::integer("kernel", spec::required(), window), spec::integer("stride", spec::num(1), window),
               convPadding(), spec::integer("dilation", spec::num(1), window), convActivation(),
               spec::boolean("bias", true), convInit()},
              buildConv1D, "Conv1D"));
  r.add(layer("depthwise_conv2d",
              {spec::tensor("x", image), spec::intOrPair("kernel", spec::required(), window),
               spec::integer("multiplier", spec::num(1), units), spec::intOrPair("stride", spec::num(1), window),
               convPadding(), spec::intOrPair("dilation", spec::num(1), window), convActivation(),
               spec::boolean("bias", true), convInit()},
              buildDepthwiseConv2D, "DepthwiseConv2D"));
  r.add(layer("separable_conv2d",
              {spec::tensor("x", image), spec::integer("filters", spec::required(), units),
               spec::intOrPair("kernel", spec::required(), window), spec::intOrPair("stride", spec::num(1), window),
               convPadding(), convActivation(), spec::boolean("bias", true), convInit()},
              buildSeparableConv2D, "SeparableConv2D"));
}

}  // namespace nnc::sema
