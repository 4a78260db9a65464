// ONNX's recurrent layers (LSTM, GRU, RNN) on nnc's `recurrence` op (compiler/ir/RecurrentCell.h),
// and the rewrite that lets PyTorch's batch_first exports keep the batch as the first dimension.
//
// One `recurrence` per direction, as the `.nn` layers build it (dsl/sema/Recurrent.cpp): the
// input projection of every step is one MatMul in the graph, the loop is the op. The file's
// W [dirs, gates*H, I], R [dirs, gates*H, H] and B [dirs, 2*gates*H] stay the parameters,
// under their own names: the slices, gate reordering and transposes that turn them into nnc's
// operands are graph ops, so gradients reach the initializers. Gate orders: ONNX LSTM i,o,f,c
// (nnc i,f,g,o); ONNX GRU z,r,h (nnc r,z,n). nnc's GRU is PyTorch's (linear_before_reset = 1).
//
// What the recurrence does not express is refused, naming the node: a nonzero initial state
// (the loop starts from zeros), peepholes, clip, input_forget, activations other than the
// defaults (an RNN may use any of nnc's elementwise activations), sequence_lens with
// unequal lengths, and GRU's linear_before_reset = 0.
#include <algorithm>
#include <cctype>

#include "compiler/ir/RecurrentCell.h"
#include "compiler/ir/TypedAttrs.h"
#include "compiler/onnx/OnnxContext.h"

