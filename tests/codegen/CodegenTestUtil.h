#pragma once
// Helpers for the code generator's tests: building graphs, random leaf values, running a
// graph both compiled (JIT) and in the reference interpreter (f32), and comparing.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "compiler/codegen/CompiledModel.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/ir/Graph.h"
#include "runtime/include/nnc/runtime.h"

namespace nnc::testing {

// g.add that fails the test (and returns kNoNode) on an error.
inline NodeId op(Graph& g, OpKind k, std::vector<NodeId> in, Attrs attrs = {}) {
  Result<NodeId> r = g.add(k, std::move(in), std::move(attrs));
  EXPECT_TRUE(r.ok()) << opName(k) << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : kNoNode;
}

inline NodeId input(Graph& g, const std::string& name, DType t, std::vector<int64_t> dims) {
  return g.addLeaf(OpKind::Input, name, TensorType{t, Shape(std::move(dims))});
}
inline NodeId param(Graph& g, const std::string& name, std::vector<int64_t> dims) {
  return g.addLeaf(OpKind::Param, name, TensorType{DType::F32, Shape(std::move(dims))});
}

// The GEMM tests' dense layer: x[batch, K] @ w, w stored [K, N] or [N, K] (transpose_b, as
// PyTorch's Linear weight), optionally + bias and relu (a fused epilogue).
struct DenseProduct {
  int64_t k, n;
  bool transB;
};

inline std::string describeDenseProduct(const DenseProduct& p) {
  return "K " + std::to_string(p.k) + " N " + std::to_string(p.n) + (p.transB ? " B^T" : " B");
}

inline Graph denseProductGraph(const DenseProduct& p, bool weightIsParam, bool epilogue) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, p.k});
  std::vector<int64_t> wDims = p.transB ? std::vector<int64_t>{p.n, p.k} : std::vector<int64_t>{p.k, p.n};
  NodeId w = weightIsParam ? param(g, "w", wDims) : input(g, "w", DType::F32, wDims);
  NodeId y = op(g, OpKind::MatMul, {x, w}, {{"transpose_a", int64_t{0}}, {"transpose_b", int64_t(p.transB)}});
  if (epilogue) y = op(g, OpKind::Relu, {op(g, OpKind::Add, {y, param(g, "b", {p.n})})});
  g.outputs.push_back({"y", y});
  return g;
}

// lowerGraph with the graph's own state layout, failing the test on an error. The lowered
// graph refers to nothing in the layout once lowered.
inline LoweredGraph lowerOrFail(const Graph& g) {
  auto layout = StateLayout::build({&g});
  EXPECT_TRUE(layout.ok());
  if (!layout) return LoweredGraph{};
  auto lg = lowerGraph(g, *layout);
  EXPECT_TRUE(lg.ok()) << (lg.ok() ? "" : lg.error().message);
  return lg.ok() ? std::move(*lg) : LoweredGraph{};
}

// Value ranges of random data.
struct Range {
  double lo = -2, hi = 2;
  bool integral = false;  // round to integers (i32 leaves always are)
};

inline std::vector<int64_t> concrete(const Shape& s, int64_t batch) {
  std::vector<int64_t> d = s.dims;
  for (int64_t& x : d)
    if (x == kBatch) x = batch;
  return d;
}

inline Tensor randomTensor(const TensorType& t, int64_t batch, Range r, std::mt19937_64& rng) {
  Tensor x(t.dtype, concrete(t.shape, batch));
  std::uniform_real_distribution<double> u(r.lo, r.hi);
  for (double& v : x.data) {
    double d = u(rng);
    if (t.dtype == DType::I32 || r.integral) d = std::floor(d);
    v = t.dtype == DType::F32 ? static_cast<double>(static_cast<float>(d)) : d;
  }
  return x;
}

// Host-side buffers in the compiled code's formats.
struct HostTensor {
  DType dtype = DType::F32;
  std::vector<float> f;
  std::vector<int32_t> i;
  void* data() { return dtype == DType::F32 ? static_cast<void*>(f.data()) : static_cast<void*>(i.data()); }
  size_t size() const { return dtype == DType::F32 ? f.size() : i.size(); }
  double at(size_t k) const { return dtype == DType::F32 ? f[k] : i[k]; }
};

