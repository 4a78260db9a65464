// Losses: scalars, averaged over the batch. The batch size is a run-time value, so means are
// ReduceMean or a sum divided by ElementCount, never a constant.
//   cross_entropy(logits, labels)      mean of -sum(one_hot(labels) * log_softmax(logits))
//     with class weights w             sum(per-sample loss * w[label]) / batch size
//   binary_cross_entropy(logits, t)    mean of max(x, 0) - x * t + log(1 + exp(-|x|))
//                                      (PyTorch's BCEWithLogitsLoss; softplus(-|x|) is the log term)
//   mse(prediction, target)            mean of (prediction - target)^2
// Each records what accuracy means for it, for the train block.
#include "compiler/ir/TypedAttrs.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/ConstEval.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

std::vector<int64_t> allAxes(const Shape& s) {
  std::vector<int64_t> axes;
  for (size_t i = 0; i < s.rank(); ++i) axes.push_back(static_cast<int64_t>(i));
  return axes;
}

Attrs reduceAttrs(std::vector<int64_t> axes) { return AxesAttr{std::move(axes)}.attrs(); }

// The class-weight vector cross_entropy multiplies by: its own list, the train block's
// (a State leaf the runtime fills), or none.
std::optional<NodeId> classWeights(Sema& s, const BoundCall& b, const TensorType& logits, int64_t classes, bool& any) {
  any = true;
  const BoundArg& own = b.arg("class_weights");
  if (own.present) {
    if (static_cast<int64_t>(own.numbers.size()) != classes) {
      s.error(own.loc, "cross_entropy: class_weights has " + std::to_string(own.numbers.size()) + " values but logits " +
                           logits.str() + " have " + std::to_string(classes) + " classes");
      return std::nullopt;
    }
    return s.constantVector(own.numbers);
  }
  if (s.trainHasClassWeights) return s.classWeightsState(classes, b.loc);
  any = false;
  return kNoNode;
}

// The Keras idiom `dense(h, 1, activation = sigmoid)` fed to a loss that applies sigmoid (or
// softmax) itself squashes twice: legal, but it trains badly. Warns at the argument, and
// returns what the model's own decisions threshold: for a sigmoid output p, `p > 0.5` is
// `z > 0` on the sigmoid's input z, which is what accuracy must measure (p itself is always
// > 0). A softmax keeps the order of its input, so argmax needs no change.
NodeId warnIfSquashed(Sema& s, const BoundCall& b, const char* argName, const char* appliedInside) {
  const BoundArg& arg = b.arg(argName);
  const Node& n = s.graph().node(arg.tensor);
  const char* squash = n.op == OpKind::Sigmoid ? "sigmoid" : n.op == OpKind::Softmax ? "softmax" : nullptr;
  if (!squash) return arg.tensor;
  std::string what = n.name.empty() ? "'" + arg.text + "'" : "'" + n.name + "'";
  s.warning(arg.loc, b.callee->name + " applies " + appliedInside + " itself and expects logits, but " + what +
                         " is already a " + squash + " output: give the loss the values before the " + squash +
                         " (e.g. dense(h, units) without activation) and apply " + squash + " only to the output");
  return n.op == OpKind::Sigmoid ? n.inputs[0] : arg.tensor;
}

// cross_entropy's general form (issue 13), for label smoothing s > 0 or f32 targets t of
// the logits' shape (class probabilities): the target distribution
//   q = (1 - s) * (one_hot(labels) or t) + s / classes
// and, with class weights w, each class's term weighted:
//   per-sample loss = -sum_c w_c * q_c * log_softmax(logits)_c
//   loss            = sum over samples / batch size
// which is PyTorch's cross_entropy(label_smoothing = s, weight = w, reduction = "sum") divided
// by the number of samples (and its plain "mean" without weights).
NodeId smoothedCrossEntropy(Emitter& em, Sema& s, NodeId logp, NodeId target, std::optional<NodeId> weights,
                            double smoothing, int64_t classes, const Shape& sampleShape, int64_t last) {
  NodeId q = target;
  if (smoothing > 0) q = em(OpKind::Add, {em(OpKind::Mul, {target, s.constant(1 - smoothing)}), s.constant(smoothing / double(classes))});
  if (weights) q = em(OpKind::Mul, {q, *weights});
  NodeId perSample = em(OpKind::Neg, {em(OpKind::ReduceSum, {em(OpKind::Mul, {q, logp})}, reduceAttrs({last}))});
  if (!weights) return em(OpKind::ReduceMean, {perSample}, reduceAttrs(allAxes(sampleShape)));
  NodeId total = em(OpKind::ReduceSum, {perSample}, reduceAttrs(allAxes(sampleShape)));
  return em(OpKind::Div, {total, em(OpKind::ElementCount, {perSample}, AxesAttr{allAxes(sampleShape)}.attrs())});
}

