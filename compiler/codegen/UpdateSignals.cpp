#include "compiler/codegen/UpdateSignals.h"

#include <algorithm>

namespace nnc {

std::vector<std::vector<UpdateSignal>> updateSignals(const LoweredGraph& lg) {
  const Graph& g = *lg.graph;
  std::vector<std::vector<UpdateSignal>> out(lg.kernels.size());
  auto touches = [&](NodeId n, NodeId target) { return lg.storageRoot(n) == target; };
  for (const Update& u : g.updates) {
    const Storage& target = lg.storage[static_cast<size_t>(u.target)];
    if (target.kind != StorageKind::State || !touches(u.value, u.target)) continue;  // copied at the end
    int last = lg.kernelOf[static_cast<size_t>(u.value)];
    if (last < 0) continue;
    bool readAtTheEnd = false;
    for (const Output& o : g.outputs) readAtTheEnd |= touches(o.node, u.target);
    for (const CopyStep& c : lg.copies)
      readAtTheEnd |= c.from == CopyStep::From::Node && touches(static_cast<NodeId>(c.src), u.target);
    if (readAtTheEnd) continue;
    for (size_t k = 0; k < lg.kernels.size(); ++k)
      for (NodeId r : lg.kernels[k].reads)
        if (touches(r, u.target)) last = std::max(last, static_cast<int>(k));
    out[static_cast<size_t>(last)].push_back({target.index, elementsOf(g.type(u.target).shape).k * 4});
  }
  return out;
}

}  // namespace nnc
