// The gradient rules of the ops whose registry row (Ops.def) says Diff. Whether an op has a
// gradient, and why not, is its row's; this file holds only the rules.
//
// Conventions (documented in docs and relied on by gradcheck):
//  - relu, leaky_relu, elu, selu at 0 take the left-hand derivative's branch of the x > 0
//    test (relu'(0) = 0), as PyTorch does.
//  - maximum/minimum: the gradient goes to the larger/smaller operand; on a tie each operand
//    gets half of it (torch.maximum / torch.minimum).
//  - reduce_max: the gradient is shared equally among the positions equal to the maximum
//    (torch.amax; with distinct values it all goes to the argmax).
//  - abs'(0) = sign(0) = 0.
//  - pow: d/da a^b = b * a^(b-1) (0 where b == 0), d/db a^b = a^b * log(a) (0 where a == 0).
// Every gradient of a broadcasting op is summed back to its operand's shape (IRBuilder::sumTo).
#include "compiler/autodiff/GradRules.h"

#include <algorithm>
#include <cmath>

#include "compiler/ir/OpAttrs.h"
#include "compiler/ir/RecurrentCell.h"
#include "compiler/ir/ScalarMath.h"

namespace nnc {

namespace {

using Grads = std::vector<NodeId>;

using scalar::kSeluAlpha;
using scalar::kSeluScale;

NodeId operand(const GradInput& in, size_t i) { return in.node.inputs[i]; }

std::vector<int64_t> reductionAxes(const IRBuilder& b, const GradInput& in) {
  size_t rank = b.shape(operand(in, 0)).rank();
  std::vector<int64_t> axes;
  for (int64_t a : AxesAttr::of(in.node).axes) {
    int64_t n = normalizeAxis(a, rank);
    if (n >= 0) axes.push_back(n);
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

int64_t axisAttr(const IRBuilder& b, const GradInput& in) {
  return normalizeAxis(AxisAttr::of(in.node).axis, b.shape(operand(in, 0)).rank());
}

// The gradients of a two-operand broadcasting op, given g*d(out)/da and g*d(out)/db at the
// output's shape (computed only for wanted operands), summed back to the operand shapes.
template <class DA, class DB>
Grads binaryGrads(IRBuilder& b, const GradInput& in, DA da, DB db) {
  NodeId x = operand(in, 0), y = operand(in, 1);
  return {in.wanted[0] ? b.sumTo(da(), b.shape(x)) : kNoNode, in.wanted[1] ? b.sumTo(db(), b.shape(y)) : kNoNode};
}

// ---- one operand -------------------------------------------------------------------------
Grads neg(IRBuilder& b, const GradInput& in) { return {b.neg(in.grad)}; }
Grads exp(IRBuilder& b, const GradInput& in) { return {b.mul(in.grad, in.output)}; }
Grads log(IRBuilder& b, const GradInput& in) { return {b.div(in.grad, operand(in, 0))}; }
Grads sqrt(IRBuilder& b, const GradInput& in) { return {b.div(in.grad, b.mul(in.output, 2.0))}; }
Grads abs(IRBuilder& b, const GradInput& in) { return {b.mul(in.grad, b.op(OpKind::Sign, {operand(in, 0)}))}; }
Grads square(IRBuilder& b, const GradInput& in) { return {b.mul(in.grad, b.mul(operand(in, 0), 2.0))}; }
Grads erf(IRBuilder& b, const GradInput& in) {
  NodeId x = operand(in, 0);  // erf'(x) = 2/sqrt(pi) * exp(-x^2)
  return {b.mul(in.grad, b.mul(b.exp(b.neg(b.square(x))), 2.0 / std::sqrt(M_PI)))};
}
// The derivative on each side of 0, as a select on x > 0.
NodeId positiveSelect(IRBuilder& b, const GradInput& in, NodeId ifPositive, NodeId otherwise) {
  return b.select(b.greater(operand(in, 0), b.scalar(0)), ifPositive, otherwise);
}
// Tested on the output: relu(x) > 0 exactly when x > 0 (NaN and -0 included), and the output
// is kept for the next layer anyway, so the pre-activation need not be stored for the
// backward pass (issue 14: batchnorm's normalisation then writes one tensor, not two).
Grads relu(IRBuilder& b, const GradInput& in) {
  return {b.select(b.greater(in.output, b.scalar(0)), in.grad, b.scalar(0))};
}
Grads leakyRelu(IRBuilder& b, const GradInput& in) {
  return {positiveSelect(b, in, in.grad, b.mul(in.grad, alphaAttr(in.node)))};
}
Grads elu(IRBuilder& b, const GradInput& in) {  // x <= 0: alpha * exp(x)
  double alpha = alphaAttr(in.node);
  return {positiveSelect(b, in, in.grad, b.mul(in.grad, b.mul(b.exp(operand(in, 0)), alpha)))};
}
Grads selu(IRBuilder& b, const GradInput& in) {  // scale, or scale * alpha * exp(x)
  return {positiveSelect(b, in, b.mul(in.grad, kSeluScale),
                         b.mul(in.grad, b.mul(b.exp(operand(in, 0)), kSeluScale * kSeluAlpha)))};
}
Grads gelu(IRBuilder& b, const GradInput& in) {  // d(x Phi(x)) = Phi(x) + x phi(x)
  NodeId x = operand(in, 0);
  NodeId cdf = b.mul(b.add(b.op(OpKind::Erf, {b.mul(x, M_SQRT1_2)}), 1.0), 0.5);
  NodeId pdf = b.mul(b.exp(b.mul(b.square(x), -0.5)), 1.0 / std::sqrt(2.0 * M_PI));
  return {b.mul(in.grad, b.add(cdf, b.mul(x, pdf)))};
}
Grads sigmoid(IRBuilder& b, const GradInput& in) {  // y (1 - y)
  return {b.mul(in.grad, b.mul(in.output, b.sub(b.scalar(1), in.output)))};
}
Grads tanh(IRBuilder& b, const GradInput& in) {  // 1 - y^2
  return {b.mul(in.grad, b.sub(b.scalar(1), b.square(in.output)))};
}
Grads softplus(IRBuilder& b, const GradInput& in) { return {b.mul(in.grad, b.sigmoid(operand(in, 0)))}; }
// 1 strictly inside (lo, hi), 0 elsewhere (PyTorch's hardtanh / hardsigmoid backward).
NodeId inside(IRBuilder& b, NodeId x, double lo, double hi) {
  return b.mul(b.greater(x, b.scalar(lo)), b.greater(b.scalar(hi), x));
}
Grads relu6(IRBuilder& b, const GradInput& in) { return {b.mul(in.grad, inside(b, operand(in, 0), 0, 6))}; }
Grads silu(IRBuilder& b, const GradInput& in) {  // s (1 + x (1 - s)), s = sigmoid(x)
  NodeId x = operand(in, 0), s = b.sigmoid(x);
  return {b.mul(in.grad, b.mul(s, b.add(b.mul(x, b.sub(b.scalar(1), s)), 1.0)))};
}
Grads hardSigmoid(IRBuilder& b, const GradInput& in) {
  return {b.mul(in.grad, b.mul(inside(b, operand(in, 0), -3, 3), 1.0 / 6))};
}
Grads hardSwish(IRBuilder& b, const GradInput& in) {  // 0 below -3, x/3 + 1/2 up to 3, 1 above
  NodeId x = operand(in, 0);
  NodeId mid = b.add(b.mul(x, 1.0 / 3), 0.5);
  NodeId d = b.select(b.greater(x, b.scalar(3)), b.scalar(1), b.select(b.greater(b.scalar(-3), x), b.scalar(0), mid));
  return {b.mul(in.grad, d)};
}
Grads softsign(IRBuilder& b, const GradInput& in) {  // 1 / (1 + |x|)^2
  return {b.div(in.grad, b.square(b.add(b.op(OpKind::Abs, {operand(in, 0)}), 1.0)))};
}
Grads mish(IRBuilder& b, const GradInput& in) {  // t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x))
  NodeId x = operand(in, 0);
  NodeId t = b.op(OpKind::Tanh, {b.op(OpKind::Softplus, {x})});
  return {b.mul(in.grad, b.add(t, b.mul(b.mul(x, b.sigmoid(x)), b.sub(b.scalar(1), b.square(t)))))};
}
Grads sin(IRBuilder& b, const GradInput& in) { return {b.mul(in.grad, b.op(OpKind::Cos, {operand(in, 0)}))}; }
Grads cos(IRBuilder& b, const GradInput& in) { return {b.neg(b.mul(in.grad, b.op(OpKind::Sin, {operand(in, 0)})))}; }
Grads cast(IRBuilder& b, const GradInput& in) {
  bool floatToFloat = in.node.type.isFloat() && b.type(operand(in, 0)).isFloat();
  return {floatToFloat ? in.grad : kNoNode};  // integer results and operands carry none
}
// bf16 mixed precision: straight-through (the identity). The rounding pass runs after
// differentiation, so no training graph needs this today; a graph rounded before it would.
// The true derivative, 0 almost everywhere, would stop all learning, while the rounding only
// perturbs a value by at most 2^-9 of itself: the gradient passes as if it were not there,
// as quantisation-aware training does.
Grads roundBf16(IRBuilder&, const GradInput& in) { return {in.grad}; }

// ---- broadcasting ------------------------------------------------------------------------
Grads add(IRBuilder& b, const GradInput& in) {
  return binaryGrads(b, in, [&] { return in.grad; }, [&] { return in.grad; });
}
Grads sub(IRBuilder& b, const GradInput& in) {
  return binaryGrads(b, in, [&] { return in.grad; }, [&] { return b.neg(in.grad); });
}
Grads mul(IRBuilder& b, const GradInput& in) {
  return binaryGrads(
      b, in, [&] { return b.mul(in.grad, operand(in, 1)); }, [&] { return b.mul(in.grad, operand(in, 0)); });
}
Grads div(IRBuilder& b, const GradInput& in) {  // d/db a/b = -(a/b)/b
  return binaryGrads(
      b, in, [&] { return b.div(in.grad, operand(in, 1)); },
      [&] { return b.neg(b.mul(in.grad, b.div(in.output, operand(in, 1)))); });
}
Grads pow(IRBuilder& b, const GradInput& in) {
  NodeId x = operand(in, 0), e = operand(in, 1);
  return binaryGrads(
      b, in,
      [&] {
        NodeId d = b.mul(e, b.pow(x, b.sub(e, b.scalar(1))));
        return b.mul(in.grad, b.select(b.equal(e, b.scalar(0)), b.scalar(0), d));
      },
      [&] {
        NodeId d = b.mul(in.output, b.log(x));
        return b.mul(in.grad, b.select(b.equal(x, b.scalar(0)), b.scalar(0), d));
      });
}
// maximum (largerFirst) and minimum: weight 1 to the winner, 1/2 each on a tie.
Grads extremum(IRBuilder& b, const GradInput& in, bool maximum) {
  NodeId x = operand(in, 0), y = operand(in, 1);
  NodeId firstWins = maximum ? b.greater(x, y) : b.greater(y, x);
  NodeId wx = b.add(firstWins, b.mul(b.equal(x, y), 0.5));
  return binaryGrads(
      b, in, [&] { return b.mul(in.grad, wx); }, [&] { return b.mul(in.grad, b.sub(b.scalar(1), wx)); });
}
Grads maximum(IRBuilder& b, const GradInput& in) { return extremum(b, in, true); }
Grads minimum(IRBuilder& b, const GradInput& in) { return extremum(b, in, false); }
Grads select(IRBuilder& b, const GradInput& in) {
  NodeId c = operand(in, 0);
  NodeId zero = b.scalar(0);
  return {kNoNode,
          in.wanted[1] ? b.sumTo(b.select(c, in.grad, zero), b.shape(operand(in, 1))) : kNoNode,
          in.wanted[2] ? b.sumTo(b.select(c, zero, in.grad), b.shape(operand(in, 2))) : kNoNode};
}
Grads broadcastTo(IRBuilder& b, const GradInput& in) { return {b.sumTo(in.grad, b.shape(operand(in, 0)))}; }

// ---- reductions --------------------------------------------------------------------------
bool keepdims(const GradInput& in) { return AxesAttr::of(in.node).keepdims; }

Grads reduceSum(IRBuilder& b, const GradInput& in) {
  return {b.expandTo(in.grad, reductionAxes(b, in), keepdims(in), b.shape(operand(in, 0)))};
}
Grads reduceMean(IRBuilder& b, const GradInput& in) {
  std::vector<int64_t> axes = reductionAxes(b, in);
  NodeId x = operand(in, 0);
  return {b.expandTo(b.div(in.grad, b.reducedCount(x, axes)), axes, keepdims(in), b.shape(x))};
}
Grads reduceMax(IRBuilder& b, const GradInput& in) {
  std::vector<int64_t> axes = reductionAxes(b, in);
  NodeId x = operand(in, 0);
  Shape kept = IRBuilder::keptShape(b.shape(x), axes);
  NodeId mask = b.equal(x, b.reshape(in.output, kept));        // 1 at every maximum
  NodeId ties = b.reduceSum(mask, axes, true);                 // how many share it
  return {b.mul(mask, b.div(b.reshape(in.grad, kept), ties))};
}

// ---- data movement -----------------------------------------------------------------------
Grads reshape(IRBuilder& b, const GradInput& in) { return {b.reshape(in.grad, b.shape(operand(in, 0)))}; }
Grads transpose(IRBuilder& b, const GradInput& in) {
  std::vector<int64_t> perm = PermAttr::of(in.node).perm;
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inverse[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
  return {b.op(OpKind::Transpose, {in.grad}, PermAttr{inverse}.attrs())};
}
Grads concat(IRBuilder& b, const GradInput& in) {
  int64_t axis = axisAttr(b, in);
  Grads out;
  int64_t offset = 0;
  for (size_t i = 0; i < in.node.inputs.size(); ++i) {
    int64_t len = b.shape(operand(in, i))[static_cast<size_t>(axis)];
    out.push_back(in.wanted[i] ? b.op(OpKind::Slice, {in.grad}, SliceAttr{axis, offset, offset + len}.attrs())
                               : kNoNode);
    offset += len;
  }
  return out;
}
Grads slice(IRBuilder& b, const GradInput& in) {  // zeros on both sides of the slice
  const SliceAttr sl = SliceAttr::of(in.node);
  int64_t axis = normalizeAxis(sl.axis, b.shape(operand(in, 0)).rank());
  const Shape full = b.shape(operand(in, 0));
  int64_t begin = sl.begin, end = sl.end;
  std::vector<NodeId> parts;
  auto zeros = [&](int64_t len) {
    Shape s = full;
    s[static_cast<size_t>(axis)] = len;
    return b.fill(0, s);
  };
  if (begin > 0) parts.push_back(zeros(begin));
  parts.push_back(in.grad);
  if (end < full[static_cast<size_t>(axis)]) parts.push_back(zeros(full[static_cast<size_t>(axis)] - end));
  return {parts.size() == 1 ? in.grad : b.op(OpKind::Concat, parts, AxisAttr{axis}.attrs())};
}

// ---- products ----------------------------------------------------------------------------
// Swaps the last two axes.
NodeId transposeLast2(IRBuilder& b, NodeId x) {
  std::vector<int64_t> perm(b.shape(x).rank());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
  std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
  return b.op(OpKind::Transpose, {x}, PermAttr{perm}.attrs());
}
// C = op(a) @ op(b) with op = transpose or not.
//   dA = G B^T,  dB = A^T G (A = op(a), B = op(b)), then undo op() on each.
// When a has leading axes and b is a plain matrix [K, N] shared by all of them, b's
// gradient is the per-matrix product summed over the leading axes (batch included).
Grads matmul(IRBuilder& b, const GradInput& in) {
  NodeId a = operand(in, 0), w = operand(in, 1), g = in.grad;
  const MatMulTransposeAttr t = MatMulTransposeAttr::of(in.node);
  bool ta = t.transA, tb = t.transB;
  size_t ra = b.shape(a).rank(), rb = b.shape(w).rank();
  NodeId da = kNoNode, dw = kNoNode;
  if (in.wanted[0]) {
    if (!ta)
      da = b.matmul(g, w, false, !tb);  // G B^T
    else if (ra == rb)
      da = tb ? b.matmul(w, g, true, true) : b.matmul(w, g, false, true);  // (G B^T)^T = B G^T
    else
      da = transposeLast2(b, b.matmul(g, w, false, !tb));
  }
  if (in.wanted[1]) {
    // A^T G, or its transpose G^T A when b was transposed.
    if (!tb)
      dw = b.matmul(a, g, !ta, false);
    else
      dw = b.matmul(g, a, true, ta);
    if (rb == 2 && ra > 2) {
      std::vector<int64_t> leading;
      for (size_t i = 0; i + 2 < ra; ++i) leading.push_back(static_cast<int64_t>(i));
      dw = b.reduceSum(dw, leading, false);
    }
  }
  return {da, dw};
}
Grads conv2d(IRBuilder& b, const GradInput& in) {
  NodeId x = operand(in, 0), w = operand(in, 1);
  // Dilated and grouped convolutions: their adjoints take the same geometry, dilations and groups.
  const ConvAttr base = ConvAttr::of(in.node);
  NodeId dx = kNoNode, dw = kNoNode;
  if (in.wanted[0]) {
    const ConvGradInputAttr a{base, {{b.shape(x)[1], b.shape(x)[2]}}};
    dx = b.op(OpKind::Conv2DGradInput, {in.grad, w}, a.attrs());
  }
  if (in.wanted[1]) {
    const ConvGradFilterAttr a{base, {b.shape(w)[0], b.shape(w)[1]}};
    dw = b.op(OpKind::Conv2DGradFilter, {x, in.grad}, a.attrs());
  }
  return {dx, dw};
}
// conv2d_transpose's forward is conv2d_grad_input(x, w): the adjoint of conv2d with respect to
// its input. Its gradients are conv2d (for x) and conv2d_grad_filter (for w), with the roles of
// input and output gradient swapped; every geometry attribute but input_hw carries over.
Grads conv2dTranspose(IRBuilder& b, const GradInput& in) {
  NodeId x = operand(in, 0), w = operand(in, 1);
  const ConvAttr geometry = ConvAttr::of(in.node);
  NodeId dx = kNoNode, dw = kNoNode;
  if (in.wanted[0]) dx = b.op(OpKind::Conv2D, {in.grad, w}, geometry.attrs());
  if (in.wanted[1]) {
    const ConvGradFilterAttr a{geometry, {b.shape(w)[0], b.shape(w)[1]}};
    dw = b.op(OpKind::Conv2DGradFilter, {in.grad, x}, a.attrs());
  }
  return {dx, dw};
}
Grads maxPool(IRBuilder& b, const GradInput& in) {
  return {b.op(OpKind::MaxPoolGrad, {operand(in, 0), in.grad}, in.node.attrs)};
}
Grads avgPool(IRBuilder& b, const GradInput& in) {
  const Shape& x = b.shape(operand(in, 0));
  const WindowGradAttr a{WindowAttr::of(in.node), {{x[1], x[2]}}};
  return {b.op(OpKind::AvgPoolGrad, {in.grad}, a.attrs())};
}

// ---- upsample and pad: the gradient gathers each output cell back to its sources ----------
InputHwAttr inputHwOf(IRBuilder& b, const GradInput& in) {
  const Shape& x = b.shape(operand(in, 0));
  return InputHwAttr{{x[1], x[2]}};
}
Grads upsample(IRBuilder& b, const GradInput& in) {
  return {b.op(OpKind::UpsampleGrad, {in.grad}, ResampleGradAttr{ResampleAttr::of(in.node), inputHwOf(b, in)}.attrs())};
}
Grads pad(IRBuilder& b, const GradInput& in) {
  return {b.op(OpKind::PadGrad, {in.grad}, PadGradAttr{PadAttr::of(in.node), inputHwOf(b, in)}.attrs())};
}

// ---- normalised exponentials -------------------------------------------------------------
Grads softmax(IRBuilder& b, const GradInput& in) {  // y * (g - sum(g * y))
  NodeId y = in.output;
  NodeId s = b.reduceSum(b.mul(in.grad, y), {axisAttr(b, in)}, true);
  return {b.mul(y, b.sub(in.grad, s))};
}
Grads logSoftmax(IRBuilder& b, const GradInput& in) {  // g - softmax(x) * sum(g), softmax = exp(y)
  NodeId s = b.reduceSum(in.grad, {axisAttr(b, in)}, true);
  return {b.sub(in.grad, b.mul(b.exp(in.output), s))};
}

// ---- recurrences (compiler/ir/RecurrentCell.h) --------------------------------------------
// The reverse time loop (recurrence_grad) turns the gradient of every step's h into every
// step's gate gradients; the weights' gradients are then whole-sequence products and sums in
// the graph, never per-step ones: dU = sum over steps with a predecessor of h_prev^T gh, the
// recurrent bias's the sum of gh, and xp's is gx itself (its product with x is the input
// projection's own rule). Only the h columns of the saved states carry gradient: the other
// columns are read by the backward loop alone.
NodeId recurrentSlice(IRBuilder& b, NodeId x, int64_t axis, int64_t begin, int64_t end) {
  return b.op(OpKind::Slice, {x}, SliceAttr{axis, begin, end}.attrs());
}

// rnn: act'(p) for every step's pre-activation p, from the activation's own rule.
NodeId recurrentActivationDerivative(IRBuilder& b, const GradInput& in, const RecurrentCell& c) {
  const int64_t u = c.units;
  NodeId h = recurrentSlice(b, in.output, 2, 0, u), p = recurrentSlice(b, in.output, 2, u, 2 * u);
  NodeId ones = b.fill(1, b.shape(p));
  if (c.identity) return ones;
  const GradRule& rule = gradRule(c.activation);
  if (rule.kind != GradKind::Rule || !rule.fn) return b.fill(0, b.shape(p));
  GradInput act;
  act.node.op = c.activation;
  act.node.inputs = {p};
  act.node.type = b.type(p);
  act.node.attrs = AlphaAttr{RecurrentAttr::of(in.node).alpha}.attrs();
  act.output = h;
  act.grad = ones;
  act.wanted = {true};
  return rule.fn(b, act)[0];
}

Grads recurrence(IRBuilder& b, const GradInput& in) {
  const RecurrentCell c = *recurrentCellOf(in.node.attrs);
  const int64_t u = c.units, n = c.gateWidth(), steps = b.shape(in.output)[1];
  NodeId w = operand(in, 1);
  std::vector<NodeId> operands{recurrentSlice(b, in.grad, 2, 0, u), in.output, w};
  if (c.kind == RecurrentCellKind::Rnn) operands.push_back(recurrentActivationDerivative(b, in, c));
  NodeId g = b.op(OpKind::RecurrenceGrad, operands, in.node.attrs);
  bool gru = c.kind == RecurrentCellKind::Gru;
  NodeId gx = gru ? recurrentSlice(b, g, 2, 0, n) : g;
  NodeId gh = gru ? recurrentSlice(b, g, 2, n, 2 * n) : g;
  Grads out(in.node.inputs.size(), kNoNode);
  if (in.wanted[0]) out[0] = gx;
  if (in.wanted[1]) {
    if (steps == 1) {
      out[1] = b.fill(0, b.shape(w));
    } else {
      NodeId h = recurrentSlice(b, in.output, 2, 0, u);
      NodeId prev = c.reverse ? recurrentSlice(b, h, 1, 1, steps) : recurrentSlice(b, h, 1, 0, steps - 1);
      NodeId next = c.reverse ? recurrentSlice(b, gh, 1, 0, steps - 1) : recurrentSlice(b, gh, 1, 1, steps);
      out[1] = b.reduceSum(b.matmul(prev, next, true, false), {0}, false);
    }
  }
  if (gru && in.wanted[2]) out[2] = b.reduceSum(gh, {0, 1}, false);
  return out;
}

// multi_head_attention's fused softmax: its own fused backward kernel, from the output.
Grads attentionSoftmax(IRBuilder& b, const GradInput& in) {
  return {b.op(OpKind::AttentionSoftmaxGrad, {in.output, in.grad}, in.node.attrs)};
}

// ---- embeddings (issue 13) ---------------------------------------------------------------
// The table's gradient is dy's rows summed into the rows the ids name; the ids are integers.
Grads embeddingLookup(IRBuilder& b, const GradInput& in) {
  NodeId table = operand(in, 0);
  return {b.op(OpKind::EmbeddingGrad, {in.grad, operand(in, 1)}, DepthAttr{b.shape(table)[0]}.attrs()), kNoNode};
}

// ---- augmentation (compiler/ir/Augment.h) -------------------------------------------------
// The same draws (operands step and first_row, attributes seed and salt) moved back: a flip
// is a symmetric permutation, its own transpose; a translation's transpose is the opposite
// shift, with zero fill for what came from outside the image.
Grads augmentImages(IRBuilder& b, const GradInput& in) {
  AugmentAttr aug = AugmentAttr::of(in.node);
  if (aug.translation()) aug.inverse = !aug.inverse;
  const Attrs a = aug.attrs();
  std::vector<NodeId> operands = in.node.inputs;
  operands[0] = in.grad;
  Grads g(operands.size(), kNoNode);
  g[0] = b.op(OpKind::AugmentImages, operands, a);
  return g;
}

// ---- the table: the rule of every op whose registry row says Diff -------------------------
struct RuleRow {
  OpKind op;
  GradFn fn;
};

constexpr RuleRow kRules[] = {
    {OpKind::Neg, neg},
    {OpKind::Exp, exp},
    {OpKind::Log, log},
    {OpKind::Sqrt, sqrt},
    {OpKind::Abs, abs},
    {OpKind::Square, square},
    {OpKind::Erf, erf},
    {OpKind::Relu, relu},
    {OpKind::LeakyRelu, leakyRelu},
    {OpKind::Elu, elu},
    {OpKind::Selu, selu},
    {OpKind::Gelu, gelu},
    {OpKind::Sigmoid, sigmoid},
    {OpKind::Tanh, tanh},
    {OpKind::Softplus, softplus},
    {OpKind::Relu6, relu6},
    {OpKind::Silu, silu},
    {OpKind::HardSigmoid, hardSigmoid},
    {OpKind::HardSwish, hardSwish},
    {OpKind::Softsign, softsign},
    {OpKind::Mish, mish},
    {OpKind::Sin, sin},
    {OpKind::Cos, cos},
    {OpKind::RoundBf16, roundBf16},  // bf16 mixed precision
    {OpKind::Cast, cast},
    {OpKind::Add, add},
    {OpKind::Sub, sub},
    {OpKind::Mul, mul},
    {OpKind::Div, div},
    {OpKind::Pow, pow},
    {OpKind::Maximum, maximum},
    {OpKind::Minimum, minimum},
    {OpKind::Select, select},
    {OpKind::BroadcastTo, broadcastTo},
    {OpKind::ReduceSum, reduceSum},
    {OpKind::ReduceMean, reduceMean},
    {OpKind::ReduceMax, reduceMax},
    {OpKind::Reshape, reshape},
    {OpKind::Transpose, transpose},
    {OpKind::Concat, concat},
    {OpKind::Slice, slice},
    {OpKind::MatMul, matmul},
    {OpKind::Conv2D, conv2d},
    {OpKind::Recurrence, recurrence},
    {OpKind::Conv2DGradInput, conv2dTranspose},
    {OpKind::MaxPool, maxPool},
    {OpKind::AvgPool, avgPool},
    {OpKind::Upsample, upsample},
    {OpKind::Pad, pad},
    {OpKind::Softmax, softmax},
    {OpKind::LogSoftmax, logSoftmax},
    {OpKind::AttentionSoftmax, attentionSoftmax},
    {OpKind::Embedding, embeddingLookup},
    {OpKind::AugmentImages, augmentImages},
};

std::vector<GradRule> makeTable() {
  std::vector<GradRule> table;
  for (int i = 0; i < numOpKinds(); ++i) {
    const OpInfo& info = opInfo(static_cast<OpKind>(i));
    GradFn fn = nullptr;
    for (const RuleRow& r : kRules)
      if (r.op == info.kind) fn = r.fn;
    table.push_back({info.kind, info.grad, fn, info.noGradWhy});
  }
  return table;
}

}  // namespace

const std::vector<GradRule>& gradRuleTable() {
  static const std::vector<GradRule> table = makeTable();
  return table;
}

const GradRule& gradRule(OpKind op) { return gradRuleTable()[static_cast<size_t>(op)]; }

bool gradFlowsInto(const Node& n, size_t index) {
  const GradRule& r = gradRule(n.op);
  if (r.kind == GradKind::Constant) return false;
  if (n.op == OpKind::Select && index == 0) return false;
  if (n.op == OpKind::Embedding && index == 1) return false;  // the ids
  return true;
}

}  // namespace nnc
