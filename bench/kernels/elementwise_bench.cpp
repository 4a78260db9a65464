// A fused elementwise chain against memory bandwidth, in one binary. nnc's side is an 8-op
// graph over n f32 elements,
//   y = min(|relu(x * 1.5 + 0.25) * 0.5 - 0.125|, 0.75)^2
// which the code generator fuses into one vectorised loop (the "kernels" counter shows how
// many kernels the graph became: 1 when fused), run through CompiledModel::forward two ways:
//   nnc_chain8         y delivered to the caller's buffer: today the kernel writes the
//                      workspace and the entry copies the result out, twice the traffic;
//   nnc_chain8_kernel  a null output pointer, so the entry skips that copy (as conv_bench
//                      does): the fused loop alone, as it runs inside a larger graph.
// The peer is a plain copy of the same bytes (std::memcpy, split over the runtime's threads
// the way a kernel is): what the memory system allows a loop that reads n floats and writes n
// floats. Sizes 1M, 4M and 16M elements (4 to 64 MiB each way; 16M is past the last-level
// cache), 1 and 2 threads; each size's runs are registered next to each other, so they are
// measured interleaved, under the same load.
//
//   build/bin/elementwise_bench --benchmark_format=json --benchmark_repetitions=3
//
// Counter bytes_per_second (SetBytesProcessed): 8*n bytes per iteration (n floats read, n
// written) for every variant, so the rates compare directly.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "compiler/codegen/CompiledModel.h"
#include "compiler/ir/Graph.h"
#include "runtime/include/nnc/runtime.h"

namespace {

using nnc::DType;
using nnc::Graph;
using nnc::NodeId;
using nnc::OpKind;

// The chain, one step per op; the reference below must follow it exactly.
float chainReference(float x) {
  float t = std::max(x * 1.5f + 0.25f, 0.0f) * 0.5f - 0.125f;
  t = std::min(std::fabs(t), 0.75f);
  return t * t;
}

std::vector<float> randomData(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// Builds x -> y for `n` elements; an error's message names the step that failed.
nnc::Result<Graph> chainGraph(int64_t n) {
  Graph g;
  NodeId x = g.addLeaf(OpKind::Input, "x", nnc::TensorType{DType::F32, nnc::Shape{n}});
  struct Step {
    OpKind op;
    double scalar;  // the second operand of a binary op; unused by unary ones
    bool binary;
  };
  const Step steps[] = {{OpKind::Mul, 1.5, true},  {OpKind::Add, 0.25, true},   {OpKind::Relu, 0, false},
                        {OpKind::Mul, 0.5, true},  {OpKind::Sub, 0.125, true},  {OpKind::Abs, 0, false},
                        {OpKind::Minimum, 0.75, true}, {OpKind::Square, 0, false}};
  NodeId y = x;
  for (const Step& s : steps) {
    std::vector<NodeId> operands{y};
    if (s.binary) operands.push_back(g.addScalar(s.scalar));
    auto next = g.add(s.op, operands);
    if (!next.ok()) return next.error();
    y = *next;
  }
  g.outputs.push_back({"y", y});
  return g;
}

struct Compiled {
  std::unique_ptr<nnc::CompiledModel> model;
  std::string error;
};

Compiled& compiledFor(int64_t n) {
  static std::map<int64_t, Compiled> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  Compiled& out = cache[n];
  auto g = chainGraph(n);
  if (!g.ok()) {
    out.error = g.error().message;
    return out;
  }
  auto m = nnc::jitCompile(*g, nullptr, {});
  if (!m.ok()) {
    out.error = m.error().message;
    return out;
  }
  out.model = std::move(*m);
  return out;
}

void setBytes(benchmark::State& state, int64_t n) {
  state.SetBytesProcessed(state.iterations() * 2 * n * int64_t(sizeof(float)));
}

// toCaller: forward() copies y into the caller's buffer; else the output pointer is null.
void runNnc(benchmark::State& state, int64_t n, int threads, bool toCaller) {
  nnc_set_num_threads(threads);
  Compiled& c = compiledFor(n);
  if (!c.model) {
    state.SkipWithError(("compile failed: " + c.error).c_str());
    return;
  }
  std::vector<float> x = randomData(size_t(n), 1);
  std::vector<float> y(static_cast<size_t>(n));
  std::vector<const void*> in{x.data()};
  std::vector<void*> outs{y.data()};
  // One checked run first, so a miscompiled chain cannot report a fast wrong answer.
  if (auto ok = c.model->forward(in, outs, 1); !ok.ok()) {
    state.SkipWithError(ok.error().message.c_str());
    return;
  }
  for (int64_t i = 0; i < n; i += 4099)
    if (std::fabs(y[size_t(i)] - chainReference(x[size_t(i)])) > 1e-5f) {
      state.SkipWithError(("wrong result at element " + std::to_string(i)).c_str());
      return;
    }
  if (!toCaller) outs[0] = nullptr;
  for (auto _ : state) {
    auto ok = c.model->forward(in, outs, 1);
    if (!ok.ok()) {
      state.SkipWithError(ok.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  setBytes(state, n);
  state.counters["kernels"] = c.model->inference().kernels;
}

// The copy, cut into one contiguous chunk per thread by the same pool the kernels use.
struct CopyJob {
  const char* src;
  char* dst;
};

void copyChunk(void* ctx, int64_t begin, int64_t end) {
  auto* job = static_cast<CopyJob*>(ctx);
  std::memcpy(job->dst + begin, job->src + begin, size_t(end - begin));
}

void runCopy(benchmark::State& state, int64_t n, int threads) {
  nnc_set_num_threads(threads);
  std::vector<float> x = randomData(size_t(n), 1);
  std::vector<float> y(static_cast<size_t>(n));
  CopyJob job{reinterpret_cast<const char*>(x.data()), reinterpret_cast<char*>(y.data())};
  const int64_t bytes = n * int64_t(sizeof(float));
  // Chunks of at least 1 MiB: every size here splits evenly over the threads.
  const int64_t grain = std::min<int64_t>(bytes, int64_t(1) << 20);
  for (auto _ : state) {
    nnc_parallel_for(copyChunk, &job, bytes, grain);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  setBytes(state, n);
}

const int registered = [] {
  for (int threads : {1, 2}) {
    for (int64_t mega : {1, 4, 16}) {
      const int64_t n = mega << 20;
      std::string suffix = std::to_string(mega) + "M/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(("nnc_chain8/" + suffix).c_str(), runNnc, n, threads, true)
          ->UseRealTime()
          ->MinTime(0.2);
      benchmark::RegisterBenchmark(("nnc_chain8_kernel/" + suffix).c_str(), runNnc, n, threads, false)
          ->UseRealTime()
          ->MinTime(0.2);
      benchmark::RegisterBenchmark(("memcpy/" + suffix).c_str(), runCopy, n, threads)->UseRealTime()->MinTime(0.2);
    }
  }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
