// Generated 2-D convolutions against oneDNN (libdnnl 2.6), in one binary: the conv shapes of
// examples/fashion_cnn.nn at batch 64, forward, backward data (input gradient) and backward
// weights (filter gradient), at 1 and 2 threads. nnc's kernel is a one-op graph compiled by
// jitCompile and run through CompiledModel::forward with a null output pointer: the kernel
// writes its workspace buffer, as inside a training step, and the entry skips the copy to
// the caller (6 MiB for conv1's forward, which would double its memory traffic). oneDNN runs
// NHWC activations with the weights in the layout it prefers (format any; filled once,
// outside the timing). Each shape's nnc and oneDNN runs are registered next to each other,
// so they are measured interleaved, under the same load. Under load, compare CPU times and
// the best of several repetitions.
//
//   build/bin/conv_bench --benchmark_format=json --benchmark_repetitions=3
//
// Counter FLOPS: 2 * N * OH * OW * KH * KW * (C / groups) * F per iteration, as a rate (FLOP/s).
//
// The convolution variants (`_dw`, `_dil`, `_grp` shapes): a MobileNet depthwise 3x3 at
// 56x56x64 (stride 1 and 2), a dilated 3x3 and a grouped 3x3, at batch 8:
//
//   build/bin/conv_bench --benchmark_filter='dw|dil|grp' --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/codegen/CompiledModel.h"
#include "compiler/ir/Graph.h"
#include "bench/kernels/BestIteration.h"
#include "bench/kernels/PeerEnvironment.h"
#include "runtime/include/nnc/runtime.h"

#ifdef NNC_BENCH_HAVE_DNNL
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

using nnc::DType;
using nnc::Graph;
using nnc::kBatch;
using nnc::NodeId;
using nnc::OpKind;

enum class Pass { Forward, BackwardData, BackwardWeights };
const char* passName(Pass p) {
  return p == Pass::Forward ? "fwd" : p == Pass::BackwardData ? "bwd_data" : "bwd_weights";
}

// A `same` convolution, batch n (stride, dilation and groups 1: the CNN example's).
struct ConvShape {
  std::string name;
  int64_t n, h, w, c, f, k;
  int64_t stride = 1, dilation = 1, groups = 1;
  int64_t span() const { return (k - 1) * dilation + 1; }
  int64_t oh() const { return (h + stride - 1) / stride; }
  int64_t ow() const { return (w + stride - 1) / stride; }
  // TensorFlow's `same`: [top, bottom] (and left, right: square images here).
  int64_t padTotal(int64_t in, int64_t out) const { return std::max<int64_t>((out - 1) * stride + span() - in, 0); }
  int64_t padBefore() const { return padTotal(h, oh()) / 2; }
  int64_t padAfter() const { return padTotal(h, oh()) - padBefore(); }
  double flops() const { return 2.0 * static_cast<double>(n * oh() * ow() * k * k * (c / groups) * f); }
};

std::vector<float> randomData(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

struct Compiled {
  std::unique_ptr<nnc::CompiledModel> model;
  std::vector<std::vector<float>> inputs;  // in the entry's inputs[] order
};

// The graph `build` makes (its operands Inputs, so they are not part of the state), compiled
// once per key, with random inputs for batch n.
Compiled& compileOnce(const std::string& key, int64_t n, const std::function<nnc::Result<NodeId>(Graph&)>& build) {
  static std::map<std::string, Compiled> cache;
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  Compiled& out = cache[key];
  Graph g;
  nnc::Result<NodeId> r = build(g);
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", key.c_str(), r.error().message.c_str());
    return out;
  }
  g.outputs.push_back({"y", *r});
  auto m = nnc::jitCompile(g, nullptr, {});
  if (!m.ok()) {
    std::fprintf(stderr, "%s: %s\n", key.c_str(), m.error().message.c_str());
    return out;
  }
  out.model = std::move(*m);
  for (const nnc::TensorSpec& t : out.model->inference().inputs)
    out.inputs.push_back(randomData(static_cast<size_t>(t.type.shape.numElements(n)), out.inputs.size() + 1));
  return out;
}

nnc::TensorType f32(std::vector<int64_t> d) { return nnc::TensorType{DType::F32, nnc::Shape(std::move(d))}; }

