// conv_bench's transposed convolution (conv2d_transpose): a stride-2 4x4 `same` transposed
// convolution at a decoder's shape, x [32, 14, 14, 64] -> [32, 28, 28, 32], forward (nnc's
// conv2d_grad_input on x), backward data (conv2d) and backward weights (conv2d_grad_filter),
// against oneDNN's deconvolution primitives, at 1 and 2 threads. Included by conv_bench.cpp,
// whose helpers (Pass, compileOnce, runCompiled, runDnnlPass) it reuses.
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
  return compileOnce(s.name + passName(p), s.n, [&](Graph& g) {
    nnc::Attrs geo{{"strides", std::vector<int64_t>{s.s, s.s}}, {"pads", std::vector<int64_t>{s.pad, s.pad, s.pad, s.pad}}};
    NodeId x = g.addLeaf(OpKind::Input, "x", f32({kBatch, s.h, s.w, s.c}));
    NodeId w = g.addLeaf(OpKind::Input, "w", f32({s.k, s.k, s.f, s.c}));  // conv2d_transpose's [kh, kw, filters, in]
    NodeId dy = g.addLeaf(OpKind::Input, "dy", f32({kBatch, s.oh(), s.ow(), s.f}));
    if (p == Pass::Forward) {
      geo.set("input_hw", std::vector<int64_t>{s.oh(), s.ow()});
      return g.add(OpKind::Conv2DGradInput, {x, w}, geo);
    }
    if (p == Pass::BackwardData) return g.add(OpKind::Conv2D, {dy, w}, geo);
    geo.set("kernel", std::vector<int64_t>{s.k, s.k});
    return g.add(OpKind::Conv2DGradFilter, {dy, x}, geo);
  });
}

void runNncDeconv(benchmark::State& state, DeconvShape s, Pass p, int threads) {
  runCompiled(state, compiledForDeconv(s, p), s.n, threads, s.flops());
}

#ifdef NNC_BENCH_HAVE_DNNL
void runDnnlDeconv(benchmark::State& state, DeconvShape s, Pass p, int threads) {
  DnnlGeometry geo{{s.n, s.c, s.h, s.w}, {s.f, s.c, s.k, s.k}, {s.n, s.f, s.oh(), s.ow()}, {s.s, s.s}, {0, 0},
                   {s.pad, s.pad}, {s.pad, s.pad}};
  runDnnlPass<dnnl::deconvolution_forward, dnnl::deconvolution_backward_data, dnnl::deconvolution_backward_weights>(
      state, p, threads, dnnl::algorithm::deconvolution_direct, geo, s.flops());
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