std::optional<NodeId> buildCrossEntropy(Sema& s, const BoundCall& b) {
  NodeId logits = b.tensor("logits"), labels = b.tensor("labels");
  const TensorType lt = s.type(logits), yt = s.type(labels);
  const int64_t last = static_cast<int64_t>(lt.shape.rank()) - 1;
  const int64_t classes = lt.shape.dims.back();
  if (classes == kBatch) {
    s.error(b.loc, "cross_entropy: the last axis of logits " + lt.str() + " must be the classes, not batch");
    return std::nullopt;
  }
  Shape expected(std::vector<int64_t>(lt.shape.dims.begin(), lt.shape.dims.end() - 1));
  const bool probabilities = yt.dtype == DType::F32;
  if (probabilities && yt.shape != lt.shape) {
    s.error(b.arg("labels").loc, "cross_entropy: f32 targets " + yt.str() + " must have the shape of the logits " +
                                     lt.str() + " (class probabilities); integer class labels are i32" + expected.str());
    return std::nullopt;
  }
  if (!probabilities && yt.shape != expected) {
    s.error(b.loc, "cross_entropy: labels " + yt.str() + " do not match logits " + lt.str() +
                       ": expected labels of shape " + expected.str());
    return std::nullopt;
  }
  const double smoothing = b.number("label_smoothing");
  bool weighted = false;
  std::optional<NodeId> w = classWeights(s, b, lt, classes, weighted);
  if (!w) return std::nullopt;

  Emitter em(s, b.loc);
  NodeId logp = em(OpKind::LogSoftmax, {logits}, AxisAttr{last}.attrs());
  NodeId loss;
  if (probabilities || smoothing > 0) {
    NodeId target = probabilities ? labels : em(OpKind::OneHot, {labels}, DepthAttr{classes}.attrs());
    loss = smoothedCrossEntropy(em, s, logp, target, weighted ? w : std::nullopt, smoothing, classes, expected, last);
    if (!em.ok()) return std::nullopt;
    // Probability targets are not class ids the trainer could compare predictions with.
    if (probabilities)
      s.recordLoss({loss, AccuracyKind::None, warnIfSquashed(s, b, "logits", "softmax"), labels});
    else
      s.recordLoss({loss, AccuracyKind::Categorical, warnIfSquashed(s, b, "logits", "softmax"), labels});
    return loss;
  }
  NodeId onehot = em(OpKind::OneHot, {labels}, DepthAttr{classes}.attrs());
  NodeId picked = em(OpKind::ReduceSum, {em(OpKind::Mul, {onehot, logp})}, reduceAttrs({last}));
  NodeId perSample = em(OpKind::Neg, {picked});
  if (!weighted) {
    loss = em(OpKind::ReduceMean, {perSample}, reduceAttrs(allAxes(expected)));
  } else {
    NodeId sampleWeight = em(OpKind::ReduceSum, {em(OpKind::Mul, {onehot, *w})}, reduceAttrs({last}));
    NodeId total = em(OpKind::ReduceSum, {em(OpKind::Mul, {perSample, sampleWeight})}, reduceAttrs(allAxes(expected)));
    NodeId count = em(OpKind::ElementCount, {perSample}, AxesAttr{allAxes(expected)}.attrs());
    loss = em(OpKind::Div, {total, count});
  }
  if (!em.ok()) return std::nullopt;
  s.recordLoss({loss, AccuracyKind::Categorical, warnIfSquashed(s, b, "logits", "softmax"), labels});
  return loss;
}

bool sameShapes(Sema& s, const BoundCall& b, const char* a, const char* c) {
  const TensorType ta = s.type(b.tensor(a)), tc = s.type(b.tensor(c));
  if (ta.shape == tc.shape) return true;
  s.error(b.loc, b.callee->name + ": " + a + " " + ta.str() + " and " + c + " " + tc.str() + " have different shapes");
  return false;
}

