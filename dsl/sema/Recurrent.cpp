// Recurrent layers (rnn, lstm, gru) over x: [batch, time, features]. The input projection of
// every step is one MatMul ([batch, time, F] @ [F, gates * units] + bias); the time loop is
// one `recurrence` op (compiler/ir/RecurrentCell.h), a loop in generated code over a cell
// compiled once, so the graph does not grow with the number of steps. The initial state is
// zero. `bidirectional = true` adds a second set of parameters (suffix `_reverse`) whose loop
// runs from the last step to the first; the two states are concatenated on the last axis,
// each step's backward state at its own step (PyTorch's layout).
//
// Parameter initialisation: w_input and w_recurrent glorot_uniform (Keras uses orthogonal
// for the recurrent matrix; glorot keeps the initializer set small), biases zeros (PyTorch
// and Keras without unit_forget_bias agree on a zero start).
#include "compiler/ir/RecurrentCell.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

const InitSpec kGlorot{"glorot_uniform", {}};
const InitSpec kZeros{"zeros", {}};

Attrs recurrentSliceAttrs(int64_t axis, int64_t begin, int64_t end) {
  return SliceAttr{axis, begin, end}.attrs();
}

// One direction of the layer: its parameters, its loop, and its h as [batch, time, units]
// or, without `sequences`, the state after the last step it visits ([batch, units]).
NodeId recurrentDirection(Sema& s, const BoundCall& b, Emitter& em, RecurrentAttr attrs, bool reverse) {
  const RecurrentCell cell = *recurrentCellOf(attrs.attrs());
  const std::string suffix = reverse ? "_reverse" : "";
  NodeId x = b.tensor("x");
  const Shape shape = s.type(x).shape;
  const int64_t steps = shape[1], features = shape[2], u = cell.units, width = cell.gateWidth();
  NodeId wi = em.param(b, "w_input" + suffix, Shape{features, width}, kGlorot);
  NodeId wr = em.param(b, "w_recurrent" + suffix, Shape{u, width}, kGlorot);
  NodeId bias = em.param(b, "bias" + suffix, Shape{width}, kZeros);
  std::vector<NodeId> operands;
  operands.push_back(em(OpKind::Add, {em(OpKind::MatMul, {x, wi}, MatMulTransposeAttr{}.attrs()), bias}));
  operands.push_back(wr);
  if (cell.kind == RecurrentCellKind::Gru) operands.push_back(em.param(b, "recurrent_bias" + suffix, Shape{width}, kZeros));
  attrs.reverse = reverse;
  NodeId saved = em(OpKind::Recurrence, operands, attrs.attrs());
  NodeId h = em(OpKind::Slice, {saved}, recurrentSliceAttrs(2, 0, u));
  if (b.flag("sequences") || !em.ok()) return h;
  const int64_t last = reverse ? 0 : steps - 1;
  NodeId step = em(OpKind::Slice, {h}, recurrentSliceAttrs(1, last, last + 1));
  return em(OpKind::Reshape, {step}, ShapeAttr{{shape[0], u}}.attrs());
}

std::optional<NodeId> buildRecurrent(Sema& s, const BoundCall& b, const char* cellName) {
  RecurrentAttr attrs;
  attrs.cell = cellName;
  attrs.units = b.integer("units");
  if (std::string(cellName) == "rnn") attrs.activation = b.word("activation");
  std::string why;
  if (!recurrentCellOf(attrs.attrs(), &why)) {
    // Only an rnn's activation can be refused: the loop applies it element by element.
    s.error(b.loc, std::string(cellName) + ": activation '" + b.word("activation") +
                       "' is not elementwise; a recurrence needs one of the elementwise activations or none");
    return std::nullopt;
  }
  // The loop's code does not grow with the steps; the limit keeps a typo (a million steps)
  // from turning into an exhausted machine.
  const int64_t steps = s.type(b.tensor("x")).shape[1];
  if (steps > s.limits().maxTimeSteps) {
    s.error(b.loc, std::string(cellName) + ": the time axis of " + s.type(b.tensor("x")).str() + " has " +
                       std::to_string(steps) + " steps; the limit is " + std::to_string(s.limits().maxTimeSteps) +
                       " (--max-time-steps raises it)");
    return std::nullopt;
  }
  Emitter em(s, b.loc);
  NodeId forward = recurrentDirection(s, b, em, attrs, false);
  if (!b.flag("bidirectional")) return em.result(forward);
  NodeId backward = recurrentDirection(s, b, em, attrs, true);
  return em.result(em(OpKind::Concat, {forward, backward}, AxisAttr{-1}.attrs()));
}

std::optional<NodeId> buildRnn(Sema& s, const BoundCall& b) { return buildRecurrent(s, b, "rnn"); }
// Gates in the order input, forget, cell, output (Keras and PyTorch):
//   i, f, o = sigmoid(.), g = tanh(.), c = f * c + i * g, h = o * tanh(c).
std::optional<NodeId> buildLstm(Sema& s, const BoundCall& b) { return buildRecurrent(s, b, "lstm"); }
// Gates in the order reset, update, new (PyTorch's nn.GRU, Keras' reset_after = true):
//   r, z = sigmoid(x W + b + h U + c), n = tanh(x W_n + b_n + r * (h U_n + c_n)),
//   h' = (1 - z) * n + z * h.
std::optional<NodeId> buildGru(Sema& s, const BoundCall& b) { return buildRecurrent(s, b, "gru"); }

}  // namespace

void addRecurrentLayers(Registry& r) {
  const TensorReq sequence{DTypeReq::F32, 3, 3, "an input", "[batch, time, features]"};
  const Range units = spec::between(1, kMaxUnits);
  r.add(layer("rnn",
              {spec::tensor("x", sequence), spec::integer("units", spec::required(), units),
               spec::word("activation", spec::word("tanh"), activationChoices(), "activation"),
               spec::boolean("sequences", false), spec::boolean("bidirectional", false)},
              buildRnn, "SimpleRNN"));
  r.add(layer("lstm",
              {spec::tensor("x", sequence), spec::integer("units", spec::required(), units),
               spec::boolean("sequences", false), spec::boolean("bidirectional", false)},
              buildLstm, "LSTM"));
  r.add(layer("gru",
              {spec::tensor("x", sequence), spec::integer("units", spec::required(), units),
               spec::boolean("sequences", false), spec::boolean("bidirectional", false)},
              buildGru, "GRU"));
}

}  // namespace nnc::sema
