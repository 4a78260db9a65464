// The train block's callable values: optimizers (with the defaults of LANGUAGE.md, which
// follow torch.optim except eps = 1e-7), learning-rate schedules and normalize forms. Their
// numeric arguments go into TrainConfig as they are (see TrainBlock.cpp); booleans as 0/1.
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
ParamSpec eps() { return spec::number("eps", spec::num(1e-7), spec::atLeast(0)); }
ParamSpec fraction(const char* name, double def, bool open = false) {
  return spec::number(name, spec::num(def), spec::between(0, 1, open));
}

}  // namespace

void addOptimizers(Registry& r) {
  const Family O = Family::Optimizer;
  r.add(make("sgd", O, {lr(0.01), spec::number("momentum", spec::num(0), spec::atLeast(0)), spec::boolean("nesterov", false)},
             validateSgd));
  r.add(make("adam", O, {lr(1e-3), fraction("beta1", 0.9, true), fraction("beta2", 0.999, true), eps()}));
  r.add(make("adadelta", O, {lr(1.0), fraction("rho", 0.95), eps()}));
  r.add(make("rmsprop", O,
             {lr(1e-3), fraction("rho", 0.9), spec::number("momentum", spec::num(0), spec::atLeast(0)), eps()}));
  r.add(make("adagrad", O, {lr(1e-3), spec::number("initial", spec::num(0.1), spec::atLeast(0)), eps()}));

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