std::optional<NodeId> buildBinaryCrossEntropy(Sema& s, const BoundCall& b) {
  if (!sameShapes(s, b, "logits", "targets")) return std::nullopt;
  NodeId x = b.tensor("logits"), t = b.tensor("targets");
  Emitter em(s, b.loc);
  NodeId positive = em(OpKind::Maximum, {x, s.constant(0)});
  NodeId linear = em(OpKind::Sub, {positive, em(OpKind::Mul, {x, t})});
  NodeId logTerm = em(OpKind::Softplus, {em(OpKind::Neg, {em(OpKind::Abs, {x})})});
  NodeId perElement = em(OpKind::Add, {linear, logTerm});
  NodeId loss = em(OpKind::ReduceMean, {perElement}, reduceAttrs(allAxes(s.type(x).shape)));
  if (!em.ok()) return std::nullopt;
  s.recordLoss({loss, AccuracyKind::Binary, warnIfSquashed(s, b, "logits", "sigmoid"), t});
  return loss;
}

std::optional<NodeId> buildMse(Sema& s, const BoundCall& b) {
  if (!sameShapes(s, b, "prediction", "target")) return std::nullopt;
  NodeId p = b.tensor("prediction"), t = b.tensor("target");
  Emitter em(s, b.loc);
  NodeId sq = em(OpKind::Square, {em(OpKind::Sub, {p, t})});
  NodeId loss = em(OpKind::ReduceMean, {sq}, reduceAttrs(allAxes(s.type(p).shape)));
  if (!em.ok()) return std::nullopt;
  s.recordLoss({loss, AccuracyKind::None, p, t});
  return loss;
}

// huber(prediction, target, delta = 1) (issue 13), PyTorch's HuberLoss and Keras' Huber:
// with d = prediction - target, 0.5 * d^2 where |d| <= delta, else delta * (|d| - 0.5 * delta);
// the mean over every element. Written as m = min(|d|, delta): 0.5 * m^2 + delta * (|d| - m),
// whose gradient (clip(d, -delta, delta)) needs no select.
std::optional<NodeId> buildHuber(Sema& s, const BoundCall& b) {
  if (!sameShapes(s, b, "prediction", "target")) return std::nullopt;
  NodeId p = b.tensor("prediction"), t = b.tensor("target");
  const double delta = b.number("delta");
  Emitter em(s, b.loc);
  NodeId a = em(OpKind::Abs, {em(OpKind::Sub, {p, t})});
  NodeId m = em(OpKind::Minimum, {a, s.constant(delta)});
  NodeId quadratic = em(OpKind::Mul, {em(OpKind::Square, {m}), s.constant(0.5)});
  NodeId linear = em(OpKind::Mul, {em(OpKind::Sub, {a, m}), s.constant(delta)});
  NodeId loss = em(OpKind::ReduceMean, {em(OpKind::Add, {quadratic, linear})}, reduceAttrs(allAxes(s.type(p).shape)));
  if (!em.ok()) return std::nullopt;
  s.recordLoss({loss, AccuracyKind::None, p, t});
  return loss;
}

Callable loss(const char* name, std::vector<ParamSpec> params, TensorBuilder build) {
  Callable c;
  c.name = name;
  c.params = std::move(params);
  c.build = build;
  c.summaryKind = name;
  return c;
}

}  // namespace

void addLosses(Registry& r) {
  r.add(loss("cross_entropy",
             {spec::tensor("logits", spec::req(DTypeReq::F32, 1, -1, "logits", "")),
              spec::tensor("labels", spec::req(DTypeReq::Any, 0, -1, "labels", "")),
              spec::floatList("class_weights", spec::unset(), spec::atLeast(0)),
              spec::number("label_smoothing", spec::num(0), spec::between(0, 1))},
             buildCrossEntropy));
  r.add(loss("binary_cross_entropy",
             {spec::tensor("logits", spec::req(DTypeReq::F32, 0, -1, "logits", "")),
              spec::tensor("targets", spec::req(DTypeReq::F32, 0, -1, "targets", ""))},
             buildBinaryCrossEntropy));
  r.add(loss("mse",
             {spec::tensor("prediction", spec::req(DTypeReq::F32, 0, -1, "prediction", "")),
              spec::tensor("target", spec::req(DTypeReq::F32, 0, -1, "target", ""))},
             buildMse));
  r.add(loss("huber",
             {spec::tensor("prediction", spec::req(DTypeReq::F32, 0, -1, "prediction", "")),
              spec::tensor("target", spec::req(DTypeReq::F32, 0, -1, "target", "")),
              spec::number("delta", spec::num(1), spec::above(0))},
             buildHuber));
}

}  // namespace nnc::sema
