// Optimizer updates through the interpreter against reference loops written here, in plain
// C++, from the update rules torch.optim documents (not from Optimizers.cpp's formulation):
// several steps of each optimizer, with and without weight decay.
#include <gtest/gtest.h>

#include <map>

#include "compiler/train/Initializers.h"
#include "compiler/train/TrainingGraph.h"
#include "tests/compiler/GradTestHelpers.h"

namespace nnc {
namespace {

using testing::ModelBuilder;

constexpr int64_t kRows = 4, kIn = 3, kOut = 2;

// A linear model y = x @ lin.weight + lin.bias with an mse loss, plus an explicit rank-2
// param `scale` (weight decay applies to it too) multiplying the output elementwise.
Model linearModel(const std::string& opt, std::map<std::string, double> hyper, double wd) {
  ModelBuilder b("linear");
  NodeId x = b.input("x", TensorType{DType::F32, Shape{kBatch, kIn}});
  NodeId t = b.input("t", TensorType{DType::F32, Shape{kBatch, kOut}});
  NodeId w = b.param("lin.weight", Shape{kIn, kOut}, "glorot_uniform");
  NodeId bias = b.param("lin.bias", Shape{kOut}, "uniform", {-0.5, 0.5});
  NodeId scale = b.param("scale", Shape{1, kOut}, "uniform", {0.5, 1.5});
  NodeId y = b.op(OpKind::Mul, {b.op(OpKind::Add, {b.mm(x, w), bias}), scale});
  b.output("y", y);
  b.train(b.mse(y, t), opt, std::move(hyper), wd);
  return std::move(b.m);
}

// The reference: the same model's gradients by hand, and torch.optim's documented updates.
struct Reference {
  std::string opt;
  std::map<std::string, double> h;
  double wd;
  std::vector<double> x, t;
  // params: W [3x2] row-major, b [2], s [2]; per-param state vectors.
  std::vector<std::vector<double>> p;
  std::map<std::string, std::vector<std::vector<double>>> state;
  int step = 0;

  double hyper(const std::string& k, double d) const { return h.count(k) ? h.at(k) : d; }

  std::vector<std::vector<double>> gradients() const {
    const auto &W = p[0], &B = p[1], &S = p[2];
    std::vector<double> gW(W.size(), 0), gB(2, 0), gS(2, 0);
    for (int n = 0; n < kRows; ++n)
      for (int o = 0; o < kOut; ++o) {
        double z = B[o];
        for (int i = 0; i < kIn; ++i) z += x[n * kIn + i] * W[i * kOut + o];
        double y = z * S[o];
        double dy = 2 * (y - t[n * kOut + o]) / (kRows * kOut);
        gS[o] += dy * z;
        double dz = dy * S[o];
        gB[o] += dz;
        for (int i = 0; i < kIn; ++i) gW[i * kOut + o] += dz * x[n * kIn + i];
      }
    return {gW, gB, gS};
  }

  std::vector<double>& slot(const std::string& name, size_t param, double init = 0) {
    auto& v = state[name];
    if (v.empty()) v.resize(p.size());
    if (v[param].empty()) v[param].assign(p[param].size(), init);
    return v[param];
  }

