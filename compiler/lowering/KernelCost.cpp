#include "compiler/lowering/KernelCost.h"

#include <set>

#include "compiler/ir/TypedAttrs.h"

namespace nnc {

namespace {

// fixed + perSample * batch
struct Amount {
  double fixed = 0, perSample = 0;
  void add(Extent e, double scale) { (e.batched ? perSample : fixed) += double(e.k) * scale; }
};

constexpr double kElementBytes = 4;  // f32 and i32, every dtype today

// Multiply-adds per output element of a product or convolution (the OutFusable ops), or 0
// for other ops; `overBatch` when the sum runs over the batch (a weight gradient), so that
// the count is per sample.
struct Macs {
  double perOutput = 0;
  bool overBatch = false;
};

Macs macsPerOutput(const Graph& g, const Node& n) {
  auto dim = [&](NodeId id, int fromEnd) {
    const Shape& s = g.type(id).shape;
    return s[s.rank() - size_t(fromEnd)];
  };
  if (opCategory(n.op) != OpCategory::OutFusable) return {};
  if (n.op == OpKind::MatMul) {  // a[..., M, K] (or [..., K, M] transposed)
    int64_t k = MatMulTransposeAttr::of(n).transA ? dim(n.inputs[0], 2) : dim(n.inputs[0], 1);
    return k == kBatch ? Macs{1, true} : Macs{double(k), false};
  }
  if (n.op == OpKind::Conv2D) {  // w[kh, kw, C, F]: kh * kw * C per output
    const Shape& w = g.type(n.inputs[1]).shape;
    return {double(w[0] * w[1] * w[2]), false};
  }
  if (n.op == OpKind::Conv2DGradInput) {  // (dy, w): dx element = sum over kh, kw, F (strided: fewer)
    const Shape& w = g.type(n.inputs[1]).shape;
    double dyElems = 1, dxElems = 1;
    for (int64_t d : g.type(n.inputs[0]).shape.dims) dyElems *= d == kBatch ? 1 : double(d);
    for (int64_t d : n.type.shape.dims) dxElems *= d == kBatch ? 1 : double(d);
    return {double(w[0] * w[1] * w[2] * w[3]) * dyElems / double(w[3]) / dxElems, false};
  }
  if (n.op == OpKind::Conv2DGradFilter) {  // (x, dy): dw element = sum over N, OH, OW
    const Shape& dy = g.type(n.inputs[1]).shape;
    return {double(dy[1] * dy[2]), true};
  }
  return {};  // an OutFusable op this table does not know yet: counted as elementwise work
}

}  // namespace

std::vector<KernelCost> kernelCosts(const LoweredGraph& lg) {
  const Graph& g = *lg.graph;
  std::vector<KernelCost> costs;
  for (size_t k = 0; k < lg.kernels.size(); ++k) {
    const Kernel& kern = lg.kernels[k];
    const Node& root = g.node(kern.root);
    KernelCost c;
    // Appended, not "literal" + std::string&&: GCC 12 warns there (-Wrestrict, a false positive).
    auto append = [&c](const auto&... parts) { ((c.label += parts), ...); };
    append("k", std::to_string(k), " ", opName(root.op));
    for (NodeId e : kern.epilogue) append(" +", opName(g.node(e).op));
    // A multi-output reduce kernel names its sibling reductions (SiblingReductions.h).
    size_t siblings = 0;
    if (loweringKind(root.op) == LoweringKind::Reduce)
      for (NodeId f : kern.fused)
        if (loweringKind(g.node(f).op) == LoweringKind::Reduce) {
          append(" &", opName(g.node(f).op));
          ++siblings;
        }
    if (kern.fused.size() > siblings) append(" (", std::to_string(kern.fused.size() - siblings), " fused)");
    Amount flops, bytes;
    const Extent out = elementsOf(root.type.shape);
    const Macs m = macsPerOutput(g, root);
    const double macs = m.perOutput;
    if (m.overBatch)  // each sample adds its products to every (unbatched) output element
      flops.perSample += 2.0 * macs * double(out.k);
    else if (macs > 0)
      flops.add(out, 2.0 * macs);
    // Elementwise work runs over the output, a reduction's over its operand.
    const bool reduces = loweringKind(root.op) == LoweringKind::Reduce;
    const Extent space = reduces ? elementsOf(g.type(root.inputs[0]).shape) : out;
    flops.add(space, double(kern.fused.size() + kern.epilogue.size()) + (macs > 0 ? 0.0 : 1.0));
    std::set<NodeId> touched(kern.reads.begin(), kern.reads.end());
    touched.insert(kern.root);
    touched.insert(kern.stored.begin(), kern.stored.end());
    for (NodeId n : touched) {
      StorageKind kind = lg.storage[size_t(n)].kind;
      if (kind == StorageKind::Uniform || kind == StorageKind::Inline || kind == StorageKind::None) continue;
      bytes.add(elementsOf(g.type(n).shape), kElementBytes);
    }
    c.flopsFixed = flops.fixed;
    c.flopsPerSample = flops.perSample;
    c.bytesFixed = bytes.fixed;
    c.bytesPerSample = bytes.perSample;
    costs.push_back(std::move(c));
  }
  return costs;
}

}  // namespace nnc