inline HostTensor toHost(const Tensor& t) {
  HostTensor h;
  h.dtype = t.dtype;
  for (double v : t.data) {
    if (t.dtype == DType::F32)
      h.f.push_back(static_cast<float>(v));
    else
      h.i.push_back(static_cast<int32_t>(v));
  }
  return h;
}

inline HostTensor hostBuffer(const TensorType& t, int64_t batch) {
  HostTensor h;
  h.dtype = t.dtype;
  size_t n = static_cast<size_t>(t.shape.numElements(batch));
  if (t.dtype == DType::F32)
    h.f.assign(n, std::nanf(""));
  else
    h.i.assign(n, -12345);
  return h;
}

// |got - want| <= rtol * max(|want|, floor), floor = 1e-2 * the largest |want| (so values
// that are sums of cancelling terms are judged against the tensor's scale) and at least 1e-6.
inline ::testing::AssertionResult closeTo(const Tensor& want, const HostTensor& got, double rtol = 1e-4) {
  if (static_cast<size_t>(want.size()) != got.size())
    return ::testing::AssertionFailure() << "size " << got.size() << " != " << want.size();
  double scale = 0;
  for (double v : want.data)
    if (std::isfinite(v)) scale = std::max(scale, std::fabs(v));
  double floor = std::max(1e-2 * scale, 1e-6);
  int bad = 0;
  ::testing::AssertionResult fail = ::testing::AssertionFailure();
  for (size_t k = 0; k < got.size(); ++k) {
    double w = want.data[k], g = got.at(k);
    bool ok;
    if (std::isnan(w))
      ok = std::isnan(g);
    else if (std::isinf(w))
      ok = g == w;
    else
      ok = std::fabs(g - w) <= rtol * std::max(std::fabs(w), floor);
    if (!ok && bad++ < 5) fail << "[" << k << "] got " << g << " want " << w << "; ";
  }
  if (bad) return fail << bad << " of " << got.size() << " differ";
  return ::testing::AssertionSuccess();
}

// Random values for every Input, Param and State leaf of `g` (Params and States also written
// into the compiled model's state), `ranges` by leaf name (default [-2, 2]).
struct Leaves {
  LeafValues values;                      // for the interpreter
  std::vector<HostTensor> inputs;         // for the compiled code, in inputs[] order
};

inline Leaves makeLeaves(const Graph& g, CompiledModel& m, int64_t batch, std::mt19937_64& rng,
                         const std::map<std::string, Range>& ranges = {}) {
  Leaves l;
  auto rangeOf = [&](const std::string& name, DType t) {
    auto it = ranges.find(name);
    if (it != ranges.end()) return it->second;
    return t == DType::I32 ? Range{0, 10, true} : Range{};
  };
  for (const TensorSpec& s : m.inference().inputs) {
    NodeId id = g.findLeaf(OpKind::Input, s.name);
    Tensor t = randomTensor(s.type, batch, rangeOf(s.name, s.type.dtype), rng);
    l.inputs.push_back(toHost(t));
    l.values[id] = t;
  }
  for (const StateEntry& e : m.stateLayout().entries()) {
    NodeId id = g.findLeaf(e.trainable ? OpKind::Param : OpKind::State, e.name);
    Tensor t = randomTensor(e.type, 1, rangeOf(e.name, e.type.dtype), rng);
    std::span<float> dst = m.tensor(e.name);
    for (size_t k = 0; k < dst.size(); ++k) dst[k] = static_cast<float>(t.data[k]);
    if (id != kNoNode) l.values[id] = t;
  }
  return l;
}

// Sets the runtime's thread count for one scope.
struct ThreadsScope {
  int before;
  explicit ThreadsScope(int n) : before(nnc_get_num_threads()) { nnc_set_num_threads(n); }
  ~ThreadsScope() { nnc_set_num_threads(before); }
};