  void update() {
    ++step;  // torch's t, from 1
    auto g = gradients();
    const double lr = hyper("lr", 0.01);
    for (size_t k = 0; k < p.size(); ++k) {
      bool decays = k != 1;  // lin.weight and the rank-2 explicit `scale`; not lin.bias
      for (size_t i = 0; i < p[k].size(); ++i) {
        double gi = g[k][i] + (decays ? wd * p[k][i] : 0.0);
        double& w = p[k][i];
        if (opt == "sgd") {
          double mu = hyper("momentum", 0);
          if (mu != 0) {
            double& buf = slot("b", k)[i];
            buf = step > 1 ? mu * buf + gi : gi;
            gi = hyper("nesterov", 0) != 0 ? gi + mu * buf : buf;
          }
          w -= lr * gi;
        } else if (opt == "adam") {
          double b1 = hyper("beta1", 0.9), b2 = hyper("beta2", 0.999), eps = hyper("eps", 1e-7);
          double& m = slot("m", k)[i];
          double& v = slot("v", k)[i];
          m = b1 * m + (1 - b1) * gi;
          v = b2 * v + (1 - b2) * gi * gi;
          double mhat = m / (1 - std::pow(b1, step)), vhat = v / (1 - std::pow(b2, step));
          w -= lr * mhat / (std::sqrt(vhat) + eps);
        } else if (opt == "adadelta") {
          double rho = hyper("rho", 0.95), eps = hyper("eps", 1e-7);
          double& v = slot("v", k)[i];
          double& u = slot("u", k)[i];
          v = rho * v + (1 - rho) * gi * gi;
          double dx = std::sqrt(u + eps) / std::sqrt(v + eps) * gi;
          u = rho * u + (1 - rho) * dx * dx;
          w -= lr * dx;
        } else if (opt == "rmsprop") {
          double alpha = hyper("rho", 0.9), eps = hyper("eps", 1e-7), mu = hyper("momentum", 0);
          double& v = slot("v", k)[i];
          v = alpha * v + (1 - alpha) * gi * gi;
          if (mu > 0) {
            double& buf = slot("b", k)[i];
            buf = mu * buf + gi / (std::sqrt(v) + eps);
            w -= lr * buf;
          } else {
            w -= lr * gi / (std::sqrt(v) + eps);
          }
        } else if (opt == "adagrad") {
          double eps = hyper("eps", 1e-7);
          double& sum = slot("sum", k, hyper("initial", 0.1))[i];
          sum += gi * gi;
          w -= lr * gi / (std::sqrt(sum) + eps);
        }
      }
    }
  }
};

std::vector<double> asDoubles(const Tensor& t) { return t.data; }

void runOptimizer(const std::string& opt, std::map<std::string, double> hyper, double wd, int steps = 6) {
  SCOPED_TRACE(opt + " wd " + std::to_string(wd));
  Model model = linearModel(opt, hyper, wd);
  Result<TrainingGraph> tg = buildTrainingStep(model);
  ASSERT_TRUE(tg.ok()) << tg.error().message;
  const Graph& g = tg->graph;
  ASSERT_TRUE(verifyGraph(g).ok());

  Result<LeafValues> init = initialValues(g, 42);
  ASSERT_TRUE(init.ok()) << init.error().message;
  LeafValues leaves = std::move(*init);
  std::mt19937_64 rng(3);
  Tensor x = testing::randomTensor(Shape{kRows, kIn}, kRows, rng), t = testing::randomTensor(Shape{kRows, kOut}, kRows, rng);
  leaves[g.findLeaf(OpKind::Input, "x")] = x;
  leaves[g.findLeaf(OpKind::Input, "t")] = t;
  if (!hyper.count("lr")) hyper["lr"] = opt == "adadelta" ? 1.0 : opt == "sgd" ? 0.01 : 1e-3;
  const double lr = hyper["lr"];

  Reference ref{opt, hyper, wd, x.data, t.data, {}, {}, 0};
  for (const char* name : {"lin.weight", "lin.bias", "scale"}) ref.p.push_back(asDoubles(leaves.at(g.findLeaf(OpKind::Param, name))));

  for (int s = 0; s < steps; ++s) {
    leaves[tg->lr] = Tensor::scalar(lr);
    leaves[tg->step] = Tensor::scalar(s);
    std::vector<NodeId> values;
    for (const Update& u : g.updates) values.push_back(u.value);
    auto r = interpret(g, leaves, values, Precision::F64);
    ASSERT_TRUE(r.ok()) << r.error().message;
    for (size_t i = 0; i < g.updates.size(); ++i) leaves[g.updates[i].target] = (*r)[i];
    ref.update();
    const char* names[] = {"lin.weight", "lin.bias", "scale"};
    for (size_t k = 0; k < 3; ++k) {
      const Tensor& got = leaves.at(g.findLeaf(OpKind::Param, names[k]));
      for (size_t i = 0; i < got.data.size(); ++i)
        EXPECT_NEAR(got.data[i], ref.p[k][i], 1e-6 * std::max(1.0, std::fabs(ref.p[k][i])))
            << "step " << s << " " << names[k] << "[" << i << "]";
    }
  }
}

TEST(Optimizer, SgdPlain) {
  runOptimizer("sgd", {{"lr", 0.1}}, 0);
  runOptimizer("sgd", {{"lr", 0.1}}, 0.05);
}
TEST(Optimizer, SgdMomentum) {
  runOptimizer("sgd", {{"lr", 0.05}, {"momentum", 0.9}}, 0);
  runOptimizer("sgd", {{"lr", 0.05}, {"momentum", 0.9}}, 0.01);
}
TEST(Optimizer, SgdNesterov) {
  runOptimizer("sgd", {{"lr", 0.05}, {"momentum", 0.8}, {"nesterov", 1}}, 0);
  runOptimizer("sgd", {{"lr", 0.05}, {"momentum", 0.8}, {"nesterov", 1}}, 0.02);
}
TEST(Optimizer, Adam) {
  runOptimizer("adam", {{"lr", 0.01}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-7}}, 0);
  runOptimizer("adam", {{"lr", 0.02}, {"beta1", 0.8}, {"beta2", 0.99}, {"eps", 1e-3}}, 0.1);
}
TEST(Optimizer, Adadelta) {
  runOptimizer("adadelta", {{"lr", 1.0}, {"rho", 0.95}, {"eps", 1e-7}}, 0);
  runOptimizer("adadelta", {{"lr", 0.5}, {"rho", 0.9}, {"eps", 1e-4}}, 0.05);
}
TEST(Optimizer, RmspropWithoutMomentum) {
  runOptimizer("rmsprop", {{"lr", 1e-2}, {"rho", 0.9}, {"momentum", 0}, {"eps", 1e-7}}, 0);
  runOptimizer("rmsprop", {{"lr", 1e-2}, {"rho", 0.8}, {"momentum", 0}, {"eps", 1e-7}}, 0.03);
}
TEST(Optimizer, RmspropWithMomentum) {
  runOptimizer("rmsprop", {{"lr", 1e-2}, {"rho", 0.9}, {"momentum", 0.9}, {"eps", 1e-7}}, 0);
  runOptimizer("rmsprop", {{"lr", 1e-2}, {"rho", 0.9}, {"momentum", 0.5}, {"eps", 1e-7}}, 0.03);
}
TEST(Optimizer, Adagrad) {
  runOptimizer("adagrad", {{"lr", 0.1}, {"initial", 0.1}, {"eps", 1e-7}}, 0);
  runOptimizer("adagrad", {{"lr", 0.1}, {"initial", 0.5}, {"eps", 1e-7}}, 0.05);
}

TEST(Optimizer, SlotNamesAndInitialValues) {
  struct Expect {
    std::string opt;
    std::map<std::string, double> hyper;
    std::vector<std::string> slots;
  };
  const std::vector<Expect> cases = {
      {"sgd", {}, {}},
      {"sgd", {{"momentum", 0.9}}, {"sgd.momentum"}},
      {"adam", {}, {"adam.m", "adam.v"}},
      {"adadelta", {}, {"adadelta.square_avg", "adadelta.acc_delta"}},
      {"rmsprop", {}, {"rmsprop.square_avg"}},
      {"rmsprop", {{"momentum", 0.5}}, {"rmsprop.square_avg", "rmsprop.momentum"}},
      {"adagrad", {{"initial", 0.25}}, {"adagrad.sum"}},
  };
  for (const Expect& e : cases) {
    SCOPED_TRACE(e.opt);
    Result<Graph> g = buildTrainingGraph(linearModel(e.opt, e.hyper, 0));
    ASSERT_TRUE(g.ok()) << g.error().message;
    std::vector<std::string> states;
    for (NodeId s : g->leaves(OpKind::State)) states.push_back(g->node(s).name);
    std::vector<std::string> expected;
    for (const char* p : {"lin.weight", "lin.bias", "scale"})
      for (const std::string& slot : e.slots) expected.push_back(std::string(p) + "/" + slot);
    EXPECT_EQ(states, expected);
    // one update per param and per slot
    EXPECT_EQ(g->updates.size(), 3 + expected.size());
    auto init = initialValues(*g, 0);
    ASSERT_TRUE(init.ok());
    for (NodeId s : g->leaves(OpKind::State))
      for (double v : init->at(s).data) EXPECT_EQ(v, e.opt == "adagrad" ? double(0.25f) : 0.0) << g->node(s).name;
  }
}

// Optimizers are a closed set of typed configurations: a name outside it has none, and each
// name gives its own kind with the defaults of its struct.
TEST(Optimizer, OnlyKnownNamesHaveAConfiguration) {
  EXPECT_FALSE(optimizerNamed("lbfgs"));
  for (size_t i = 0; i < kOptimizerNames.size(); ++i) {
    std::optional<OptimizerConfig> o = optimizerNamed(kOptimizerNames[i]);
    ASSERT_TRUE(o) << kOptimizerNames[i];
    EXPECT_EQ(static_cast<size_t>(o->kind()), i);
    EXPECT_EQ(o->name(), kOptimizerNames[i]);
    EXPECT_FALSE(o->set("no_such_hyperparameter", 1));
  }
  EXPECT_DOUBLE_EQ(optimizerNamed("adadelta")->lr(), AdadeltaHyper{}.lr);
}

}  // namespace
}  // namespace nnc
