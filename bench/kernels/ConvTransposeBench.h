// conv_bench's transposed convolution (conv2d_transpose): a stride-2 4x4 `same` transposed
// convolution at a decoder's shape, x [32, 14, 14, 64] -> [32, 28, 28, 32], forward (nnc's
// conv2d_grad_input on x), backward data (conv2d) and backward weights (conv2d_grad_filter),
// against oneDNN's deconvolution primitives, at 1 and 2 threads. Included by conv_bench.cpp,
// whose helpers (Pass, randomData, Compiled, runs) it reuses.
#pragma once

namespace {

struct DeconvShape {
  std::string name;
  int64_t n, h, w, c, f, k, s, pad;  // x [n, h, w, c] -> [n, h * s, w * s, f]
  int64_t oh() const { return h * s; }
  int64_t ow() const { return w * s; }
  double flops() const { return 2.0 * static_cast<double>(n * h * w * k * k * c * f); }
};

Compiled& compiledForDeconv(const DeconvShape& s, Pass p) {
  static std::map<std::string, Compiled> cache;
  std::string key = s.name + passName(p);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  Compiled& out = cache[key];
  Graph g;
  auto f32 = [](std::vector<int64_t> d) { return nnc::TensorType{DType::F32, nnc::Shape(std::move(d))}; };
  nnc::Attrs geo{{"strides", std::vector<int64_t>{s.s, s.s}}, {"pads", std::vector<int64_t>{s.pad, s.pad, s.pad, s.pad}}};
  NodeId x = g.addLeaf(OpKind::Input, "x", f32({kBatch, s.h, s.w, s.c}));
  NodeId w = g.addLeaf(OpKind::Input, "w", f32({s.k, s.k, s.f, s.c}));  // conv2d_transpose's [kh, kw, filters, in]
  NodeId dy = g.addLeaf(OpKind::Input, "dy", f32({kBatch, s.oh(), s.ow(), s.f}));
  nnc::Result<NodeId> r = [&] {
    if (p == Pass::Forward) {
      geo.set("input_hw", std::vector<int64_t>{s.oh(), s.ow()});
      return g.add(OpKind::Conv2DGradInput, {x, w}, geo);
    }
    if (p == Pass::BackwardData) return g.add(OpKind::Conv2D, {dy, w}, geo);
    geo.set("kernel", std::vector<int64_t>{s.k, s.k});
    return g.add(OpKind::Conv2DGradFilter, {dy, x}, geo);
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

void runNncDeconv(benchmark::State& state, DeconvShape s, Pass p, int threads) {
  nnc_set_num_threads(threads);
  Compiled& c = compiledForDeconv(s, p);
  if (!c.model) {
    state.SkipWithError("compile failed");
    return;
  }
  std::vector<const void*> in;
  for (auto& v : c.inputs) in.push_back(v.data());
  std::vector<void*> outs{nullptr};
  for (auto _ : state) {
    auto ok = c.model->forward(in, outs, s.n);
    if (!ok.ok()) {
      state.SkipWithError(ok.error().message.c_str());
      break;
    }
  }
  state.counters["FLOPS"] = benchmark::Counter(s.flops(), benchmark::Counter::kIsIterationInvariantRate);
}

#ifdef NNC_BENCH_HAVE_DNNL
void runDnnlDeconv(benchmark::State& state, DeconvShape s, Pass p, int threads) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  omp_set_num_threads(threads);
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  memory::dims src{s.n, s.c, s.h, s.w}, wei{s.f, s.c, s.k, s.k}, dst{s.n, s.f, s.oh(), s.ow()};
  memory::dims strides{s.s, s.s}, padL{s.pad, s.pad}, padR{s.pad, s.pad};
  memory::desc srcMd(src, dt::f32, tag::nhwc), dstMd(dst, dt::f32, tag::nhwc), weiAny(wei, dt::f32, tag::any);
  deconvolution_forward::desc fd(prop_kind::forward_training, algorithm::deconvolution_direct, srcMd, weiAny, dstMd,
                                 strides, padL, padR);
  deconvolution_forward::primitive_desc fpd(fd, eng);
  auto filled = [&](const memory::desc& md, uint64_t seed) {
    memory m(md, eng);
    std::vector<float> v = randomData(md.get_size() / sizeof(float), seed);
    std::memcpy(m.get_data_handle(), v.data(), md.get_size());
    return m;
  };
  primitive prim;
  std::unordered_map<int, memory> args;
  if (p == Pass::Forward) {
    prim = deconvolution_forward(fpd);
    args = {{DNNL_ARG_SRC, filled(fpd.src_desc(), 1)},
            {DNNL_ARG_WEIGHTS, filled(fpd.weights_desc(), 2)},
            {DNNL_ARG_DST, memory(fpd.dst_desc(), eng)}};
  } else if (p == Pass::BackwardData) {
    deconvolution_backward_data::desc bd(algorithm::deconvolution_direct, srcMd, weiAny, dstMd, strides, padL, padR);
    deconvolution_backward_data::primitive_desc bpd(bd, eng, fpd);
    prim = deconvolution_backward_data(bpd);
    args = {{DNNL_ARG_DIFF_DST, filled(bpd.diff_dst_desc(), 1)},
            {DNNL_ARG_WEIGHTS, filled(bpd.weights_desc(), 2)},
            {DNNL_ARG_DIFF_SRC, memory(bpd.diff_src_desc(), eng)}};
  } else {
    deconvolution_backward_weights::desc bd(algorithm::deconvolution_direct, srcMd, weiAny, dstMd, strides, padL, padR);
    deconvolution_backward_weights::primitive_desc bpd(bd, eng, fpd);
    prim = deconvolution_backward_weights(bpd);
    args = {{DNNL_ARG_SRC, filled(bpd.src_desc(), 1)},
            {DNNL_ARG_DIFF_DST, filled(bpd.diff_dst_desc(), 2)},
            {DNNL_ARG_DIFF_WEIGHTS, memory(bpd.diff_weights_desc(), eng)}};
  }
  for (auto _ : state) {
    prim.execute(strm, args);
    strm.wait();
  }
  state.counters["FLOPS"] = benchmark::Counter(s.flops(), benchmark::Counter::kIsIterationInvariantRate);
}
#endif

const int registeredDeconv = [] {
  const DeconvShape s{"deconv_4x4s2_14x14x64x32", 32, 14, 14, 64, 32, 4, 2, 1};
  for (int threads : {1, 2})
    for (Pass p : {Pass::Forward, Pass::BackwardData, Pass::BackwardWeights}) {
      std::string suffix = s.name + "/" + passName(p) + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(("nnc/" + suffix).c_str(), runNncDeconv, s, p, threads)->UseRealTime()->MinTime(0.2);
#ifdef NNC_BENCH_HAVE_DNNL
      benchmark::RegisterBenchmark(("onednn/" + suffix).c_str(), runDnnlDeconv, s, p, threads)->UseRealTime()->MinTime(0.2);
#endif
    }
  return 0;
}();

}  // namespace