namespace nnc::onnximport {
namespace {

// Keeps gates * hidden_size and the weights' shapes far from overflow (the loop's own limit
// on units is lower: compiler/codegen/kernels/EmitRecurrence.cpp).
constexpr int64_t kOnnxRecurrentMaxUnits = int64_t(1) << 20;

struct OnnxRecurrentSpec {
  const char* cell;                     // nnc's cell name
  int64_t gates;
  std::vector<int64_t> gateOrder;       // the ONNX block that becomes nnc's k-th gate
  std::vector<std::string> activations; // ONNX's defaults, per direction
};

const OnnxRecurrentSpec& onnxRecurrentSpec(const std::string& op) {
  static const OnnxRecurrentSpec lstm{"lstm", 4, {0, 2, 3, 1}, {"sigmoid", "tanh", "tanh"}};
  static const OnnxRecurrentSpec gru{"gru", 3, {1, 0, 2}, {"sigmoid", "tanh"}};
  static const OnnxRecurrentSpec rnn{"rnn", 1, {0}, {"tanh"}};
  return op == "LSTM" ? lstm : op == "GRU" ? gru : rnn;
}

std::string recurrentLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Result<NodeId> recurrentSlice(ImportContext& ctx, NodeId x, int64_t axis, int64_t b, int64_t e) {
  if (b == 0 && e == ctx.shape(x)[size_t(axis)]) return x;
  return ctx.op(OpKind::Slice, {x}, SliceAttr{axis, b, e}.attrs());
}

// Blocks of `width` along `axis` put in nnc's gate order.
Result<NodeId> recurrentReorderGates(ImportContext& ctx, NodeId x, int64_t axis, int64_t width,
                                     const std::vector<int64_t>& order) {
  bool identity = true;
  for (size_t k = 0; k < order.size(); ++k) identity = identity && order[k] == static_cast<int64_t>(k);
  if (identity) return x;
  std::vector<NodeId> blocks;
  for (int64_t block : order) {
    TRY_NODE(part, recurrentSlice(ctx, x, axis, block * width, (block + 1) * width));
    blocks.push_back(part);
  }
  return ctx.op(OpKind::Concat, blocks, AxisAttr{axis}.attrs());
}

// Direction d of a [dirs, ...] tensor, without its first axis.
Result<NodeId> recurrentDirectionOf(ImportContext& ctx, NodeId x, int64_t d) {
  TRY_NODE(part, recurrentSlice(ctx, x, 0, d, d + 1));
  Shape s = ctx.shape(part);
  return ctx.reshape(part, std::vector<int64_t>(s.dims.begin() + 1, s.dims.end()));
}

// An optional input the loop cannot take: absent, or known at import and all zeros.
Result<void> recurrentRequireZero(ImportContext& ctx, size_t i, const std::string& what) {
  if (!ctx.hasInput(i)) return {};
  const ConstTensor* c = ctx.constant(i);
  if (c && std::all_of(c->values.begin(), c->values.end(), [](double v) { return v == 0.0; })) return {};
  return ctx.error(what + " is not supported (nnc's recurrence starts from a zero state and has no " +
                   "peepholes); only an absent or all-zero input is");
}

// The per-direction activations: ONNX's defaults, or for an RNN any elementwise activation
// nnc has. Returns nnc's activation name per direction.
Result<std::vector<std::string>> recurrentActivations(ImportContext& ctx, const OnnxRecurrentSpec& spec,
                                                      int64_t dirs) {
  std::vector<std::string> perDirection(size_t(dirs), spec.activations[0]);
  const auto* a = ctx.attr("activations");
  if (!a) return perDirection;
  if (ctx.attr("activation_alpha") || ctx.attr("activation_beta"))
    return ctx.error("activation_alpha and activation_beta are not supported");
  const size_t k = spec.activations.size();
  if (static_cast<size_t>(a->strings_size()) != k * size_t(dirs))
    return ctx.error("activations lists " + std::to_string(a->strings_size()) + " functions; " +
                     std::to_string(k * size_t(dirs)) + " expected");
  for (int64_t d = 0; d < dirs; ++d)
    for (size_t j = 0; j < k; ++j) {
      std::string name = recurrentLower(a->strings(static_cast<int>(size_t(d) * k + j)));
      if (spec.gates == 1) {
        perDirection[size_t(d)] = name;
      } else if (name != spec.activations[j]) {
        return ctx.error("activation " + a->strings(static_cast<int>(size_t(d) * k + j)) +
                         " is not supported; nnc's cell uses the defaults (Sigmoid, Tanh" +
                         std::string(k == 3 ? ", Tanh" : "") + ")");
      }
    }
  return perDirection;
}

Result<void> mapOnnxRecurrent(ImportContext& ctx) {
  const std::string op = ctx.node->op_type();
  const OnnxRecurrentSpec& spec = onnxRecurrentSpec(op);
  const int64_t H = ctx.attrInt("hidden_size", 0);
  if (H <= 0 || H > kOnnxRecurrentMaxUnits)
    return ctx.error("hidden_size must be given, between 1 and " + std::to_string(kOnnxRecurrentMaxUnits));
  const std::string direction = ctx.attrString("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    return ctx.error("direction '" + direction + "' is not forward, reverse or bidirectional");
  const int64_t dirs = direction == "bidirectional" ? 2 : 1;
  const int64_t layout = ctx.attrInt("layout", 0);
  if (layout != 0 && layout != 1) return ctx.error("layout must be 0 or 1");
  if (ctx.attr("clip")) return ctx.error("clip is not supported");
  if (ctx.attrInt("input_forget", 0) != 0) return ctx.error("input_forget = 1 is not supported");
  if (op == "GRU" && ctx.attrInt("linear_before_reset", 0) == 0)
    return ctx.error("linear_before_reset = 0 is not supported; nnc's GRU applies the reset gate after the "
                     "recurrent product (linear_before_reset = 1, as PyTorch exports it)");
  auto activations = recurrentActivations(ctx, spec, dirs);
  if (!activations) return activations.error();

  TRY_NODE(x0, ctx.in(0));
  if (ctx.rank(x0) != 3) return ctx.error("X must have rank 3, got " + ctx.shape(x0).str());
  TRY_NODE(x, ctx.transpose(x0, layout == 0 ? std::vector<int64_t>{1, 0, 2} : std::vector<int64_t>{0, 1, 2}));
  const Shape xs = ctx.shape(x);  // [batch, steps, features]
  const int64_t steps = xs[1], features = xs[2], G = spec.gates * H;
  if (steps <= 0) return ctx.error("the sequence has no steps");
  TRY_NODE(w, ctx.in(1));
  TRY_NODE(r, ctx.in(2));
  if (ctx.shape(w) != Shape{dirs, G, features})
    return ctx.error("W must be " + Shape{dirs, G, features}.str() + ", got " + ctx.shape(w).str());
  if (ctx.shape(r) != Shape{dirs, G, H}) return ctx.error("R must be " + Shape{dirs, G, H}.str() + ", got " + ctx.shape(r).str());
  NodeId bias = kNoNode;
  if (ctx.hasInput(3)) {
    TRY_NODE(b, ctx.in(3));
    if (ctx.shape(b) != Shape{dirs, 2 * G}) return ctx.error("B must be " + Shape{dirs, 2 * G}.str() + ", got " + ctx.shape(b).str());
    bias = b;
  }
  if (ctx.hasInput(4)) {
    const ConstTensor* lens = ctx.constant(4);
    if (!lens || !std::all_of(lens->values.begin(), lens->values.end(), [&](double v) { return v == double(steps); }))
      return ctx.error("sequence_lens must be known at import and equal to the " + std::to_string(steps) +
                       " steps of every sequence; nnc's recurrence runs every sequence to its end");
  }
  NNC_TRY(recurrentRequireZero(ctx, 5, "a nonzero initial_h"));
  if (op == "LSTM") {
    NNC_TRY(recurrentRequireZero(ctx, 6, "a nonzero initial_c"));
    NNC_TRY(recurrentRequireZero(ctx, 7, "P (peepholes)"));
  }

  std::vector<NodeId> ys, lastH, lastC;
  for (int64_t d = 0; d < dirs; ++d) {
    const bool reverse = direction == "reverse" || d == 1;
    TRY_NODE(wd0, recurrentDirectionOf(ctx, w, d));
    TRY_NODE(wd, recurrentReorderGates(ctx, wd0, 0, H, spec.gateOrder));
    TRY_NODE(proj, ctx.op(OpKind::MatMul, {x, wd}, MatMulTransposeAttr{false, true}.attrs()));
    TRY_NODE(rd0, recurrentDirectionOf(ctx, r, d));
    TRY_NODE(rd1, recurrentReorderGates(ctx, rd0, 0, H, spec.gateOrder));
    TRY_NODE(rd, ctx.transpose(rd1, {1, 0}));
    NodeId xp = proj, recurrentBias = kNoNode;
    if (bias != kNoNode) {
      TRY_NODE(bd, recurrentDirectionOf(ctx, bias, d));
      TRY_NODE(wb0, recurrentSlice(ctx, bd, 0, 0, G));
      TRY_NODE(rb0, recurrentSlice(ctx, bd, 0, G, 2 * G));
      TRY_NODE(wb, recurrentReorderGates(ctx, wb0, 0, H, spec.gateOrder));
      TRY_NODE(rb, recurrentReorderGates(ctx, rb0, 0, H, spec.gateOrder));
      if (op == "GRU") {
        recurrentBias = rb;  // the new gate's recurrent bias sits inside r * (h U_n + c_n)
        TRY_NODE(xb, ctx.op(OpKind::Add, {proj, wb}));
        xp = xb;
      } else {
        TRY_NODE(both, ctx.op(OpKind::Add, {wb, rb}));
        TRY_NODE(xb, ctx.op(OpKind::Add, {proj, both}));
        xp = xb;
      }
    } else if (op == "GRU") {
      TRY_NODE(zeros, ctx.materialize(ConstTensor{kFloat, {G}, std::vector<double>(size_t(G), 0.0)}));
      recurrentBias = zeros;
    }
    RecurrentAttr recurrence;
    recurrence.cell = spec.cell;
    recurrence.units = H;
    recurrence.reverse = reverse;
    if (op == "RNN") recurrence.activation = (*activations)[size_t(d)];
    const Attrs attrs = recurrence.attrs();
    std::string why;
    if (!recurrentCellOf(attrs, &why))
      return ctx.error("activation " + (*activations)[size_t(d)] + " is not supported: " + why);
    std::vector<NodeId> operands{xp, rd};
    if (recurrentBias != kNoNode) operands.push_back(recurrentBias);
    TRY_NODE(saved, ctx.op(OpKind::Recurrence, operands, attrs));
    TRY_NODE(h, recurrentSlice(ctx, saved, 2, 0, H));
    const int64_t last = reverse ? 0 : steps - 1;  // the state after the last step the loop visits
    TRY_NODE(y4, ctx.reshape(h, {xs[0], steps, 1, H}));
    ys.push_back(y4);
    TRY_NODE(hl, recurrentSlice(ctx, h, 1, last, last + 1));
    lastH.push_back(hl);
    if (op == "LSTM") {
      TRY_NODE(c, recurrentSlice(ctx, saved, 2, H, 2 * H));
      TRY_NODE(cl, recurrentSlice(ctx, c, 1, last, last + 1));
      lastC.push_back(cl);
    }
  }
  // nnc computes batch-first ([batch, steps, dirs, H] and [batch, dirs, H]); layout 0 wants
  // the steps and directions first.
  auto join = [&](const std::vector<NodeId>& parts, int64_t axis) -> Result<NodeId> {
    if (parts.size() == 1) return parts[0];
    return ctx.op(OpKind::Concat, parts, AxisAttr{axis}.attrs());
  };
  if (ctx.wantsOutput(0)) {
    TRY_NODE(y, join(ys, 2));
    TRY_NODE(yl, ctx.transpose(y, layout == 0 ? std::vector<int64_t>{1, 2, 0, 3} : std::vector<int64_t>{0, 1, 2, 3}));
    ctx.setOutput(0, yl);
  }
  for (size_t out = 1; out <= 2; ++out) {
    if (!ctx.wantsOutput(out) || (out == 2 && op != "LSTM")) continue;
    TRY_NODE(s, join(out == 1 ? lastH : lastC, 1));
    TRY_NODE(sl, ctx.transpose(s, layout == 0 ? std::vector<int64_t>{1, 0, 2} : std::vector<int64_t>{0, 1, 2}));
    ctx.setOutput(out, sl);
  }
  return {};
}

}  // namespace

void addRecurrentOps(OpTable& t) {
  t["LSTM"] = mapOnnxRecurrent;
  t["GRU"] = mapOnnxRecurrent;
  t["RNN"] = mapOnnxRecurrent;
}

}  // namespace nnc::onnximport
