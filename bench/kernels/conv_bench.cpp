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
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/codegen/CompiledModel.h"
#include "compiler/ir/Graph.h"
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

// One-op graph of the pass; its operands are Inputs (so they are not part of the state).
Compiled& compiledFor(const ConvShape& s, Pass p) {
  static std::map<std::string, Compiled> cache;
  std::string key = s.name + passName(p);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  Compiled& out = cache[key];
  Graph g;
  auto f32 = [](std::vector<int64_t> d) { return nnc::TensorType{DType::F32, nnc::Shape(std::move(d))}; };
  std::vector<int64_t> pads{s.padBefore(), s.padBefore(), s.padAfter(), s.padAfter()};
  nnc::Attrs geo{{"strides", std::vector<int64_t>{s.stride, s.stride}}, {"pads", pads}};
  if (s.dilation != 1) geo.set("dilations", std::vector<int64_t>{s.dilation, s.dilation});
  if (s.groups != 1) geo.set("groups", s.groups);
  NodeId x = g.addLeaf(OpKind::Input, "x", f32({kBatch, s.h, s.w, s.c}));
  NodeId w = g.addLeaf(OpKind::Input, "w", f32({s.k, s.k, s.c / s.groups, s.f}));
  NodeId dy = g.addLeaf(OpKind::Input, "dy", f32({kBatch, s.oh(), s.ow(), s.f}));
  nnc::Result<NodeId> r = [&] {
    if (p == Pass::Forward) return g.add(OpKind::Conv2D, {x, w}, geo);
    if (p == Pass::BackwardData) {
      geo.set("input_hw", std::vector<int64_t>{s.h, s.w});
      return g.add(OpKind::Conv2DGradInput, {dy, w}, geo);
    }
    geo.set("kernel", std::vector<int64_t>{s.k, s.k});
    return g.add(OpKind::Conv2DGradFilter, {x, dy}, geo);
  }();
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
    out.inputs.push_back(randomData(static_cast<size_t>(t.type.shape.numElements(s.n)), out.inputs.size() + 1));
  return out;
}

void setCounters(benchmark::State& state, const ConvShape& s) {
  state.counters["FLOPS"] = benchmark::Counter(s.flops(), benchmark::Counter::kIsIterationInvariantRate);
}

void runNnc(benchmark::State& state, ConvShape s, Pass p, int threads) {
  nnc_set_num_threads(threads);
  Compiled& c = compiledFor(s, p);
  if (!c.model) {
    state.SkipWithError("compile failed");
    return;
  }
  std::vector<const void*> in;
  for (auto& v : c.inputs) in.push_back(v.data());
  std::vector<void*> outs{nullptr};  // see the top: no copy out
  for (auto _ : state) {
    auto ok = c.model->forward(in, outs, s.n);
    if (!ok.ok()) {
      state.SkipWithError(ok.error().message.c_str());
      break;
    }
  }
  setCounters(state, s);
}

#ifdef NNC_BENCH_HAVE_DNNL
void runDnnl(benchmark::State& state, ConvShape s, Pass p, int threads) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  omp_set_num_threads(threads);
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  memory::dims src{s.n, s.c, s.h, s.w}, dst{s.n, s.f, s.oh(), s.ow()};
  memory::dims wei = s.groups == 1 ? memory::dims{s.f, s.c, s.k, s.k}
                                   : memory::dims{s.groups, s.f / s.groups, s.c / s.groups, s.k, s.k};
  memory::dims strides{s.stride, s.stride}, padL{s.padBefore(), s.padBefore()}, padR{s.padAfter(), s.padAfter()};
  memory::dims dilates{s.dilation - 1, s.dilation - 1};  // oneDNN counts the gaps
  memory::desc srcMd(src, dt::f32, tag::nhwc), dstMd(dst, dt::f32, tag::nhwc), weiAny(wei, dt::f32, tag::any);
  convolution_forward::desc fd(prop_kind::forward_training, algorithm::convolution_direct, srcMd, weiAny, dstMd,
                               strides, dilates, padL, padR);
  convolution_forward::primitive_desc fpd(fd, eng);
  auto filled = [&](const memory::desc& md, uint64_t seed) {
    memory m(md, eng);
    std::vector<float> v = randomData(md.get_size() / sizeof(float), seed);
    std::memcpy(m.get_data_handle(), v.data(), md.get_size());
    return m;
  };
  primitive prim;
  std::unordered_map<int, memory> args;
  if (p == Pass::Forward) {
    prim = convolution_forward(fpd);
    args = {{DNNL_ARG_SRC, filled(fpd.src_desc(), 1)},
            {DNNL_ARG_WEIGHTS, filled(fpd.weights_desc(), 2)},
            {DNNL_ARG_DST, memory(fpd.dst_desc(), eng)}};
  } else if (p == Pass::BackwardData) {
    convolution_backward_data::desc bd(algorithm::convolution_direct, srcMd, weiAny, dstMd, strides, dilates, padL,
                                       padR);
    convolution_backward_data::primitive_desc bpd(bd, eng, fpd);
    prim = convolution_backward_data(bpd);
    args = {{DNNL_ARG_DIFF_DST, filled(bpd.diff_dst_desc(), 1)},
            {DNNL_ARG_WEIGHTS, filled(bpd.weights_desc(), 2)},
            {DNNL_ARG_DIFF_SRC, memory(bpd.diff_src_desc(), eng)}};
  } else {
    convolution_backward_weights::desc bd(algorithm::convolution_direct, srcMd, weiAny, dstMd, strides, dilates, padL,
                                          padR);
    convolution_backward_weights::primitive_desc bpd(bd, eng, fpd);
    prim = convolution_backward_weights(bpd);
    args = {{DNNL_ARG_SRC, filled(bpd.src_desc(), 1)},
            {DNNL_ARG_DIFF_DST, filled(bpd.diff_dst_desc(), 2)},
            {DNNL_ARG_DIFF_WEIGHTS, memory(bpd.diff_weights_desc(), eng)}};
  }
  for (auto _ : state) {
    prim.execute(strm, args);
    strm.wait();
  }
  setCounters(state, s);
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
