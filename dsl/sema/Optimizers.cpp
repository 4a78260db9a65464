// The train block's callable values: optimizers, learning-rate schedules and normalize forms.
// The optimizers' defaults are compiler/ir/Optimizer.h's (LANGUAGE.md's); TrainBlock.cpp puts
// the arguments into TrainConfig by name.
#include "compiler/ir/Optimizer.h"
#include "dsl/sema/Registry.h"
#include "dsl/sema/Sema.h"

namespace nnc::sema {

namespace {

bool validateSgd(Sema& s, const BoundCall& b) {
  if (!b.flag("nesterov") || b.number("momentum") > 0) return true;
  s.error(b.arg("nesterov").loc, "sgd: nesterov = true needs momentum > 0");
  return false;
}

Callable make(const char* name, Family family, std::vector<ParamSpec> params, Validator validate = nullptr) {
  Callable c;
  c.name = name;
  c.family = family;
  c.params = std::move(params);
  c.validate = validate;
  return c;
}

ParamSpec lr(double def) { return spec::number("lr", spec::num(def), spec::above(0)); }
ParamSpec eps(double def) { return spec::number("eps", spec::num(def), spec::atLeast(0)); }
ParamSpec nonNegative(const char* name, double def) { return spec::number(name, spec::num(def), spec::atLeast(0)); }
ParamSpec fraction(const char* name, double def, bool open = false) {
  return spec::number(name, spec::num(def), spec::between(0, 1, open));
}

}  // namespace

void addOptimizers(Registry& r) {
  const Family O = Family::Optimizer;
  const SgdHyper sgd;
  r.add(make("sgd", O,
             {lr(sgd.lr), nonNegative("momentum", sgd.momentum), spec::boolean("nesterov", sgd.nesterov)},
             validateSgd));
  const AdamHyper adam;
  r.add(make("adam", O, {lr(adam.lr), fraction("beta1", adam.beta1, true), fraction("beta2", adam.beta2, true), eps(adam.eps)}));
  const AdadeltaHyper adadelta;
  r.add(make("adadelta", O, {lr(adadelta.lr), fraction("rho", adadelta.rho), eps(adadelta.eps)}));
  const RmspropHyper rmsprop;
  r.add(make("rmsprop", O,
             {lr(rmsprop.lr), fraction("rho", rmsprop.rho), nonNegative("momentum", rmsprop.momentum), eps(rmsprop.eps)}));
  const AdagradHyper adagrad;
  r.add(make("adagrad", O, {lr(adagrad.lr), nonNegative("initial", adagrad.initial), eps(adagrad.eps)}));

  const Family S = Family::Schedule;
  const ParamSpec every = spec::integer("every", spec::required(), spec::atLeast(1));
  r.add(make("constant", S, {}));
  r.add(make("step", S, {every, spec::number("factor", spec::required(), spec::above(0))}));
  r.add(make("exponential", S, {spec::number("rate", spec::required(), spec::above(0)), every}));
  r.add(make("cosine", S, {spec::integer("epochs", spec::required(), spec::atLeast(1))}));

  const Family N = Family::Normalize;
  r.add(make("none", N, {}));
  r.add(make("scale", N, {spec::number("c", spec::required())}));
  r.add(make("standardize", N, {}));
}

}  // namespace nnc::sema
