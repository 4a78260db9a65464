// Activations: one IR op each, with `alpha` (leaky_relu, elu) or `axis` (softmax,
// log_softmax) as attributes. They double as the names `activation =` accepts on layers.
#include "compiler/ir/Op.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

enum class Extra { None, Alpha, Axis };

struct ActivationDef {
  const char* name;
  OpKind op;
  Extra extra;
  double alpha;  // the default of `alpha`
};

constexpr ActivationDef kActivations[] = {
    {"relu", OpKind::Relu, Extra::None, 0},
    {"leaky_relu", OpKind::LeakyRelu, Extra::Alpha, 0.01},
    {"elu", OpKind::Elu, Extra::Alpha, 1.0},
    {"selu", OpKind::Selu, Extra::None, 0},
    {"gelu", OpKind::Gelu, Extra::None, 0},  // exact, erf-based
    {"sigmoid", OpKind::Sigmoid, Extra::None, 0},
    {"tanh", OpKind::Tanh, Extra::None, 0},
    {"softplus", OpKind::Softplus, Extra::None, 0},
    {"softmax", OpKind::Softmax, Extra::Axis, 0},
    {"log_softmax", OpKind::LogSoftmax, Extra::Axis, 0},
};

const ActivationDef* findDef(const std::string& name) {
  for (const ActivationDef& d : kActivations)
    if (name == d.name) return &d;
  return nullptr;
}

std::optional<NodeId> buildActivation(Sema& s, const BoundCall& b) {
  const ActivationDef* d = findDef(b.callee->name);
  if (!d) return s.error(b.loc, "internal: no activation '" + b.callee->name + "'"), std::nullopt;
  NodeId x = b.tensor("x");
  Attrs attrs;
  if (d->extra == Extra::Alpha) attrs.set("alpha", b.number("alpha"));
  if (d->extra == Extra::Axis) {
    std::optional<int64_t> axis = axisArg(s, b, "axis", x);
    if (!axis) return std::nullopt;
    attrs.set("axis", *axis);
  }
  return s.emit(d->op, {x}, std::move(attrs), b.loc);
}

}  // namespace

std::vector<std::string> activationChoices() {
  std::vector<std::string> out{"none"};
  for (const ActivationDef& d : kActivations) out.push_back(d.name);
  return out;
}

void addActivations(Registry& r) {
  for (const ActivationDef& d : kActivations) {
    Callable c;
    c.name = d.name;
    c.params.push_back(spec::tensor("x"));
    if (d.extra == Extra::Alpha) c.params.push_back(spec::number("alpha", spec::num(d.alpha)));
    if (d.extra == Extra::Axis) c.params.push_back(spec::integer("axis", spec::num(-1)));
    c.build = buildActivation;
    c.isActivation = true;
    c.summaryKind = "Activation";
    r.add(std::move(c));
  }
}

}  // namespace nnc::sema