// How expectMatchesInterpreter runs and judges a graph.
struct MatchOptions {
  std::map<std::string, Range> ranges;  // random leaf values by name (default [-2, 2])
  std::vector<int64_t> batches{1, 7, 16};
  double rtol = 1e-4;
  int64_t chunkWork = 1;  // 1 splits even tiny kernels across threads
  // Also require every output to be bit-identical on 1 and 2 threads: for kernels whose sums
  // run in an order fixed by the shape, never by the thread split.
  bool bitIdenticalAcrossThreads = false;
  // The random seed of each batch's leaves (default batch * 7919).
  std::function<uint64_t(int64_t batch)> seed;
};

// The convolution kernels' tests: batches 1 and 5, a convolution's tolerance, and the same
// bits on 1 and 2 threads (chunkWork 1 splits even tiny kernels).
inline MatchOptions convolutionMatchOptions() {
  MatchOptions o;
  o.batches = {1, 5};
  o.rtol = 1e-3;
  o.bitIdenticalAcrossThreads = true;
  return o;
}

inline ::testing::AssertionResult sameBits(const HostTensor& a, const HostTensor& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "size " << a.size() << " != " << b.size();
  size_t bytes = a.dtype == DType::F32 ? a.f.size() * sizeof(float) : a.i.size() * sizeof(int32_t);
  const void* pa = a.dtype == DType::F32 ? static_cast<const void*>(a.f.data()) : a.i.data();
  const void* pb = b.dtype == DType::F32 ? static_cast<const void*>(b.f.data()) : b.i.data();
  if (std::memcmp(pa, pb, bytes) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the bits differ";
}

// Runs `g` compiled and interpreted at each batch size and on 1 and 2 threads and compares
// every output.
inline void expectMatchesInterpreter(const Graph& g, const MatchOptions& o) {
  CompileOptions opt;
  opt.chunkWork = o.chunkWork;
  auto compiled = jitCompile(g, nullptr, opt);
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  CompiledModel& m = **compiled;
  std::vector<NodeId> wanted;
  for (const Output& out : g.outputs) wanted.push_back(out.node);
  for (int64_t batch : o.batches) {
    std::mt19937_64 rng(o.seed ? o.seed(batch) : static_cast<uint64_t>(batch) * 7919u);
    Leaves l = makeLeaves(g, m, batch, rng, o.ranges);
    auto want = interpret(g, l.values, wanted, Precision::F32);
    ASSERT_TRUE(want.ok()) << want.error().message;
    std::vector<std::vector<HostTensor>> byThreads;
    for (int threads : {1, 2}) {
      ThreadsScope ts(threads);
      std::vector<HostTensor> outs;
      for (const TensorSpec& s : m.inference().outputs) outs.push_back(hostBuffer(s.type, batch));
      std::vector<const void*> in;
      for (HostTensor& h : l.inputs) in.push_back(h.data());
      std::vector<void*> out;
      for (HostTensor& h : outs) out.push_back(h.data());
      auto ok = m.forward(in, out, batch);
      ASSERT_TRUE(ok.ok()) << ok.error().message;
      for (size_t i = 0; i < outs.size(); ++i)
        EXPECT_TRUE(closeTo((*want)[i], outs[i], o.rtol))
            << "output " << g.outputs[i].name << " batch " << batch << " threads " << threads;
      byThreads.push_back(std::move(outs));
    }
    if (!o.bitIdenticalAcrossThreads) continue;
    for (size_t i = 0; i < byThreads[0].size(); ++i)
      EXPECT_TRUE(sameBits(byThreads[0][i], byThreads[1][i]))
          << "output " << g.outputs[i].name << " batch " << batch << " differs between 1 and 2 threads";
  }
}

inline void expectMatchesInterpreter(const Graph& g, const std::map<std::string, Range>& ranges = {},
                                     std::vector<int64_t> batches = {1, 7, 16}, double rtol = 1e-4,
                                     int64_t chunkWork = 1) {
  MatchOptions o;
  o.ranges = ranges;
  o.batches = std::move(batches);
  o.rtol = rtol;
  o.chunkWork = chunkWork;
  expectMatchesInterpreter(g, o);
}

}  // namespace nnc::testing
