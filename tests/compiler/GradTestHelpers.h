#pragma once
// Shared by the Grad*, Optimizer* and Train* tests: random tensors, a finite-difference
// checker for the gradient of any graph value, and a small builder of hand-written models
// (what the front end will produce: layers expanded into primitives, parameters named
// "<layer>.<role>").
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "compiler/autodiff/Differentiate.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Model.h"
#include "compiler/ir/ShapeRules.h"
#include "compiler/ir/Verifier.h"

namespace nnc::testing {

inline std::vector<int64_t> concrete(const Shape& s, int64_t batch) {
  std::vector<int64_t> d = s.dims;
  for (int64_t& x : d)
    if (x == kBatch) x = batch;
  return d;
}

inline Tensor randomTensor(const Shape& s, int64_t batch, std::mt19937_64& rng, double lo = -1, double hi = 1) {
  Tensor t(DType::F32, concrete(s, batch));
  std::uniform_real_distribution<double> u(lo, hi);
  for (double& v : t.data) v = u(rng);
  return t;
}

inline NodeId must(Result<NodeId> r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : kNoNode;
}

// Error measure shared with gradcheck: relative, with an absolute floor scaled by the loss.
inline double gradError(double a, double n, double floor) {
  return std::fabs(a - n) / std::max({std::fabs(a), std::fabs(n), floor});
}

// Checks d(sum(out * R))/d(wrt[k]) (R a fixed random tensor, so every output entry counts
// with its own weight) against central differences, every entry, in f64.
// `values` holds every leaf the graph needs (the wrt leaves included).
inline void expectGradientsMatch(Graph g, NodeId out, const std::vector<NodeId>& wrt, LeafValues values,
                                 int64_t batch = 2, uint64_t seed = 1, double tolerance = 1e-6) {
  std::mt19937_64 rng(seed);
  const Shape outShape = g.type(out).shape;
  NodeId weights = g.addLeaf(OpKind::Input, "__weights", TensorType{DType::F32, outShape});
  values[weights] = randomTensor(outShape, batch, rng);
  std::vector<int64_t> all;
  for (size_t i = 0; i < outShape.rank(); ++i) all.push_back(static_cast<int64_t>(i));
  NodeId prod = must(g.add(OpKind::Mul, {out, weights}));
  g.loss = must(g.add(OpKind::ReduceSum, {prod}, Attrs{{"axes", all}, {"keepdims", int64_t(0)}}));
  Result<Gradients> grads = differentiate(g, g.loss, wrt);
  ASSERT_TRUE(grads.ok()) << grads.error().message;
  Result<void> ok = verifyGraph(g);
  ASSERT_TRUE(ok.ok()) << ok.error().message;

  std::vector<NodeId> wanted{g.loss};
  wanted.insert(wanted.end(), grads->grads.begin(), grads->grads.end());
  Result<std::vector<Tensor>> analytic = interpret(g, values, wanted, Precision::F64);
  ASSERT_TRUE(analytic.ok()) << analytic.error().message;
  double loss = (*analytic)[0].data[0];
  double floor = 1e-4 * std::max(1.0, std::fabs(loss));
  for (size_t k = 0; k < wrt.size(); ++k) {
    Tensor& v = values.at(wrt[k]);
    const Tensor& a = (*analytic)[k + 1];
    ASSERT_EQ(a.shape, v.shape) << "gradient shape of operand " << k;
    for (size_t i = 0; i < v.data.size(); ++i) {
      double saved = v.data[i], h = 1e-5 * std::max(1.0, std::fabs(saved));
      v.data[i] = saved + h;
      double up = v.data[i];
      auto lu = interpret(g, values, {g.loss}, Precision::F64);
      v.data[i] = saved - h;
      double down = v.data[i];
      auto ld = interpret(g, values, {g.loss}, Precision::F64);
      v.data[i] = saved;
      ASSERT_TRUE(lu.ok() && ld.ok());
      double numeric = ((*lu)[0].data[0] - (*ld)[0].data[0]) / (up - down);
      EXPECT_LE(gradError(a.data[i], numeric, floor), tolerance)
          << "wrt #" << k << " ('" << g.node(wrt[k]).name << "') entry " << i << ": analytic " << a.data[i]
          << " numeric " << numeric;
    }
  }
}

// A hand-built graph of one op over leaves: the leaves are Inputs (so they may be batched)
// with random values; `fill` lets a test choose their range.
struct OpHarness {
  Graph g;
  LeafValues values;
  std::vector<NodeId> leaves;
  std::mt19937_64 rng{7};
  int64_t batch = 2;

