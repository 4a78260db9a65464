// Generated SGEMM against OpenBLAS cblas_sgemm, in one binary: square sizes 64..1024 and the
// fashion_mlp shapes (batch 64) with their backward forms, at 1 and 2 threads. nnc's product
// is a one-matmul graph compiled by jitCompile, run through CompiledModel::forward (so the
// figure includes the entry's copy of C to the caller). Each shape's nnc and OpenBLAS runs
// are registered next to each other, so they are measured interleaved, under the same load.
//
//   build/bin/sgemm_bench --benchmark_format=json --benchmark_repetitions=3
//
// Counter FLOPS: 2*M*N*K per iteration, as a rate (the JSON "FLOPS" field, in FLOP/s).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "compiler/codegen/CompiledModel.h"
#include "compiler/ir/Graph.h"
#include "bench/kernels/BestIteration.h"
#include "bench/kernels/PeerEnvironment.h"
#include "runtime/include/nnc/runtime.h"

#ifdef NNC_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace {

using nnc::DType;
using nnc::Graph;
using nnc::kBatch;
using nnc::NodeId;
using nnc::OpKind;

// op(A) is M x K, op(B) is K x N; A and B stored transposed when ta / tb.
struct Shape {
  std::string name;
  int64_t m, n, k;
  bool ta, tb;
  bool batchRows;  // M is the model's batch dimension (the MLP shapes)
};

