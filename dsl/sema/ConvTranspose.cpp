// conv2d_transpose: Keras' Conv2DTranspose, the gradient of conv2d with respect to its input.
// It is the IR's conv2d_grad_input applied to x, with the weight [kh, kw, filters, in] read as
// the filter of a conv2d from `filters` channels to `in`. `same` gives in * stride outputs (the
// pads of a `same` conv2d from that size back to `in`, extra cell at the bottom/right); `valid`
// gives (in - 1) * stride + kernel.
#include "compiler/ir/TypedAttrs.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

std::optional<NodeId> buildConv2DTranspose(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  const Shape shape = s.type(x).shape;
  auto [kh, kw] = b.pair("kernel");
  auto [sh, sw] = b.pair("stride");
  const int64_t filters = b.integer("filters");
  const bool same = b.word("padding") == "same";
  const int64_t outH = same ? shape[1] * sh : (shape[1] - 1) * sh + kh;
  const int64_t outW = same ? shape[2] * sw : (shape[2] - 1) * sw + kw;
  Emitter em(s, b.loc);
  NodeId w = em.param(b, "weight", Shape{kh, kw, filters, shape[3]}, initSpec(*b.arg("init").call));
  NodeId y = em(OpKind::Conv2DGradInput, {x, w},
                ConvGradInputAttr{{{sh, sw}, windowPads(same, outH, outW, kh, kw, sh, sw)}, {{outH, outW}}}.attrs());
  if (b.flag("bias")) y = em(OpKind::Add, {y, em.param(b, "bias", Shape{filters}, InitSpec{"zeros", {}})});
  if (!em.ok()) return std::nullopt;
  return s.activation(b.word("activation"), y, b.loc);
}

}  // namespace

void addTransposedConvLayers(Registry& r) {
  const TensorReq image{DTypeReq::F32, 4, 4, "an input", "[batch, height, width, channels]"};
  r.add(layer("conv2d_transpose",
              {spec::tensor("x", image), spec::integer("filters", spec::required(), spec::between(1, kMaxUnits)),
               spec::intOrPair("kernel", spec::required(), spec::between(1, kMaxWindow)),
               spec::intOrPair("stride", spec::num(1), spec::between(1, kMaxWindow)),
               spec::word("padding", spec::word("same"), {"same", "valid"}, "padding"),
               spec::word("activation", spec::word("none"), activationChoices(), "activation"),
               spec::boolean("bias", true),
               spec::callable("init", Family::Initializer, spec::word("glorot_uniform"))},
              buildConv2DTranspose, "Conv2DTranspose"));
}

}  // namespace nnc::sema