// One-op graph of the pass.
Compiled& compiledFor(const ConvShape& s, Pass p) {
  return compileOnce(s.name + passName(p), s.n, [&](Graph& g) {
    std::vector<int64_t> pads{s.padBefore(), s.padBefore(), s.padAfter(), s.padAfter()};
    nnc::Attrs geo{{"strides", std::vector<int64_t>{s.stride, s.stride}}, {"pads", pads}};
    if (s.dilation != 1) geo.set("dilations", std::vector<int64_t>{s.dilation, s.dilation});
    if (s.groups != 1) geo.set("groups", s.groups);
    NodeId x = g.addLeaf(OpKind::Input, "x", f32({kBatch, s.h, s.w, s.c}));
    NodeId w = g.addLeaf(OpKind::Input, "w", f32({s.k, s.k, s.c / s.groups, s.f}));
    NodeId dy = g.addLeaf(OpKind::Input, "dy", f32({kBatch, s.oh(), s.ow(), s.f}));
    if (p == Pass::Forward) return g.add(OpKind::Conv2D, {x, w}, geo);
    if (p == Pass::BackwardData) {
      geo.set("input_hw", std::vector<int64_t>{s.h, s.w});
      return g.add(OpKind::Conv2DGradInput, {dy, w}, geo);
    }
    geo.set("kernel", std::vector<int64_t>{s.k, s.k});
    return g.add(OpKind::Conv2DGradFilter, {x, dy}, geo);
  });
}

void setFlops(benchmark::State& state, double flops) {
  state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

// Runs a compiled pass at batch n; its output stays in the workspace (see the top).
void runCompiled(benchmark::State& state, Compiled& c, int64_t n, int threads, double flops) {
  nnc_set_num_threads(threads);
  if (!c.model) {
    state.SkipWithError("compile failed");
    return;
  }
  std::vector<const void*> in;
  for (auto& v : c.inputs) in.push_back(v.data());
  std::vector<void*> outs{nullptr};
  nnc::bench::BestIteration best;
  for (auto _ : state) {
    best.start();
    auto ok = c.model->forward(in, outs, n);
    best.stop();
    if (!ok.ok()) {
      state.SkipWithError(ok.error().message.c_str());
      break;
    }
  }
  setFlops(state, flops);
  best.report(state);
}

void runNnc(benchmark::State& state, ConvShape s, Pass p, int threads) {
  runCompiled(state, compiledFor(s, p), s.n, threads, s.flops());
}

#ifdef NNC_BENCH_HAVE_DNNL
// oneDNN's NHWC activations and weights in the layout it prefers, for one primitive family
// (convolution or deconvolution: Fwd, BwdData, BwdWeights).
struct DnnlGeometry {
  dnnl::memory::dims src, wei, dst, strides, dilates, padL, padR;
};

template <class Fwd, class BwdData, class BwdWeights>
void runDnnlPass(benchmark::State& state, Pass p, int threads, dnnl::algorithm alg, const DnnlGeometry& geo,
                 double flops) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  omp_set_num_threads(threads);
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  memory::desc srcMd(geo.src, dt::f32, tag::nhwc), dstMd(geo.dst, dt::f32, tag::nhwc), weiAny(geo.wei, dt::f32, tag::any);
  typename Fwd::desc fd(prop_kind::forward_training, alg, srcMd, weiAny, dstMd, geo.strides, geo.dilates, geo.padL,
                        geo.padR);
  typename Fwd::primitive_desc fpd(fd, eng);
  auto filled = [&](const memory::desc& md, uint64_t seed) {
    memory m(md, eng);
    std::vector<float> v = randomData(md.get_size() / sizeof(float), seed);
    std::memcpy(m.get_data_handle(), v.data(), md.get_size());
    return m;
  };
  primitive prim;
  std::unordered_map<int, memory> args;
  if (p == Pass::Forward) {
    prim = Fwd(fpd);
    args = {{DNNL_ARG_SRC, filled(fpd.src_desc(), 1)},
            {DNNL_ARG_WEIGHTS, filled(fpd.weights_desc(), 2)},
            {DNNL_ARG_DST, memory(fpd.dst_desc(), eng)}};
  } else if (p == Pass::BackwardData) {
    typename BwdData::desc bd(alg, srcMd, weiAny, dstMd, geo.strides, geo.dilates, geo.padL, geo.padR);
    typename BwdData::primitive_desc bpd(bd, eng, fpd);
    prim = BwdData(bpd);
    args = {{DNNL_ARG_DIFF_DST, filled(bpd.diff_dst_desc(), 1)},
            {DNNL_ARG_WEIGHTS, filled(bpd.weights_desc(), 2)},
            {DNNL_ARG_DIFF_SRC, memory(bpd.diff_src_desc(), eng)}};
  } else {
    typename BwdWeights::desc bd(alg, srcMd, weiAny, dstMd, geo.strides, geo.dilates, geo.padL, geo.padR);
    typename BwdWeights::primitive_desc bpd(bd, eng, fpd);
    prim = BwdWeights(bpd);
    args = {{DNNL_ARG_SRC, filled(bpd.src_desc(), 1)},
            {DNNL_ARG_DIFF_DST, filled(bpd.diff_dst_desc(), 2)},
            {DNNL_ARG_DIFF_WEIGHTS, memory(bpd.diff_weights_desc(), eng)}};
  }
  nnc::bench::BestIteration best;
  for (auto _ : state) {
    best.start();
    prim.execute(strm, args);
    strm.wait();
    best.stop();
  }
  setFlops(state, flops);
  best.report(state);
}

