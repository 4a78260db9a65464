// Initializers of parameters: `param w: f32[784, 256] = he_normal` and `init =` of layers.
// They become the leaf's `init` attribute (the name) and `init_args` (the numbers, in the
// order of the signature); the runtime draws the values. Where LANGUAGE.md gives no
// defaults, Keras's are used: uniform(-0.05, 0.05), normal(0, 0.05).
#include "dsl/sema/Builders.h"
#include "dsl/sema/ConstEval.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

bool validateUniform(Sema& s, const BoundCall& b) {
  if (b.number("lo") < b.number("hi")) return true;
  s.error(b.loc, "uniform: lo (" + formatNumber(b.number("lo")) + ") must be less than hi (" +
                     formatNumber(b.number("hi")) + ")");
  return false;
}

Callable init(const char* name, std::vector<ParamSpec> params = {}, Validator validate = nullptr) {
  Callable c;
  c.name = name;
  c.family = Family::Initializer;
  c.params = std::move(params);
  c.validate = validate;
  return c;
}

}  // namespace

InitSpec initSpec(const BoundCall& b) {
  InitSpec spec{b.callee ? b.callee->name : "zeros", {}};
  for (const BoundArg& a : b.args)
    if (a.present) spec.args.push_back(a.number);
  return spec;
}

void addInitializers(Registry& r) {
  r.add(init("zeros"));
  r.add(init("ones"));
  r.add(init("constant", {spec::number("value", spec::required())}));
  r.add(init("uniform", {spec::number("lo", spec::num(-0.05)), spec::number("hi", spec::num(0.05))}, validateUniform));
  r.add(init("normal", {spec::number("mean", spec::num(0)), spec::number("std", spec::num(0.05), spec::atLeast(0))}));
  r.add(init("glorot_uniform"));
  r.add(init("glorot_normal"));
  r.add(init("he_uniform"));
  r.add(init("he_normal"));
}

}  // namespace nnc::sema
