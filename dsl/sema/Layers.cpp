// Layers that create parameters (dense, conv2d, maxout, batchnorm) and dropout. Each expands
// into primitives of the IR; parameters are named "<layer name>.<suffix>" (Builders.h).
#include "compiler/ir/TypedAttrs.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

const InitSpec kZeros{"zeros", {}};
const InitSpec kOnes{"ones", {}};

Range unitsRange() { return spec::between(1, kMaxUnits); }

ParamSpec activationParam(const char* def) {
  return spec::word("activation", spec::word(def), activationChoices(), "activation");
}

std::optional<NodeId> buildDense(Sema& s, const BoundCall& b) {
  std::optional<NodeId> y =
      affine(s, b, b.tensor("x"), b.integer("units"), b.flag("bias"), initSpec(*b.arg("init").call));
  if (!y) return std::nullopt;
  return s.activation(b.word("activation"), *y, b.loc);
}

std::optional<NodeId> buildConv2D(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  const Shape shape = s.type(x).shape;
  auto [kh, kw] = b.pair("kernel");
  int64_t filters = b.integer("filters"), groups = b.integer("groups");
  Emitter em(s, b.loc);
  // `groups` that does not divide the channels: the shape rule's message, at the call.
  int64_t perGroup = shape[3] % groups == 0 ? shape[3] / groups : shape[3];
  NodeId w = em.param(b, "weight", Shape{kh, kw, perGroup, filters}, initSpec(*b.arg("init").call));
  NodeId y = em(OpKind::Conv2D, {x, w}, convAttrs(b, shape, kh, kw, groups));
  if (b.flag("bias")) y = em(OpKind::Add, {y, em.param(b, "bias", Shape{filters}, kZeros)});
  if (!em.ok()) return std::nullopt;
  return s.activation(b.word("activation"), y, b.loc);
}

// Dense to units * pieces features, then the max of each run of `pieces` consecutive ones.
std::optional<NodeId> buildMaxout(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  int64_t units = b.integer("units"), pieces = b.integer("pieces");
  std::optional<NodeId> y = affine(s, b, x, units * pieces, b.flag("bias"), initSpec(*b.arg("init").call));
  if (!y) return std::nullopt;
  std::vector<int64_t> dims = s.type(x).shape.dims;
  dims.back() = units;
  dims.push_back(pieces);
  Emitter em(s, b.loc);
  NodeId runs = em.use(s.reshape(*y, dims, b.loc));
  NodeId out = em(OpKind::ReduceMax, {runs},
                  AxesAttr{{static_cast<int64_t>(dims.size()) - 1}}.attrs());
  return em.result(out);
}

// The mode-dependent BatchNorm op over the last axis; the training-graph builder expands it.
std::optional<NodeId> buildBatchNorm(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  Shape c{s.type(x).shape.dims.back()};
  Emitter em(s, b.loc);
  NodeId gamma = em.param(b, "gamma", c, kOnes);
  NodeId beta = em.param(b, "beta", c, kZeros);
  NodeId mean = em.param(b, "running_mean", c, kZeros, OpKind::State);
  NodeId var = em.param(b, "running_var", c, kOnes, OpKind::State);
  NodeId y = em(OpKind::BatchNorm, {x, gamma, beta, mean, var},
                BatchNormAttr{b.number("momentum"), b.number("eps")}.attrs());
  return em.result(y);
}

std::optional<NodeId> buildDropout(Sema& s, const BoundCall& b) {
  return s.emit(OpKind::Dropout, {b.tensor("x")}, RateAttr{b.number("rate")}.attrs(), b.loc);
}

}  // namespace

Callable layer(const char* name, std::vector<ParamSpec> params, TensorBuilder build, const char* kind) {
  Callable c;
  c.name = name;
  c.params = std::move(params);
  c.build = build;
  c.createsParams = true;
  c.summaryKind = kind;
  return c;
}

std::optional<NodeId> layerParam(Sema& s, const BoundCall& layer, const std::string& suffix, const Shape& shape,
                                 const InitSpec& init, OpKind kind) {
  return s.createLeaf(kind, layer.layerName + "." + suffix, shape, init.name, init.args, layer.loc);
}

NodeId Emitter::param(const BoundCall& layer, const std::string& suffix, const Shape& shape, const InitSpec& init,
                      OpKind kind) {
  if (!ok_) return kNoNode;
  return use(layerParam(s_, layer, suffix, shape, init, kind));
}

std::optional<NodeId> affine(Sema& s, const BoundCall& layer, NodeId x, int64_t units, bool bias,
                             const InitSpec& init) {
  int64_t in = s.type(x).shape.dims.back();
  Emitter em(s, layer.loc);
  NodeId w = em.param(layer, "weight", Shape{in, units}, init);
  NodeId y = em(OpKind::MatMul, {x, w}, MatMulTransposeAttr{}.attrs());
  if (bias) y = em(OpKind::Add, {y, em.param(layer, "bias", Shape{units}, kZeros)});
  return em.result(y);
}

void addLayers(Registry& r) {
  const TensorReq features{DTypeReq::F32, 2, -1, "an input", "[batch, ..., features]"};
  const TensorReq image{DTypeReq::F32, 4, 4, "an input", "[batch, height, width, channels]"};
  auto init = [] { return spec::callable("init", Family::Initializer, spec::word("glorot_uniform")); };
  r.add(layer("dense",
              {spec::tensor("x", features), spec::integer("units", spec::required(), unitsRange()),
               activationParam("none"), spec::boolean("bias", true), init()},
              buildDense, "Dense"));
  r.add(layer("conv2d",
              {spec::tensor("x", image), spec::integer("filters", spec::required(), unitsRange()),
               spec::intOrPair("kernel", spec::required(), spec::between(1, kMaxWindow)),
               spec::intOrPair("stride", spec::num(1), spec::between(1, kMaxWindow)),
               spec::word("padding", spec::word("same"), {"same", "valid"}, "padding"), activationParam("none"),
               spec::boolean("bias", true), init(),
               // dilated and grouped convolutions
               spec::intOrPair("dilation", spec::num(1), spec::between(1, kMaxWindow)),
               spec::integer("groups", spec::num(1), unitsRange())},
              buildConv2D, "Conv2D"));
  r.add(layer("maxout",
              {spec::tensor("x", features), spec::integer("units", spec::required(), unitsRange()),
               spec::integer("pieces", spec::required(), spec::between(1, kMaxWindow)), spec::boolean("bias", true),
               init()},
              buildMaxout, "Maxout"));
  r.add(layer("batchnorm",
              {spec::tensor("x", features), spec::number("momentum", spec::num(0.99), spec::between(0, 1)),
               spec::number("eps", spec::num(1e-3), spec::above(0))},
              buildBatchNorm, "BatchNormalization"));
  Callable dropout;
  dropout.name = "dropout";
  dropout.params = {spec::tensor("x"), spec::number("rate", spec::required(), spec::between(0, 1, true))};
  dropout.build = buildDropout;
  dropout.summaryKind = "Dropout";
  r.add(std::move(dropout));
}

}  // namespace nnc::sema