  NodeId leaf(const Shape& s, double lo = -1, double hi = 1) {
    std::string name = "x";  // (not "x" + to_string(): GCC 12 warns falsely, -Wrestrict)
    name += std::to_string(leaves.size());
    NodeId id = g.addLeaf(OpKind::Input, name, TensorType{DType::F32, s});
    values[id] = randomTensor(s, batch, rng, lo, hi);
    leaves.push_back(id);
    return id;
  }
  NodeId op(OpKind k, std::vector<NodeId> in, Attrs a = {}) { return must(g.add(k, std::move(in), std::move(a))); }
  void check(NodeId out, double tolerance = 1e-6) { expectGradientsMatch(g, out, leaves, values, batch, 1, tolerance); }
};

// ---- hand-built models (what the front end lowers `.nn` files to) ---------------------------
struct ModelBuilder {
  Model m;
  Graph& g = m.graph;

  explicit ModelBuilder(const std::string& name) {
    m.name = name;
    g.name = name;
  }
  NodeId input(const std::string& name, TensorType t) { return g.addLeaf(OpKind::Input, name, std::move(t)); }
  NodeId param(const std::string& name, Shape s, const std::string& init = "", std::vector<double> args = {}) {
    Attrs a;
    if (!init.empty()) a.set("init", init);
    if (!args.empty()) a.set("init_args", args);
    return g.addLeaf(OpKind::Param, name, TensorType{DType::F32, std::move(s)}, a);
  }
  NodeId state(const std::string& name, Shape s, const std::string& init) {
    return g.addLeaf(OpKind::State, name, TensorType{DType::F32, std::move(s)}, Attrs{{"init", init}});
  }
  NodeId op(OpKind k, std::vector<NodeId> in, Attrs a = {}, std::string label = {}) {
    return must(g.add(k, std::move(in), std::move(a), {}, std::move(label)));
  }
  NodeId scalar(double v) { return g.addScalar(v); }
  int64_t last(NodeId x) { return g.type(x).shape.dims.back(); }

