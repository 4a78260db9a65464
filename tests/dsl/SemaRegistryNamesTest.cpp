// The DSL's names of registry rows (Ops.def): every Activation and Math row, and every alias,
// is a callable of the language that builds its op; activations are `activation =` names.
#include <gtest/gtest.h>

#include <algorithm>

#include "compiler/ir/Op.h"
#include "compiler/ir/Optimizer.h"
#include "dsl/sema/Registry.h"
#include "tests/dsl/SemaTestHelpers.h"

namespace nnc::testing {
namespace {

void expectNamed(const std::string& name, OpKind k) {
  SCOPED_TRACE(name);
  const sema::Callable* c = sema::Registry::instance().find(sema::Family::Expression, name);
  ASSERT_NE(c, nullptr);
  const OpInfo& r = opInfo(k);
  EXPECT_EQ(c->isActivation, r.dsl == DslForm::Activation);
  if (r.dsl == DslForm::Activation) {
    std::vector<std::string> choices = sema::activationChoices();
    EXPECT_NE(std::find(choices.begin(), choices.end(), name), choices.end());
  }
  // f32 x in, op k out.
  Model m = compileOk("model t\ninput x: f32[batch, 4]\nr = " + name + "(x)\n");
  bool found = false;
  for (const Node& n : m.graph.nodes()) found = found || n.op == k;
  EXPECT_TRUE(found);
}

TEST(SemaRegistryNames, EveryNamedRowIsACallable) {
  for (int i = 0; i < numOpKinds(); ++i) {
    const OpInfo& r = opInfo(static_cast<OpKind>(i));
    if (r.dsl != DslForm::Internal) expectNamed(r.name, r.kind);
  }
  for (const OpAlias* a = opAliasesBegin(); a != opAliasesEnd(); ++a) expectNamed(a->name, a->kind);
}

TEST(SemaRegistryNames, AlphaDefaultsAreTheRows) {
  Model m = compileOk("model t\ninput x: f32[batch, 4]\nr = leaky_relu(x)\ns = elu(x)\n");
  int seen = 0;
  for (const Node& n : m.graph.nodes()) {
    if (opInfo(n.op).attrs != AttrFamily::Alpha) continue;
    EXPECT_EQ(n.attrs.getFloat("alpha"), opInfo(n.op).alphaDefault) << opName(n.op);
    ++seen;
  }
  EXPECT_EQ(seen, 2);
}

// Every optimizer call has its hyperparameter struct (compiler/ir/Optimizer.h), every argument
// a field of it, and the call's defaults are the struct's; and every struct is a call.
TEST(SemaRegistryNames, OptimizersAreTheTypedHyperparameters) {
  const sema::Registry& r = sema::Registry::instance();
  std::vector<std::string> calls = r.names(sema::Family::Optimizer);
  EXPECT_EQ(calls.size(), kOptimizerNames.size());
  for (std::string_view name : kOptimizerNames)
    EXPECT_NE(std::find(calls.begin(), calls.end(), name), calls.end()) << name;
  for (const std::string& name : calls) {
    SCOPED_TRACE(name);
    std::optional<OptimizerConfig> defaults = optimizerNamed(name);
    ASSERT_TRUE(defaults);
    EXPECT_EQ(defaults->name(), name);
    const sema::Callable* c = r.find(sema::Family::Optimizer, name);
    ASSERT_NE(c, nullptr);
    size_t fields = 0;
    defaults->forEach([&](std::string_view, double) { ++fields; });
    EXPECT_EQ(c->params.size(), fields);
    for (const sema::ParamSpec& p : c->params) {
      OptimizerConfig probe = *defaults;
      EXPECT_TRUE(probe.set(p.name, 1)) << p.name << " is not a field";
    }
    // The call with no arguments binds the struct's defaults.
    Model m = compileOk("model t\ninput x: f32[batch, 4]\ninput y: f32[batch, 1]\np = dense(x, 1)\n"
                        "train { loss = mse(p, y) optimizer = " + name + " }\n");
    ASSERT_TRUE(m.train);
    std::vector<double> got, want;
    m.train->optimizer.forEach([&](std::string_view, double v) { got.push_back(v); });
    defaults->forEach([&](std::string_view, double v) { want.push_back(v); });
    EXPECT_EQ(got, want);
  }
}

}  // namespace
}  // namespace nnc::testing
