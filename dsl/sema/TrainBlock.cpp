// The train block is bound like a call to a callable named `train` whose parameters are the
// keys: unknown keys (with "did you mean"), duplicates, kinds, ranges and defaults are the
// binder's job. What remains here: the loss must be a scalar f32, relations between keys,
// the class-weight State leaf, and what accuracy means for the loss.
#include "dsl/sema/TrainBlock.h"

#include <limits>

#include "dsl/sema/ArgBinder.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

constexpr double kMaxInt32 = std::numeric_limits<int32_t>::max();

bool validateTrain(Sema& s, const BoundCall& b) {
  if (b.has("early_stop") && !(b.number("validation") > 0)) {
    s.error(b.arg("early_stop").loc, "early_stop needs validation > 0: it watches the validation loss");
    return false;
  }
  return true;
}

// The optimizer the call names, with every argument (the binder filled in the defaults, which
// are Optimizer.h's). SemaRegistryNamesTest checks that every optimizer call and argument
// has its struct and field there.
OptimizerConfig optimizerOf(const BoundCall& b) {
  OptimizerConfig o = optimizerNamed(b.callee->name).value_or(OptimizerConfig{});
  for (size_t i = 0; i < b.callee->params.size(); ++i)
    if (b.args[i].present) o.set(b.callee->params[i].name, b.args[i].number);
  return o;
}

// The schedule the call names; its arguments are LearningRateSchedule's fields of their names.
training::LearningRateSchedule scheduleOf(const BoundCall& b) {
  using Schedule = training::LearningRateSchedule;
  static const std::pair<const char*, Schedule::Kind> kinds[] = {{"constant", Schedule::Kind::Constant},
                                                                 {"step", Schedule::Kind::Step},
                                                                 {"exponential", Schedule::Kind::Exponential},
                                                                 {"cosine", Schedule::Kind::Cosine}};
  static const std::pair<const char*, double Schedule::*> fields[] = {
      {"every", &Schedule::every}, {"factor", &Schedule::factor}, {"rate", &Schedule::rate}, {"epochs", &Schedule::epochs}};
  Schedule out;
  for (const auto& [name, kind] : kinds)
    if (b.callee->name == name) out.kind = kind;
  for (size_t i = 0; i < b.callee->params.size(); ++i)
    for (const auto& [name, field] : fields)
      if (b.args[i].present && b.callee->params[i].name == name) out.*field = b.args[i].number;
  return out;
}

// The first loss call (cross_entropy, ...) the loss depends on says what accuracy means.
void findAccuracy(Sema& s, NodeId loss, TrainConfig& cfg) {
  const Graph& g = s.graph();
  std::vector<bool> reaches(g.size(), false);
  reaches[static_cast<size_t>(loss)] = true;
  for (NodeId id = loss; id >= 0; --id)
    if (reaches[static_cast<size_t>(id)])
      for (NodeId in : g.node(id).inputs) reaches[static_cast<size_t>(in)] = true;
  for (const LossRecord& r : s.losses())
    if (r.node >= 0 && r.node <= loss && reaches[static_cast<size_t>(r.node)]) {
      cfg.accuracy = r.accuracy;
      cfg.accuracyLogits = r.prediction;
      cfg.accuracyLabels = r.labels;
      return;
    }
}

bool classWeights(Sema& s, const BoundCall& b, TrainConfig& cfg) {
  const BoundArg& a = b.arg("class_weights");
  if (!a.present) return true;
  cfg.classWeights = a.isList ? ClassWeightsKind::List : ClassWeightsKind::Balanced;
  cfg.classWeightList = a.numbers;
  NodeId state = s.existingClassWeightsState();
  if (state == kNoNode) {
    s.error(a.loc, "class_weights are used by cross_entropy calls that give none of their own, and this model has none");
    return false;
  }
  int64_t classes = s.type(state).shape[0];
  if (a.isList && static_cast<int64_t>(a.numbers.size()) != classes) {
    s.error(a.loc, "class_weights has " + std::to_string(a.numbers.size()) + " values but cross_entropy has " +
                       std::to_string(classes) + " classes");
    return false;
  }
  cfg.classWeightsState = state;
  return true;
}

}  // namespace

void addTrainBlock(Registry& r) {
  Callable c;
  c.name = "train";
  c.family = Family::TrainBlock;
  c.params = {
      spec::tensor("loss", spec::req(DTypeReq::Any)),
      spec::callable("optimizer", Family::Optimizer, spec::word("sgd")),
      spec::number("weight_decay", spec::num(0), spec::atLeast(0)),
      spec::integer("batch", spec::num(32), spec::between(1, kMaxInt32)),
      spec::integer("epochs", spec::num(1), spec::between(1, kMaxInt32)),
      spec::number("validation", spec::num(0), spec::between(0, 1, true)),
      spec::boolean("shuffle", true),
      spec::integer("seed", spec::num(0), spec::atLeast(0)),
      spec::callable("normalize", Family::Normalize, spec::word("none")),
      spec::callable("schedule", Family::Schedule, spec::word("constant")),
      spec::integer("early_stop", spec::unset(), spec::between(1, kMaxInt32)),
      spec::wordOrFloatList("class_weights", {"balanced"}, "class_weights", spec::atLeast(0)),
      spec::word("sampling", spec::word("none"), {"none", "oversample"}, "sampling"),
      spec::word("precision", spec::word("f32"), {"f32", "bf16"}, "precision"),  // bf16 mixed precision
  };
  c.validate = validateTrain;
  r.add(std::move(c));
}

void lowerTrainBlock(Sema& s, const ast::Decl& d) {
  const Callable* train = Registry::instance().find(Family::TrainBlock, "train");
  std::vector<ArgSyntax> args;
  for (const ast::TrainEntry& e : d.entries) args.push_back(ArgSyntax{e.key, e.keyLoc, e.value.get()});
  std::optional<BoundCall> b = bindCall(s, *train, d.loc, args);
  if (!b) return;

  TrainConfig cfg;
  cfg.loc = d.loc;
  cfg.loss = b->tensor("loss");
  const TensorType lossType = s.type(cfg.loss);
  if (lossType.dtype != DType::F32 || !lossType.shape.isScalar()) {
    s.error(b->arg("loss").loc, "loss must be a scalar f32, got " + lossType.str());
    return;
  }
  cfg.optimizer = optimizerOf(*b->arg("optimizer").call);
  cfg.weightDecay = b->number("weight_decay");
  cfg.batch = b->integer("batch");
  cfg.epochs = b->integer("epochs");
  cfg.validation = b->number("validation");
  cfg.shuffle = b->flag("shuffle");
  cfg.seed = static_cast<uint64_t>(b->integer("seed"));
  const BoundCall& norm = *b->arg("normalize").call;
  cfg.normalize = norm.callee->name == "scale"         ? NormalizeKind::Scale
                  : norm.callee->name == "standardize" ? NormalizeKind::Standardize
                                                       : NormalizeKind::None;
  if (cfg.normalize == NormalizeKind::Scale) cfg.normalizeScale = norm.number("c");
  cfg.schedule = scheduleOf(*b->arg("schedule").call);
  if (b->has("early_stop")) cfg.earlyStopPatience = b->integer("early_stop");
  cfg.sampling = b->word("sampling") == "oversample" ? SamplingKind::Oversample : SamplingKind::None;
  if (!classWeights(s, *b, cfg)) return;
  findAccuracy(s, cfg.loss, cfg);

  if (b->word("precision") == "bf16") s.model().precision = ProductPrecision::BF16;
  s.graph().loss = cfg.loss;
  s.model().train = std::move(cfg);
}

}  // namespace nnc::sema
