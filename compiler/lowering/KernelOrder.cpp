#include "compiler/lowering/KernelOrder.h"

#include <algorithm>
#include <set>

#include "compiler/lowering/FusionRoles.h"

namespace nnc::lowering {

namespace {

// A member a row kernel recomputes without storing: it belongs to no kernel.
bool recomputedOnly(const Graph& g, const Kernel& k, NodeId f) {
  return k.rows && recomputedInRows(g.node(f).op) && !std::binary_search(k.stored.begin(), k.stored.end(), f);
}

}  // namespace

// In the order of the last node each kernel computes (its root, or its epilogue's last).
void orderKernels(LoweredGraph& out) {
  const Graph& g = *out.graph;
  auto last = [](const Kernel& k) { return k.epilogue.empty() ? k.root : k.epilogue.back(); };
  std::sort(out.kernels.begin(), out.kernels.end(), [&](const Kernel& a, const Kernel& b) { return last(a) < last(b); });
  std::fill(out.kernelOf.begin(), out.kernelOf.end(), -1);
  for (size_t k = 0; k < out.kernels.size(); ++k) {
    out.kernelOf[static_cast<size_t>(out.kernels[k].root)] = static_cast<int>(k);
    for (NodeId f : out.kernels[k].fused)
      if (!recomputedOnly(g, out.kernels[k], f)) out.kernelOf[static_cast<size_t>(f)] = static_cast<int>(k);
    for (NodeId f : out.kernels[k].epilogue) out.kernelOf[static_cast<size_t>(f)] = static_cast<int>(k);
  }
}

void collectReads(LoweredGraph& out) {
  const Graph& g = *out.graph;
  for (size_t k = 0; k < out.kernels.size(); ++k) {
    Kernel& kern = out.kernels[k];
    std::set<NodeId> reads;
    // A row kernel's recomputed members are computed, not read, wherever else they live.
    std::set<NodeId> own;
    if (kern.rows) own.insert(kern.fused.begin(), kern.fused.end());
    auto visit = [&](NodeId member) {
      for (NodeId in : g.node(member).inputs)
        if (out.kernelOf[static_cast<size_t>(in)] != static_cast<int>(k) && !own.count(in)) reads.insert(in);
    };
    visit(kern.root);
    for (NodeId f : kern.fused) visit(f);
    for (NodeId f : kern.epilogue) visit(f);
    kern.reads.assign(reads.begin(), reads.end());
  }
}

}  // namespace nnc::lowering
