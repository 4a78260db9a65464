#include "compiler/lowering/InPlaceAccumulations.h"

#include <set>

namespace nnc {

namespace {

// Ops whose value is operand 0 plus something, computed by a kernel that reads operand 0
// only where it writes (EmitEmbedding.cpp).
bool accumulatesIntoOperand0(OpKind op) { return op == OpKind::EmbeddingGradAccumulate; }

bool accumulatesInPlace(const LoweredGraph& lg, NodeId node, const std::set<NodeId>& taken) {
  const Graph& g = *lg.graph;
  int k = lg.kernelOf[static_cast<size_t>(node)];
  if (k < 0 || lg.kernels[static_cast<size_t>(k)].root != node) return false;
  NodeId buffer = g.node(node).inputs[0];
  if (lg.storage[static_cast<size_t>(buffer)].kind != StorageKind::State || taken.count(buffer)) return false;
  auto atEnd = [&](NodeId n) {
    NodeId r = lg.storageRoot(n);
    return r == buffer || r == node;
  };
  // Copied out after every kernel ran, when the buffer holds something else.
  for (const Output& o : g.outputs)
    if (atEnd(o.node)) return false;
  for (const Update& u : g.updates)
    if (atEnd(u.value)) return false;
  // Every other reader of the old value runs before the accumulation.
  for (size_t j = static_cast<size_t>(k) + 1; j < lg.kernels.size(); ++j)
    for (NodeId r : lg.kernels[j].reads)
      if (lg.storageRoot(r) == buffer) return false;
  for (NodeId in : g.node(node).inputs)
    if (in != buffer && lg.storageRoot(in) == buffer) return false;
  return true;
}

}  // namespace

std::vector<NodeId> inPlaceAccumulations(const LoweredGraph& lg) {
  const Graph& g = *lg.graph;
  std::vector<NodeId> out;
  std::set<NodeId> taken;  // buffers already accumulated into in place
  for (size_t i = 0; i < g.size(); ++i) {
    NodeId id = static_cast<NodeId>(i);
    if (!lg.live[i] || !accumulatesIntoOperand0(g.node(id).op) || !accumulatesInPlace(lg, id, taken)) continue;
    taken.insert(g.node(id).inputs[0]);
    out.push_back(id);
  }
  return out;
}

}  // namespace nnc
