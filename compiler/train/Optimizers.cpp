// One table entry per optimizer: its name, its state slots and its update rule, written
// with IRBuilder in the order torch.optim computes it (see Optimizers.h for the formulas).
#include "compiler/train/Optimizers.h"

#include <cmath>

#include "compiler/autodiff/IRBuilder.h"

namespace nnc {

namespace {

struct Slot {
  std::string name;
  double initial = 0;
};

// What an update rule sees and produces. `slots` holds the slot leaves in the order the
// optimizer's `slots` function listed them; the rule sets `newSlots` in the same order.
struct Step {
  IRBuilder& b;
  const OptimizerConfig& opt;
  NodeId w, g, lr, t;
  const std::vector<NodeId>& shared;  // the optimizer's per-step scalars (`prepare`)
  std::vector<NodeId> slots;
  NodeId newW = kNoNode;
  std::vector<NodeId> newSlots;
  double hyper(const char* name, double fallback) const {
    auto it = opt.hyper.find(name);
    return it == opt.hyper.end() ? fallback : it->second;
  }
};

// rho * s + (1 - rho) * x
NodeId movingAverage(IRBuilder& b, NodeId s, double rho, NodeId x) { return b.add(b.mul(s, rho), b.mul(x, 1 - rho)); }
NodeId minusLrTimes(Step& s, NodeId d) { return s.b.sub(s.w, s.b.mul(s.lr, d)); }

std::vector<Slot> sgdSlots(const OptimizerConfig& o) {
  auto it = o.hyper.find("momentum");
  if (it == o.hyper.end() || it->second == 0) return {};
  return {{"momentum"}};
}
void sgd(Step& s) {
  IRBuilder& b = s.b;
  if (s.slots.empty()) {
    s.newW = minusLrTimes(s, s.g);
    return;
  }
  double momentum = s.hyper("momentum", 0);
  NodeId buf = b.add(b.mul(s.slots[0], momentum), s.g);
  NodeId d = s.hyper("nesterov", 0) != 0 ? b.add(s.g, b.mul(buf, momentum)) : buf;
  s.newSlots = {buf};
  s.newW = minusLrTimes(s, d);
}

double hyperOr(const OptimizerConfig& o, const char* name, double fallback) {
  auto it = o.hyper.find(name);
  return it == o.hyper.end() ? fallback : it->second;
}

std::vector<Slot> adamSlots(const OptimizerConfig&) { return {{"m"}, {"v"}}; }
// 1 - beta^n without the cancellation of computing beta^n in f32 and subtracting it from 1
// (for beta2 = 0.999 that loses about 1e-5 relative; torch computes it in double):
// with x = n * log(beta) (log taken in double), 1 - e^x = -expm1(x) and
// expm1(x) = tanh(x / 2) * (e^x + 1), both factors accurate to f32 rounding.
NodeId oneMinusPower(IRBuilder& b, double beta, NodeId n) {
  NodeId x = b.mul(n, std::log(beta));
  NodeId halfTanh = b.op(OpKind::Tanh, {b.mul(x, 0.5)});
  return b.neg(b.mul(halfTanh, b.add(b.exp(x), 1.0)));
}

// Shared by every parameter: lr / bc1 and sqrt(bc2), bc = 1 - beta^(t+1).
std::vector<NodeId> adamScalars(IRBuilder& b, const OptimizerConfig& o, NodeId lr, NodeId t) {
  NodeId t1 = b.add(t, 1.0);
  NodeId bc1 = oneMinusPower(b, hyperOr(o, "beta1", 0.9), t1);
  NodeId bc2 = oneMinusPower(b, hyperOr(o, "beta2", 0.999), t1);
  return {b.div(lr, bc1), b.sqrt(bc2)};
}
void adam(Step& s) {
  IRBuilder& b = s.b;
  double beta1 = s.hyper("beta1", 0.9), beta2 = s.hyper("beta2", 0.999), eps = s.hyper("eps", 1e-7);
  NodeId m = movingAverage(b, s.slots[0], beta1, s.g);
  NodeId v = movingAverage(b, s.slots[1], beta2, b.square(s.g));
  NodeId stepSize = s.shared[0], sqrtBc2 = s.shared[1];
  NodeId denom = b.add(b.div(b.sqrt(v), sqrtBc2), eps);
  s.newSlots = {m, v};
  s.newW = b.sub(s.w, b.mul(stepSize, b.div(m, denom)));
}

std::vector<Slot> adadeltaSlots(const OptimizerConfig&) { return {{"square_avg"}, {"acc_delta"}}; }
void adadelta(Step& s) {
  IRBuilder& b = s.b;
  double rho = s.hyper("rho", 0.95), eps = s.hyper("eps", 1e-7);
  NodeId sq = movingAverage(b, s.slots[0], rho, b.square(s.g));
  NodeId stdev = b.sqrt(b.add(sq, eps));
  NodeId delta = b.mul(b.div(b.sqrt(b.add(s.slots[1], eps)), stdev), s.g);
  NodeId acc = movingAverage(b, s.slots[1], rho, b.square(delta));
  s.newSlots = {sq, acc};
  s.newW = minusLrTimes(s, delta);
}

std::vector<Slot> rmspropSlots(const OptimizerConfig& o) {
  auto it = o.hyper.find("momentum");
  if (it == o.hyper.end() || !(it->second > 0)) return {{"square_avg"}};
  return {{"square_avg"}, {"momentum"}};
}
void rmsprop(Step& s) {
  IRBuilder& b = s.b;
  double rho = s.hyper("rho", 0.9), eps = s.hyper("eps", 1e-7), momentum = s.hyper("momentum", 0);
  NodeId sq = movingAverage(b, s.slots[0], rho, b.square(s.g));
  NodeId avg = b.add(b.sqrt(sq), eps);
  if (s.slots.size() == 1) {
    s.newSlots = {sq};
    s.newW = minusLrTimes(s, b.div(s.g, avg));
    return;
  }
  NodeId buf = b.add(b.mul(s.slots[1], momentum), b.div(s.g, avg));
  s.newSlots = {sq, buf};
  s.newW = minusLrTimes(s, buf);
}

std::vector<Slot> adagradSlots(const OptimizerConfig& o) {
  auto it = o.hyper.find("initial");
  return {{"sum", it == o.hyper.end() ? 0.1 : it->second}};
}
void adagrad(Step& s) {
  IRBuilder& b = s.b;
  double eps = s.hyper("eps", 1e-7);
  NodeId sum = b.add(s.slots[0], b.square(s.g));
  NodeId stdev = b.add(b.sqrt(sum), eps);
  s.newSlots = {sum};
  s.newW = minusLrTimes(s, b.div(s.g, stdev));
}

std::vector<NodeId> noScalars(IRBuilder&, const OptimizerConfig&, NodeId, NodeId) { return {}; }

struct OptimizerDef {
  const char* name;
  std::vector<Slot> (*slots)(const OptimizerConfig&);
  std::vector<NodeId> (*prepare)(IRBuilder&, const OptimizerConfig&, NodeId lr, NodeId t);
  void (*update)(Step&);
};

const std::vector<OptimizerDef>& optimizers() {
  static const std::vector<OptimizerDef> table = {
      {"sgd", sgdSlots, noScalars, sgd},
      {"adam", adamSlots, adamScalars, adam},
      {"adadelta", adadeltaSlots, noScalars, adadelta},
      {"rmsprop", rmspropSlots, noScalars, rmsprop},
      {"adagrad", adagradSlots, noScalars, adagrad},
  };
  return table;
}

}  // namespace

std::string optimizerSlotName(const std::string& param, const std::string& optimizer, const std::string& slot) {
  return param + "/" + optimizer + "." + slot;
}

Result<void> emitOptimizerUpdates(Graph& g, const OptimizerConfig& opt, const std::vector<ParamGradient>& params,
                                  NodeId lr, NodeId step, SourceLoc loc) {
  const OptimizerDef* def = nullptr;
  for (const OptimizerDef& d : optimizers())
    if (opt.kind == d.name) def = &d;
  if (!def) return makeError("unknown optimizer '" + opt.kind + "'", loc);

  std::vector<Slot> slots = def->slots(opt);
  IRBuilder b(g);
  const std::vector<NodeId> shared = params.empty() ? std::vector<NodeId>{} : def->prepare(b, opt, lr, step);
  for (const ParamGradient& pg : params) {
    const Node param = g.node(pg.param);
    Step s{b, opt, pg.param, pg.grad, lr, step, shared, {}, kNoNode, {}};
    for (const Slot& slot : slots) {
      Attrs init = slot.initial == 0 ? Attrs{{"init", std::string("zeros")}}
                                     : Attrs{{"init", std::string("constant")}, {"init_args", std::vector<double>{slot.initial}}};
      s.slots.push_back(g.addLeaf(OpKind::State, optimizerSlotName(param.name, def->name, slot.name), param.type, init));
    }
    def->update(s);
    if (b.failed()) return *b.error();
    g.updates.push_back({pg.param, s.newW});
    for (size_t i = 0; i < s.slots.size(); ++i) g.updates.push_back({s.slots[i], s.newSlots[i]});
  }
  return {};
}

}  // namespace nnc