  NodeId dense(NodeId x, const std::string& name, int64_t units, OpKind activation = OpKind::Constant) {
    NodeId w = param(name + ".weight", Shape{last(x), units}, "glorot_uniform");
    NodeId b = param(name + ".bias", Shape{units}, "uniform", {-0.1, 0.1});  // nonzero: exercise it
    NodeId y = op(OpKind::Add, {op(OpKind::MatMul, {x, w}, Attrs{{"transpose_a", int64_t(0)}, {"transpose_b", int64_t(0)}}), b});
    return activation == OpKind::Constant ? y : op(activation, {y});
  }
  NodeId conv2d(NodeId x, const std::string& name, int64_t filters, int64_t k, int64_t stride, bool same) {
    const Shape s = g.type(x).shape;  // a copy: adding nodes moves the storage
    NodeId w = param(name + ".weight", Shape{k, k, s[3], filters}, "glorot_uniform");
    NodeId b = param(name + ".bias", Shape{filters}, "uniform", {-0.1, 0.1});
    std::vector<int64_t> pads{0, 0, 0, 0};
    if (same) {
      auto [t, bo] = samePadding(s[1], k, stride);
      auto [l, r] = samePadding(s[2], k, stride);
      pads = {t, l, bo, r};
    }
    NodeId c = op(OpKind::Conv2D, {x, w}, Attrs{{"strides", std::vector<int64_t>{stride, stride}}, {"pads", pads}});
    return op(OpKind::Add, {c, b});
  }
  NodeId pool(OpKind k, NodeId x, int64_t size, int64_t stride, bool same) {
    const Shape s = g.type(x).shape;  // a copy: adding nodes moves the storage
    std::vector<int64_t> pads{0, 0, 0, 0};
    if (same) {
      auto [t, bo] = samePadding(s[1], size, stride);
      auto [l, r] = samePadding(s[2], size, stride);
      pads = {t, l, bo, r};
    }
    return op(k, {x}, Attrs{{"window", std::vector<int64_t>{size, size}}, {"strides", std::vector<int64_t>{stride, stride}}, {"pads", pads}});
  }
  NodeId flatten(NodeId x) {
    const Shape s = g.type(x).shape;  // a copy: adding nodes moves the storage
    return op(OpKind::Reshape, {x}, Attrs{{"shape", std::vector<int64_t>{kBatch, s.numElementsPerBatchRow()}}});
  }
  NodeId batchnorm(NodeId x, const std::string& name, double momentum = 0.99, double eps = 1e-3) {
    Shape c{last(x)};
    NodeId gamma = param(name + ".gamma", c, "uniform", {0.5, 1.5});
    NodeId beta = param(name + ".beta", c, "uniform", {-0.1, 0.1});
    NodeId rm = state(name + ".running_mean", c, "zeros");
    NodeId rv = state(name + ".running_var", c, "ones");
    return op(OpKind::BatchNorm, {x, gamma, beta, rm, rv}, Attrs{{"momentum", momentum}, {"eps", eps}});
  }
  // dense to units*pieces, then the max of each run of `pieces` consecutive features.
  NodeId maxout(NodeId x, const std::string& name, int64_t units, int64_t pieces) {
    NodeId d = dense(x, name, units * pieces);
    NodeId r = op(OpKind::Reshape, {d}, Attrs{{"shape", std::vector<int64_t>{kBatch, units, pieces}}});
    return op(OpKind::ReduceMax, {r}, Attrs{{"axes", std::vector<int64_t>{2}}, {"keepdims", int64_t(0)}});
  }
  // x[:, t, :] as [batch, features].
  NodeId timeStep(NodeId x, int64_t t) {
    const Shape s = g.type(x).shape;  // a copy: adding nodes moves the storage
    NodeId sl = op(OpKind::Slice, {x}, Attrs{{"axis", int64_t(1)}, {"begin", t}, {"end", t + 1}});
    return op(OpKind::Reshape, {sl}, Attrs{{"shape", std::vector<int64_t>{kBatch, s[2]}}});
  }
  NodeId mm(NodeId a, NodeId b) { return op(OpKind::MatMul, {a, b}, Attrs{{"transpose_a", int64_t(0)}, {"transpose_b", int64_t(0)}}); }
  NodeId slice(NodeId x, int64_t axis, int64_t begin, int64_t end) {
    return op(OpKind::Slice, {x}, Attrs{{"axis", axis}, {"begin", begin}, {"end", end}});
  }
  // rnn(x, units): h_t = tanh(x_t W + h_{t-1} U + b), h_0 = 0; returns the last h.
  NodeId rnn(NodeId x, const std::string& name, int64_t units) {
    const Shape s = g.type(x).shape;  // a copy: adding nodes moves the storage
    int64_t steps = s[1], features = s[2];
    NodeId wi = param(name + ".w_input", Shape{features, units}, "glorot_uniform");
    NodeId wr = param(name + ".w_recurrent", Shape{units, units}, "glorot_uniform");
    NodeId b = param(name + ".bias", Shape{units}, "uniform", {-0.1, 0.1});
    NodeId h = kNoNode;
    for (int64_t t = 0; t < steps; ++t) {
      NodeId pre = op(OpKind::Add, {mm(timeStep(x, t), wi), b});
      if (h != kNoNode) pre = op(OpKind::Add, {pre, mm(h, wr)});
      h = op(OpKind::Tanh, {pre});
    }
    return h;
  }
  // lstm(x, units), gates i, f, c, o: c_t = f c_{t-1} + i tanh(g), h_t = o tanh(c_t).
  NodeId lstm(NodeId x, const std::string& name, int64_t units) {
    const Shape s = g.type(x).shape;  // a copy: adding nodes moves the storage
    int64_t steps = s[1], features = s[2];
    NodeId wi = param(name + ".w_input", Shape{features, 4 * units}, "glorot_uniform");
    NodeId wr = param(name + ".w_recurrent", Shape{units, 4 * units}, "glorot_uniform");
    NodeId b = param(name + ".bias", Shape{4 * units}, "uniform", {-0.1, 0.1});
    NodeId h = kNoNode, c = kNoNode;
    for (int64_t t = 0; t < steps; ++t) {
      NodeId z = op(OpKind::Add, {mm(timeStep(x, t), wi), b});
      if (h != kNoNode) z = op(OpKind::Add, {z, mm(h, wr)});
      NodeId i = op(OpKind::Sigmoid, {slice(z, 1, 0, units)});
      NodeId f = op(OpKind::Sigmoid, {slice(z, 1, units, 2 * units)});
      NodeId gg = op(OpKind::Tanh, {slice(z, 1, 2 * units, 3 * units)});
      NodeId o = op(OpKind::Sigmoid, {slice(z, 1, 3 * units, 4 * units)});
      NodeId ig = op(OpKind::Mul, {i, gg});
      c = c == kNoNode ? ig : op(OpKind::Add, {op(OpKind::Mul, {f, c}), ig});
      h = op(OpKind::Mul, {o, op(OpKind::Tanh, {c})});
    }
    return h;
  }
  // cross_entropy(logits, labels): mean over the batch of -sum(one_hot * log_softmax).
  NodeId crossEntropy(NodeId logits, NodeId labels) {
    int64_t classes = last(logits);
    NodeId oh = op(OpKind::OneHot, {labels}, Attrs{{"depth", classes}});
    NodeId ls = op(OpKind::LogSoftmax, {logits}, Attrs{{"axis", int64_t(1)}});
    NodeId s = op(OpKind::ReduceSum, {op(OpKind::Mul, {oh, ls})}, Attrs{{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(0)}});
    return op(OpKind::Neg, {op(OpKind::ReduceMean, {s}, Attrs{{"axes", std::vector<int64_t>{0}}, {"keepdims", int64_t(0)}})});
  }
  NodeId mse(NodeId pred, NodeId target) {
    NodeId d = op(OpKind::Square, {op(OpKind::Sub, {pred, target})});
    std::vector<int64_t> all;
    for (size_t i = 0; i < g.type(d).shape.rank(); ++i) all.push_back(static_cast<int64_t>(i));
    return op(OpKind::ReduceMean, {d}, Attrs{{"axes", all}, {"keepdims", int64_t(0)}});
  }
  void output(const std::string& name, NodeId v) { g.outputs.push_back({name, v}); }
  void train(NodeId loss, const std::string& optimizer = "sgd", std::map<std::string, double> hyper = {},
             double weightDecay = 0) {
    TrainConfig cfg;
    cfg.loss = loss;
    cfg.optimizer = optimizerNamed(optimizer).value();
    for (const auto& [name, value] : hyper) EXPECT_TRUE(cfg.optimizer.set(name, value)) << optimizer << ' ' << name;
    cfg.weightDecay = weightDecay;
    m.train = cfg;
  }
};

}  // namespace nnc::testing
