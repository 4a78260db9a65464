// Activations: one IR op each, with `alpha` (leaky_relu, elu) or `axis` (softmax,
// log_softmax) as attributes. They double as the names `activation =` accepts on layers.
// Adding one is a row in compiler/ir/Ops.def: nothing here.
#include "compiler/ir/Op.h"
#include "compiler/ir/TypedAttrs.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

// The activations are the registry's rows with DslForm::Activation (Ops.def), under their
// op names and aliases; their parameters follow the row's attribute family.
struct ActivationDef {
  const char* name;
  OpKind op;
};

const std::vector<ActivationDef>& activations() {
  static const std::vector<ActivationDef> defs = [] {
    std::vector<ActivationDef> out;
    for (int i = 0; i < numOpKinds(); ++i) {
      const OpInfo& info = opInfo(static_cast<OpKind>(i));
      if (info.dsl != DslForm::Activation) continue;
      out.push_back({info.name, info.kind});
      for (const OpAlias* a = opAliasesBegin(); a != opAliasesEnd(); ++a)
        if (a->kind == info.kind) out.push_back({a->name, info.kind});
    }
    return out;
  }();
  return defs;
}

const ActivationDef* findDef(const std::string& name) {
  for (const ActivationDef& d : activations())
    if (name == d.name) return &d;
  return nullptr;
}

std::optional<NodeId> buildActivation(Sema& s, const BoundCall& b) {
  const ActivationDef* d = findDef(b.callee->name);
  if (!d) return s.error(b.loc, "internal: no activation '" + b.callee->name + "'"), std::nullopt;
  NodeId x = b.tensor("x");
  Attrs attrs;
  AttrFamily family = opInfo(d->op).attrs;
  if (family == AttrFamily::Alpha) attrs = AlphaAttr{b.number("alpha")}.attrs();
  if (family == AttrFamily::Axis) {
    std::optional<int64_t> axis = axisArg(s, b, "axis", x);
    if (!axis) return std::nullopt;
    attrs = AxisAttr{*axis}.attrs();
  }
  return s.emit(d->op, {x}, std::move(attrs), b.loc);
}

}  // namespace

std::vector<std::string> activationChoices() {
  std::vector<std::string> out{"none"};
  for (const ActivationDef& d : activations()) out.push_back(d.name);
  return out;
}

void addActivations(Registry& r) {
  for (const ActivationDef& d : activations()) {
    const OpInfo& info = opInfo(d.op);
    Callable c;
    c.name = d.name;
    c.params.push_back(spec::tensor("x"));
    if (info.attrs == AttrFamily::Alpha) c.params.push_back(spec::number("alpha", spec::num(info.alphaDefault)));
    if (info.attrs == AttrFamily::Axis) c.params.push_back(spec::integer("axis", spec::num(-1)));
    c.build = buildActivation;
    c.isActivation = true;
    c.summaryKind = "Activation";
    r.add(std::move(c));
  }
}

}  // namespace nnc::sema
