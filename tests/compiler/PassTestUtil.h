#pragma once
// Helpers shared by the pass tests: building small graphs, counting ops, running a pass with
// verification, and comparing a graph's values before and after optimisation through the
// reference interpreter (leaves are matched by name, since passes renumber nodes).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>

#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Graph.h"
#include "compiler/ir/Printer.h"
#include "compiler/ir/Verifier.h"

namespace nnc::passtest {

inline std::vector<int64_t> ints(std::initializer_list<int64_t> v) { return v; }

inline TensorType f32(std::initializer_list<int64_t> dims) { return TensorType{DType::F32, Shape(dims)}; }
inline TensorType i32(std::initializer_list<int64_t> dims) { return TensorType{DType::I32, Shape(dims)}; }

inline NodeId input(Graph& g, const std::string& name, TensorType t) { return g.addLeaf(OpKind::Input, name, t); }
inline NodeId param(Graph& g, const std::string& name, TensorType t) { return g.addLeaf(OpKind::Param, name, t); }
inline NodeId fill(Graph& g, double v, TensorType t) { return g.addLeaf(OpKind::Constant, "", t, Attrs{{"value", v}}); }
inline NodeId values(Graph& g, std::vector<double> v, TensorType t) {
  return g.addLeaf(OpKind::Constant, "", t, Attrs{{"values", std::move(v)}});
}

// g.add that must succeed.
inline NodeId op(Graph& g, OpKind k, std::vector<NodeId> ins, Attrs attrs = {}) {
  Result<NodeId> r = g.add(k, std::move(ins), std::move(attrs));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : kNoNode;
}

inline int countOps(const Graph& g, OpKind k) {
  int n = 0;
  for (const Node& node : g.nodes()) n += node.op == k;
  return n;
}

inline int countNonLeaves(const Graph& g) {
  int n = 0;
  for (const Node& node : g.nodes()) n += !isLeaf(node.op);
  return n;
}

// The node an output refers to.
inline const Node& outputNode(const Graph& g, size_t i = 0) { return g.node(g.outputs.at(i).node); }

// Runs a pass, expecting success and a valid result.
template <class Pass>
Graph runPass(const Graph& g, Pass pass) {
  Result<Graph> r = pass(g);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return g;
  Result<void> ok = verifyGraph(*r);
  EXPECT_TRUE(ok.ok()) << (ok.ok() ? "" : ok.error().message) << "\n" << printGraph(*r);
  return std::move(*r);
}

// Random values for every Input, Param, State and Hyper leaf, by leaf name. i32 leaves get
// integers in [0, intRange); the Hyper scalars "lr" and "step" get sensible values.
inline std::map<std::string, Tensor> randomLeafValues(const Graph& g, int64_t batch, unsigned seed,
                                                      int64_t intRange = 10) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  std::map<std::string, Tensor> values;
  for (const Node& n : g.nodes()) {
    if (n.op != OpKind::Input && n.op != OpKind::Param && n.op != OpKind::State && n.op != OpKind::Hyper) continue;
    std::vector<int64_t> dims = n.type.shape.dims;
    for (int64_t& d : dims)
      if (d == kBatch) d = batch;
    Tensor t(n.type.dtype, dims);
    for (double& v : t.data)
      v = n.type.dtype == DType::I32 ? static_cast<double>(rng() % static_cast<unsigned>(intRange))
                                     : static_cast<double>(static_cast<float>(real(rng)));
    if (n.op == OpKind::Hyper) t.data.assign(t.data.size(), n.name == "step" ? 2.0 : 0.01);
    // Optimizer slots that are divided by (adam's v, rmsprop's mean square) must stay positive.
    if (n.op == OpKind::State)
      for (double& v : t.data) v = std::fabs(v) + 0.1;
    values[n.name] = std::move(t);
  }
  return values;
}

inline LeafValues bindByName(const Graph& g, const std::map<std::string, Tensor>& byName) {
  LeafValues leaves;
  for (size_t i = 0; i < g.size(); ++i) {
    const Node& n = g.nodes()[i];
    if (isLeaf(n.op) && n.op != OpKind::Constant) {
      auto it = byName.find(n.name);
      if (it != byName.end()) leaves[static_cast<NodeId>(i)] = it->second;
    }
  }
  return leaves;
}

// Every root of `g`: outputs, update values (by target name) and the loss, with a label.
inline std::vector<std::pair<std::string, NodeId>> roots(const Graph& g) {
  std::vector<std::pair<std::string, NodeId>> r;
  for (const Output& o : g.outputs) r.push_back({"output " + o.name, o.node});
  for (const Update& u : g.updates) r.push_back({"update " + g.node(u.target).name, u.value});
  if (g.loss != kNoNode) r.push_back({"loss", g.loss});
  return r;
}

inline bool close(double a, double b, double tol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= tol * std::max(1.0, std::fabs(a));
}

// Evaluates every root of `before` and `after` on the same leaf values and expects equal
// results (to `tol`, relative). Both graphs must have the same roots in the same order.
inline void expectSameValues(const Graph& before, const Graph& after, const std::map<std::string, Tensor>& leafValues,
                             Precision precision = Precision::F32, double tol = 1e-6) {
  auto rb = roots(before), ra = roots(after);
  ASSERT_EQ(rb.size(), ra.size());
  std::vector<NodeId> wb, wa;
  for (size_t i = 0; i < rb.size(); ++i) {
    ASSERT_EQ(rb[i].first, ra[i].first);
    wb.push_back(rb[i].second);
    wa.push_back(ra[i].second);
  }
  Result<std::vector<Tensor>> vb = interpret(before, bindByName(before, leafValues), wb, precision);
  ASSERT_TRUE(vb.ok()) << vb.error().message;
  Result<std::vector<Tensor>> va = interpret(after, bindByName(after, leafValues), wa, precision);
  ASSERT_TRUE(va.ok()) << va.error().message << "\n" << printGraph(after);
  for (size_t i = 0; i < rb.size(); ++i) {
    const Tensor &x = (*vb)[i], &y = (*va)[i];
    ASSERT_EQ(x.shape, y.shape) << rb[i].first;
    ASSERT_EQ(x.dtype, y.dtype) << rb[i].first;
    for (size_t k = 0; k < x.data.size(); ++k)
      ASSERT_TRUE(close(x.data[k], y.data[k], tol))
          << rb[i].first << " element " << k << ": " << x.data[k] << " before, " << y.data[k] << " after\n"
          << printGraph(after);
  }
}

}  // namespace nnc::passtest