void runDnnl(benchmark::State& state, ConvShape s, Pass p, int threads) {
  using dnnl::memory;
  DnnlGeometry geo;
  geo.src = {s.n, s.c, s.h, s.w};
  geo.dst = {s.n, s.f, s.oh(), s.ow()};
  geo.wei = s.groups == 1 ? memory::dims{s.f, s.c, s.k, s.k}
                          : memory::dims{s.groups, s.f / s.groups, s.c / s.groups, s.k, s.k};
  geo.strides = {s.stride, s.stride};
  geo.dilates = {s.dilation - 1, s.dilation - 1};  // oneDNN counts the gaps
  geo.padL = {s.padBefore(), s.padBefore()};
  geo.padR = {s.padAfter(), s.padAfter()};
  runDnnlPass<dnnl::convolution_forward, dnnl::convolution_backward_data, dnnl::convolution_backward_weights>(
      state, p, threads, dnnl::algorithm::convolution_direct, geo, s.flops());
}
#endif

std::vector<ConvShape> shapes() {
  // fashion_cnn at batch 64: conv1 28x28x1 -> 32, conv2 14x14x32 -> 64, both 5x5 same.
  return {{"cnn_conv1_28x28x1x32", 64, 28, 28, 1, 32, 5},
          {"cnn_conv2_14x14x32x64", 64, 14, 14, 32, 64, 5},
          // The convolution variants at batch 8: MobileNet's depthwise 3x3 at 56x56x64 (stride
          // 1 and 2), a dilated 3x3 64 -> 64 at 56x56, a grouped 3x3 128 -> 128 in 4 groups.
          {"mobilenet_dw3x3_56x56x64", 8, 56, 56, 64, 64, 3, 1, 1, 64},
          {"mobilenet_dw3x3_56x56x64_s2", 8, 56, 56, 64, 64, 3, 2, 1, 64},
          {"dil2_3x3_56x56x64x64", 8, 56, 56, 64, 64, 3, 1, 2, 1},
          {"grp4_3x3_28x28x128x128", 8, 28, 28, 128, 128, 3, 1, 1, 4}};
}

const int registered = [] {
  for (int threads : {1, 2}) {
    for (const ConvShape& s : shapes()) {
      for (Pass p : {Pass::Forward, Pass::BackwardData, Pass::BackwardWeights}) {
        std::string suffix = s.name + "/" + passName(p) + "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(("nnc/" + suffix).c_str(), runNnc, s, p, threads)->UseRealTime()->MinTime(0.2);
#ifdef NNC_BENCH_HAVE_DNNL
        benchmark::RegisterBenchmark(("onednn/" + suffix).c_str(), runDnnl, s, p, threads)->UseRealTime()->MinTime(0.2);
#endif
      }
    }
  }
  return 0;
}();

}  // namespace

#include "bench/kernels/ConvTransposeBench.h"  // the transposed convolution (conv2d_transpose)

NNC_BENCHMARK_MAIN_UNHINDERED();
