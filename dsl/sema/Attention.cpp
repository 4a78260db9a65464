// The transformer layers: layernorm and multi_head_attention (Keras' LayerNormalization over
// the last axis and MultiHeadAttention). Both expand into primitives of the IR; attention's
// scale, causal mask and softmax are one op (attention_softmax) with a fused kernel.
#include <cmath>

#include "compiler/ir/TypedAttrs.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

const InitSpec kAttentionGlorot{"glorot_uniform", {}};
const InitSpec kAttentionZeros{"zeros", {}};
const InitSpec kAttentionOnes{"ones", {}};

Attrs layerNormMeanAttrs(const Shape& s) {
  return AxesAttr{{static_cast<int64_t>(s.rank()) - 1}, true}.attrs();
}

// (x - mean) / sqrt(var + eps) * gamma + beta, mean and biased variance over the last axis.
// Written as primitives, so autodiff derives its gradient and fusion gathers the per-row
// sums and the elementwise work into few kernels.
std::optional<NodeId> buildLayerNorm(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  const Shape shape = s.type(x).shape;
  Shape c{shape.dims.back()};
  Emitter em(s, b.loc);
  NodeId gamma = em.param(b, "gamma", c, kAttentionOnes);
  NodeId beta = em.param(b, "beta", c, kAttentionZeros);
  NodeId mean = em(OpKind::ReduceMean, {x}, layerNormMeanAttrs(shape));
  NodeId centred = em(OpKind::Sub, {x, mean});
  NodeId var = em(OpKind::ReduceMean, {em(OpKind::Square, {centred})}, layerNormMeanAttrs(shape));
  NodeId stddev = em(OpKind::Sqrt, {em(OpKind::Add, {var, s.constant(b.number("eps"))})});
  NodeId normalised = em(OpKind::Div, {centred, stddev});
  NodeId y = em(OpKind::Add, {em(OpKind::Mul, {normalised, gamma}), beta});
  return em.result(y);
}

Attrs attentionMatMul(bool transposeB) {
  return MatMulTransposeAttr{false, transposeB}.attrs();
}

// x [batch, time, F] @ W [F, heads*d] + bias, as [batch, heads, time, d].
NodeId projectHeads(Sema& s, Emitter& em, const BoundCall& b, NodeId x, const std::string& role, int64_t heads,
                    int64_t keyDim) {
  const Shape shape = s.type(x).shape;
  NodeId w = em.param(b, role, Shape{shape[2], heads * keyDim}, kAttentionGlorot);
  NodeId bias = em.param(b, role + "_bias", Shape{heads * keyDim}, kAttentionZeros);
  NodeId projected = em(OpKind::Add, {em(OpKind::MatMul, {x, w}, attentionMatMul(false)), bias});
  if (!em.ok()) return kNoNode;
  NodeId split = em.use(s.reshape(projected, {shape[0], shape[1], heads, keyDim}, b.loc));
  return em(OpKind::Transpose, {split}, PermAttr{{0, 2, 1, 3}}.attrs());
}

// Keras' MultiHeadAttention with keys = values: per head, softmax(Q K^T / sqrt(d)) V (keys j > i
// masked for query i when causal), the heads concatenated and projected back to the query's
// features. The projections are matmuls over [batch * time, F]; the per-head products are
// batched matmuls over [batch, heads, ...].
std::optional<NodeId> buildMultiHeadAttention(Sema& s, const BoundCall& b) {
  NodeId query = b.tensor("query"), value = b.tensor("value");
  const Shape qs = s.type(query).shape, vs = s.type(value).shape;
  int64_t heads = b.integer("heads");
  if (qs[0] != vs[0]) {
    auto dim = [](int64_t d) { return d == kBatch ? std::string("batch") : std::to_string(d); };
    s.error(b.arg("value").loc, "multi_head_attention: query " + s.type(query).str() + " and value " +
                                    s.type(value).str() + " have different batch dimensions (" + dim(qs[0]) + " vs " +
                                    dim(vs[0]) + ")");
    return std::nullopt;
  }
  int64_t keyDim = b.integer("key_dim");
  if (!b.has("key_dim")) {
    // PyTorch's convention: the query's features are split evenly among the heads.
    if (qs[2] % heads != 0) {
      s.error(b.arg("heads").loc, "multi_head_attention: " + std::to_string(heads) + " heads do not divide the " +
                                      std::to_string(qs[2]) + " query features; give key_dim = d (each head's width)");
      return std::nullopt;
    }
    keyDim = qs[2] / heads;
  }
  if (static_cast<double>(heads) * static_cast<double>(keyDim) > kMaxUnits) {
    s.error(b.loc, "multi_head_attention: heads * key_dim = " + std::to_string(heads) + " * " +
                       std::to_string(keyDim) + " is too large");
    return std::nullopt;
  }
  Emitter em(s, b.loc);
  NodeId q = projectHeads(s, em, b, query, "query", heads, keyDim);
  NodeId k = projectHeads(s, em, b, value, "key", heads, keyDim);
  NodeId v = projectHeads(s, em, b, value, "value", heads, keyDim);
  NodeId scores = em(OpKind::MatMul, {q, k}, attentionMatMul(true));
  NodeId probs = em(OpKind::AttentionSoftmax, {scores},
                    AttentionAttr{1.0 / std::sqrt(static_cast<double>(keyDim)), b.flag("causal")}.attrs());
  NodeId mixed = em(OpKind::MatMul, {probs, v}, attentionMatMul(false));
  NodeId merged = em(OpKind::Transpose, {mixed}, PermAttr{{0, 2, 1, 3}}.attrs());
  if (!em.ok()) return std::nullopt;
  NodeId flat = em.use(s.reshape(merged, {qs[0], qs[1], heads * keyDim}, b.loc));
  NodeId wo = em.param(b, "output", Shape{heads * keyDim, qs[2]}, kAttentionGlorot);
  NodeId bo = em.param(b, "output_bias", Shape{qs[2]}, kAttentionZeros);
  NodeId y = em(OpKind::Add, {em(OpKind::MatMul, {flat, wo}, attentionMatMul(false)), bo});
  return em.result(y);
}

}  // namespace

void addAttentionLayers(Registry& r) {
  const TensorReq features{DTypeReq::F32, 1, -1, "an input", "[..., features]"};
  const TensorReq sequence{DTypeReq::F32, 3, 3, "a sequence", "[batch, time, features]"};
  r.add(layer("layernorm", {spec::tensor("x", features), spec::number("eps", spec::num(1e-5), spec::above(0))},
              buildLayerNorm, "LayerNormalization"));
  r.add(layer("multi_head_attention",
              {spec::tensor("query", sequence), spec::tensor("value", sequence),
               spec::integer("heads", spec::required(), spec::between(1, kMaxUnits)),
               spec::integer("key_dim", spec::unset(), spec::between(1, kMaxUnits)), spec::boolean("causal", false)},
              buildMultiHeadAttention, "MultiHeadAttention"));
}

}  // namespace nnc::sema