std::vector<float> randomData(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// The graph a = [M, K] (or [K, M]), b = [K, N] (or [N, K]), c = a @ b, compiled once per shape.
struct Compiled {
  std::unique_ptr<nnc::CompiledModel> model;
  int64_t batch = 1;
};

Compiled& compiledFor(const Shape& s) {
  static std::map<std::string, Compiled> cache;
  auto it = cache.find(s.name);
  if (it != cache.end()) return it->second;
  Graph g;
  std::vector<int64_t> aDims = s.ta ? std::vector<int64_t>{s.k, s.m} : std::vector<int64_t>{s.m, s.k};
  std::vector<int64_t> bDims = s.tb ? std::vector<int64_t>{s.n, s.k} : std::vector<int64_t>{s.k, s.n};
  int64_t batch = 1;
  if (s.batchRows && !s.ta) {  // the batch is A's first dim: M, or K when A is transposed
    aDims[0] = kBatch;
    batch = s.m;
  } else if (s.batchRows && s.ta) {
    aDims[0] = kBatch;
    batch = s.k;
    if (!s.tb) bDims[0] = kBatch;  // dW = x^T dy: both operands batch-major
  }
  NodeId a = g.addLeaf(OpKind::Input, "a", nnc::TensorType{DType::F32, nnc::Shape(aDims)});
  NodeId b = g.addLeaf(OpKind::Input, "b", nnc::TensorType{DType::F32, nnc::Shape(bDims)});
  nnc::Attrs attrs{{"transpose_a", int64_t(s.ta)}, {"transpose_b", int64_t(s.tb)}};
  auto c = g.add(OpKind::MatMul, {a, b}, attrs);
  Compiled& out = cache[s.name];
  if (!c.ok()) {
    std::fprintf(stderr, "%s: %s\n", s.name.c_str(), c.error().message.c_str());
    return out;
  }
  g.outputs.push_back({"c", *c});
  auto m = nnc::jitCompile(g, nullptr, {});
  if (!m.ok()) {
    std::fprintf(stderr, "%s: %s\n", s.name.c_str(), m.error().message.c_str());
    return out;
  }
  out.model = std::move(*m);
  out.batch = batch;
  return out;
}

void setCounters(benchmark::State& state, const Shape& s) {
  state.counters["FLOPS"] =
      benchmark::Counter(2.0 * static_cast<double>(s.m * s.n * s.k), benchmark::Counter::kIsIterationInvariantRate);
}

void runNnc(benchmark::State& state, Shape s, int threads) {
  nnc_set_num_threads(threads);
  Compiled& c = compiledFor(s);
  if (!c.model) {
    state.SkipWithError("compile failed");
    return;
  }
  std::vector<float> a = randomData(static_cast<size_t>(s.m * s.k), 1), b = randomData(static_cast<size_t>(s.k * s.n), 2);
  std::vector<float> out(static_cast<size_t>(s.m * s.n));
  std::vector<const void*> in{a.data(), b.data()};
  std::vector<void*> outs{out.data()};
  nnc::bench::BestIteration best;
  for (auto _ : state) {
    best.start();
    auto ok = c.model->forward(in, outs, c.batch);
    best.stop();
    if (!ok.ok()) {
      state.SkipWithError(ok.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  setCounters(state, s);
  best.report(state);
}

#ifdef NNC_BENCH_HAVE_OPENBLAS
void runOpenBlas(benchmark::State& state, Shape s, int threads) {
  openblas_set_num_threads(threads);
  std::vector<float> a = randomData(static_cast<size_t>(s.m * s.k), 1), b = randomData(static_cast<size_t>(s.k * s.n), 2);
  std::vector<float> out(static_cast<size_t>(s.m * s.n));
  int lda = static_cast<int>(s.ta ? s.m : s.k), ldb = static_cast<int>(s.tb ? s.k : s.n);
  nnc::bench::BestIteration best;
  for (auto _ : state) {
    best.start();
    cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans,
                static_cast<int>(s.m), static_cast<int>(s.n), static_cast<int>(s.k), 1.0f, a.data(), lda, b.data(), ldb,
                0.0f, out.data(), static_cast<int>(s.n));
    best.stop();
    benchmark::DoNotOptimize(out.data());
  }
  setCounters(state, s);
  best.report(state);
}
#endif

std::vector<Shape> shapes() {
  std::vector<Shape> v;
  for (int64_t n : {64, 128, 256, 384, 512, 768, 1024})
    v.push_back({"square" + std::to_string(n), n, n, n, false, false, false});
  // fashion_mlp at batch 64: 784 -> 256 -> 128 -> 10. Forward x @ W, then the backward
  // products dx = dy @ W^T and dW = x^T @ dy of each layer.
  struct Layer {
    int64_t in, out;
  };
  for (Layer l : {Layer{784, 256}, Layer{256, 128}, Layer{128, 10}}) {
    std::string tag = std::to_string(l.in) + "x" + std::to_string(l.out);
    v.push_back({"mlp_fwd_" + tag, 64, l.out, l.in, false, false, true});
    v.push_back({"mlp_dx_" + tag, 64, l.in, l.out, false, true, true});
    v.push_back({"mlp_dw_" + tag, l.in, l.out, 64, true, false, true});
  }
  // Small M (batch 1 to 64 inference) through a dense layer, B as stored ([in, out], .nn's
  // dense) and transposed ([out, in], PyTorch's Linear imported from ONNX).
  for (int64_t m : {1, 4, 8, 16, 64})
    for (bool tb : {false, true})
      v.push_back({"smallm_" + std::to_string(m) + "x784x256" + (tb ? "_bt" : ""), m, 256, 784, false, tb, true});
  v.push_back({"smallm_1x1568x128_bt", 1, 128, 1568, false, true, true});  // onnx_layer_speed's fc
  // fashion_cnn's dense layer at batch 64 (fc = dense(flat, 1024): 3136 -> 1024): forward
  // x @ W (W as stored, K = 3136 over many K blocks), the input gradient dy @ W^T (B
  // transposed, N = 3136), and the weight gradient x^T @ dy (K = 64).
  v.push_back({"cnn_fc_fwd_3136x1024", 64, 1024, 3136, false, false, true});
  v.push_back({"cnn_fc_dx_3136x1024_bt", 64, 3136, 1024, false, true, true});
  v.push_back({"cnn_fc_dw_3136x1024", 3136, 1024, 64, true, false, true});
  return v;
}

const int registered = [] {
  for (int threads : {1, 2}) {
    for (const Shape& s : shapes()) {
      std::string suffix = s.name + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(("nnc/" + suffix).c_str(), runNnc, s, threads)->UseRealTime()->MinTime(0.2);
#ifdef NNC_BENCH_HAVE_OPENBLAS
      benchmark::RegisterBenchmark(("openblas/" + suffix).c_str(), runOpenBlas, s, threads)->UseRealTime()->MinTime(0.2);
#endif
    }
  }
  return 0;
}();

}  // namespace

NNC_BENCHMARK_MAIN_UNHINDERED();
