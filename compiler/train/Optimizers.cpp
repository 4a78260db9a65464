// One table entry per optimizer: its name, its state slots and its update rule, written
// with IRBuilder in the order torch.optim computes it (see Optimizers.h for the formulas).
#include "compiler/train/Optimizers.h"

#include <cmath>

#include "compiler/autodiff/IRBuilder.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc {

namespace {

struct Slot {
  std::string name;
  double initial = 0;
};

// What an update rule sees and produces. `slots` holds the slot leaves in the order the
// optimizer's slots() listed them; the rule sets `newSlots` in the same order.
struct Step {
  IRBuilder& b;
  NodeId w, g, lr, t;
  const std::vector<NodeId>& shared;  // the optimizer's per-step scalars (prepare())
  std::vector<NodeId> slots;
  NodeId newW = kNoNode;
  std::vector<NodeId> newSlots;
};

// rho * s + (1 - rho) * x
NodeId movingAverage(IRBuilder& b, NodeId s, double rho, NodeId x) { return b.add(b.mul(s, rho), b.mul(x, 1 - rho)); }
NodeId minusLrTimes(Step& s, NodeId d) { return s.b.sub(s.w, s.b.mul(s.lr, d)); }

// One rule per hyperparameter struct (compiler/ir/Optimizer.h): its slots, the scalars every
// parameter's update shares, and the update. Overloads on the struct, so a new optimizer
// without its rules does not compile.
std::vector<NodeId> prepare(IRBuilder&, const auto&, NodeId, NodeId) { return {}; }

std::vector<Slot> slots(const SgdHyper& h) { return h.momentum == 0 ? std::vector<Slot>{} : std::vector<Slot>{{"momentum"}}; }
void update(Step& s, const SgdHyper& h) {
  IRBuilder& b = s.b;
  if (s.slots.empty()) {
    s.newW = minusLrTimes(s, s.g);
    return;
  }
  NodeId buf = b.add(b.mul(s.slots[0], h.momentum), s.g);
  NodeId d = h.nesterov ? b.add(s.g, b.mul(buf, h.momentum)) : buf;
  s.newSlots = {buf};
  s.newW = minusLrTimes(s, d);
}

std::vector<Slot> slots(const AdamHyper&) { return {{"m"}, {"v"}}; }
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
std::vector<NodeId> prepare(IRBuilder& b, const AdamHyper& h, NodeId lr, NodeId t) {
  NodeId t1 = b.add(t, 1.0);
  return {b.div(lr, oneMinusPower(b, h.beta1, t1)), b.sqrt(oneMinusPower(b, h.beta2, t1))};
}
void update(Step& s, const AdamHyper& h) {
  IRBuilder& b = s.b;
  NodeId m = movingAverage(b, s.slots[0], h.beta1, s.g);
  NodeId v = movingAverage(b, s.slots[1], h.beta2, b.square(s.g));
  NodeId stepSize = s.shared[0], sqrtBc2 = s.shared[1];
  NodeId denom = b.add(b.div(b.sqrt(v), sqrtBc2), h.eps);
  s.newSlots = {m, v};
  s.newW = b.sub(s.w, b.mul(stepSize, b.div(m, denom)));
}

std::vector<Slot> slots(const AdadeltaHyper&) { return {{"square_avg"}, {"acc_delta"}}; }
void update(Step& s, const AdadeltaHyper& h) {
  IRBuilder& b = s.b;
  NodeId sq = movingAverage(b, s.slots[0], h.rho, b.square(s.g));
  NodeId stdev = b.sqrt(b.add(sq, h.eps));
  NodeId delta = b.mul(b.div(b.sqrt(b.add(s.slots[1], h.eps)), stdev), s.g);
  NodeId acc = movingAverage(b, s.slots[1], h.rho, b.square(delta));
  s.newSlots = {sq, acc};
  s.newW = minusLrTimes(s, delta);
}

std::vector<Slot> slots(const RmspropHyper& h) {
  if (!(h.momentum > 0)) return {{"square_avg"}};
  return {{"square_avg"}, {"momentum"}};
}
void update(Step& s, const RmspropHyper& h) {
  IRBuilder& b = s.b;
  NodeId sq = movingAverage(b, s.slots[0], h.rho, b.square(s.g));
  NodeId avg = b.add(b.sqrt(sq), h.eps);
  if (s.slots.size() == 1) {
    s.newSlots = {sq};
    s.newW = minusLrTimes(s, b.div(s.g, avg));
    return;
  }
  NodeId buf = b.add(b.mul(s.slots[1], h.momentum), b.div(s.g, avg));
  s.newSlots = {sq, buf};
  s.newW = minusLrTimes(s, buf);
}

std::vector<Slot> slots(const AdagradHyper& h) { return {{"sum", h.initial}}; }
void update(Step& s, const AdagradHyper& h) {
  IRBuilder& b = s.b;
  NodeId sum = b.add(s.slots[0], b.square(s.g));
  NodeId stdev = b.add(b.sqrt(sum), h.eps);
  s.newSlots = {sum};
  s.newW = minusLrTimes(s, b.div(s.g, stdev));
}

}  // namespace

std::string optimizerSlotName(const std::string& param, const std::string& optimizer, const std::string& slot) {
  return param + "/" + optimizer + "." + slot;
}

Result<void> emitOptimizerUpdates(Graph& g, const OptimizerConfig& opt, const std::vector<ParamGradient>& params,
                                  NodeId lr, NodeId step) {
  const std::string name(opt.name());
  IRBuilder b(g);
  return std::visit(
      [&](const auto& hyper) -> Result<void> {
        const std::vector<Slot> slotList = slots(hyper);
        const std::vector<NodeId> shared = params.empty() ? std::vector<NodeId>{} : prepare(b, hyper, lr, step);
        for (const ParamGradient& pg : params) {
          const Node param = g.node(pg.param);
          Step s{b, pg.param, pg.grad, lr, step, shared, {}, kNoNode, {}};
          for (const Slot& slot : slotList) {
            Attrs init = slot.initial == 0 ? InitAttr{"zeros", {}}.attrs()
                                           : InitAttr{"constant", std::vector<double>{slot.initial}}.attrs();
            s.slots.push_back(g.addLeaf(OpKind::State, optimizerSlotName(param.name, name, slot.name), param.type, init));
          }
          update(s, hyper);
          if (b.failed()) return *b.error();
          g.updates.push_back({pg.param, s.newW});
          for (size_t i = 0; i < s.slots.size(); ++i) g.updates.push_back({s.slots[i], s.newSlots[i]});
        }
        return {};
      },
      opt.hyper);
}

}  // namespace nnc
