#include "compiler/lowering/Lowering.h"

#include <algorithm>

#include "compiler/ir/Verifier.h"
#include "compiler/lowering/Fusion.h"
#include "compiler/lowering/KernelOrder.h"
#include "compiler/lowering/Liveness.h"
#include "compiler/lowering/StoragePlan.h"

namespace nnc {

Extent elementsOf(const Shape& s) {
  Extent e;
  for (int64_t d : s.dims) {
    if (d == kBatch)
      e.batched = true;
    else
      e.k *= d;
  }
  return e;
}

NodeId LoweredGraph::storageRoot(NodeId id) const {
  while (id != kNoNode && storage[static_cast<size_t>(id)].kind == StorageKind::View)
    id = static_cast<NodeId>(storage[static_cast<size_t>(id)].index);
  return id;
}

Result<LoweredGraph> lowerGraph(const Graph& g, const StateLayout& layout, const LoweringOptions& options) {
  NNC_TRY(verifyGraph(g));
  LoweredGraph out;
  out.graph = &g;
  out.kernelOf.assign(g.size(), -1);
  out.storage.assign(g.size(), Storage{});
  Result<lowering::NodeUses> uses = lowering::markLive(g, out);
  if (!uses) return uses.error();
  NNC_TRY(lowering::assignLeafStorage(g, layout, out));
  NNC_TRY(lowering::partitionKernels(g, *uses, out, options));
  lowering::orderKernels(out);
  lowering::collectReads(out);
  lowering::planStorage(out, options);
  return out;
}

std::string describeKernels(const LoweredGraph& lg) {
  std::string s;
  const Graph& g = *lg.graph;
  for (size_t k = 0; k < lg.kernels.size(); ++k) {
    const Kernel& kern = lg.kernels[k];
    s += std::string("k") + std::to_string(k) + ": " + opName(g.node(kern.root).op) + " %" + std::to_string(kern.root);
    if (!kern.fused.empty()) {
      s += " [fused:";
      for (NodeId f : kern.fused) {
        bool stored = std::find(kern.stored.begin(), kern.stored.end(), f) != kern.stored.end();
        s += std::string(" ") + opName(g.node(f).op) + " %" + std::to_string(f) + (stored ? "*" : "");
      }
      s += "]";
    }
    if (!kern.epilogue.empty()) {
      s += " [epilogue:";
      for (NodeId f : kern.epilogue) {
        bool stored = std::find(kern.stored.begin(), kern.stored.end(), f) != kern.stored.end();
        s += std::string(" ") + opName(g.node(f).op) + " %" + std::to_string(f) + (stored ? "*" : "");
      }
      s += "]";
    }
    if (!kern.reads.empty()) {
      s += " reads";
      for (NodeId r : kern.reads) s += std::string(" %") + std::to_string(r);
    }
    s += "\n";
  }
  return s;
}

}  // namespace nnc
