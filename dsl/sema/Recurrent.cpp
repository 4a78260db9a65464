// Recurrent layers over x: [batch, time, features], unrolled over the static time axis.
// The input projection of every step is one MatMul ([batch, time, F] @ [F, units]); each
// step then slices its [batch, 1, units] row and adds the recurrent term h @ w_recurrent.
// The initial state is zero, so step 0 has no recurrent term.
//
// Parameter initialisation: w_input and w_recurrent glorot_uniform (Keras uses orthogonal
// for the recurrent matrix; glorot keeps the initializer set small), bias zeros (PyTorch
// and Keras without unit_forget_bias agree on a zero start).
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

const InitSpec kGlorot{"glorot_uniform", {}};
const InitSpec kZeros{"zeros", {}};

struct Unroll {
  NodeId projected;  // x @ w_input + bias: [batch, time, gates * units]
  NodeId recurrent;  // w_recurrent: [units, gates * units]
  int64_t steps;
};

std::optional<Unroll> prepare(Sema& s, const BoundCall& b, int64_t gates) {
  NodeId x = b.tensor("x");
  const Shape shape = s.type(x).shape;
  int64_t steps = shape[1], features = shape[2], width = gates * b.integer("units");
  // Unrolling makes a few nodes per step; beyond the limit the graph would be unreasonably large.
  if (steps > s.limits().maxTimeSteps) {
    s.error(b.loc, b.callee->name + ": the time axis of " + s.type(x).str() + " has " + std::to_string(steps) +
                       " steps; at most " + std::to_string(s.limits().maxTimeSteps) + " are unrolled");
    return std::nullopt;
  }
  Emitter em(s, b.loc);
  NodeId wi = em.param(b, "w_input", Shape{features, width}, kGlorot);
  NodeId wr = em.param(b, "w_recurrent", Shape{b.integer("units"), width}, kGlorot);
  NodeId bias = em.param(b, "bias", Shape{width}, kZeros);
  NodeId xw = em(OpKind::MatMul, {x, wi}, Attrs{{"transpose_a", int64_t(0)}, {"transpose_b", int64_t(0)}});
  NodeId projected = em(OpKind::Add, {xw, bias});
  if (!em.ok()) return std::nullopt;
  return Unroll{projected, wr, steps};
}

Attrs sliceAttrs(int64_t axis, int64_t begin, int64_t end) {
  return Attrs{{"axis", axis}, {"begin", begin}, {"end", end}};
}

Attrs matmulAttrs() { return Attrs{{"transpose_a", int64_t(0)}, {"transpose_b", int64_t(0)}}; }

// The last state as [batch, units], or every state as [batch, time, units].
std::optional<NodeId> finish(Sema& s, const BoundCall& b, Emitter& em, const std::vector<NodeId>& states) {
  if (!em.ok()) return std::nullopt;
  if (b.flag("sequences")) return em.result(states.size() == 1 ? states[0] : em(OpKind::Concat, states, Attrs{{"axis", int64_t(1)}}));
  const Shape last = s.type(states.back()).shape;
  return s.reshape(states.back(), {last[0], last[2]}, b.loc);
}

std::optional<NodeId> buildRnn(Sema& s, const BoundCall& b) {
  std::optional<Unroll> u = prepare(s, b, 1);
  if (!u) return std::nullopt;
  Emitter em(s, b.loc);
  std::vector<NodeId> states;
  NodeId h = kNoNode;
  for (int64_t t = 0; t < u->steps && em.ok(); ++t) {
    NodeId pre = em(OpKind::Slice, {u->projected}, sliceAttrs(1, t, t + 1));  // [batch, 1, units]
    if (t > 0) pre = em(OpKind::Add, {pre, em(OpKind::MatMul, {h, u->recurrent}, matmulAttrs())});
    if (!em.ok()) break;
    h = em.use(s.activation(b.word("activation"), pre, b.loc));
    states.push_back(h);
  }
  return finish(s, b, em, states);
}

// Gates in the order input, forget, cell, output (Keras and PyTorch):
//   i, f, o = sigmoid(.), g = tanh(.), c = f * c + i * g, h = o * tanh(c).
std::optional<NodeId> buildLstm(Sema& s, const BoundCall& b) {
  std::optional<Unroll> u = prepare(s, b, 4);
  if (!u) return std::nullopt;
  const int64_t n = b.integer("units");
  Emitter em(s, b.loc);
  std::vector<NodeId> states;
  NodeId h = kNoNode, c = kNoNode;
  for (int64_t t = 0; t < u->steps && em.ok(); ++t) {
    NodeId z = em(OpKind::Slice, {u->projected}, sliceAttrs(1, t, t + 1));  // [batch, 1, 4 * units]
    if (t > 0) z = em(OpKind::Add, {z, em(OpKind::MatMul, {h, u->recurrent}, matmulAttrs())});
    auto gate = [&](int64_t k, OpKind act) { return em(act, {em(OpKind::Slice, {z}, sliceAttrs(2, k * n, (k + 1) * n))}); };
    NodeId i = gate(0, OpKind::Sigmoid), f = gate(1, OpKind::Sigmoid), g = gate(2, OpKind::Tanh),
           o = gate(3, OpKind::Sigmoid);
    NodeId ig = em(OpKind::Mul, {i, g});
    c = t == 0 ? ig : em(OpKind::Add, {em(OpKind::Mul, {f, c}), ig});
    h = em(OpKind::Mul, {o, em(OpKind::Tanh, {c})});
    states.push_back(h);
  }
  return finish(s, b, em, states);
}

}  // namespace

void addRecurrentLayers(Registry& r) {
  const TensorReq sequence{DTypeReq::F32, 3, 3, "an input", "[batch, time, features]"};
  const Range units = spec::between(1, kMaxUnits);
  r.add(layer("rnn",
              {spec::tensor("x", sequence), spec::integer("units", spec::required(), units),
               spec::word("activation", spec::word("tanh"), activationChoices(), "activation"),
               spec::boolean("sequences", false)},
              buildRnn, "SimpleRNN"));
  r.add(layer("lstm",
              {spec::tensor("x", sequence), spec::integer("units", spec::required(), units),
               spec::boolean("sequences", false)},
              buildLstm, "LSTM"));
}

}  // namespace nnc::sema
