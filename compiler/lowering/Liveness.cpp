#include "compiler/lowering/Liveness.h"

#include <algorithm>

#include "compiler/ir/TypedAttrs.h"

namespace nnc::lowering {

Result<NodeUses> markLive(const Graph& g, LoweredGraph& out) {
  size_t n = g.size();
  NodeUses uses;
  uses.needsBuffer.assign(n, false);
  uses.pinned.assign(n, false);
  uses.users.assign(n, {});
  out.live.assign(n, false);
  std::vector<NodeId> roots;
  for (const Output& o : g.outputs) roots.push_back(o.node);
  for (const Update& u : g.updates) {
    const Node& t = g.node(u.target);
    if (t.op != OpKind::Param && t.op != OpKind::State)
      return makeError("internal: an update writes node %" + std::to_string(u.target) + ", which is not a param or state");
    roots.push_back(u.value);
  }
  for (NodeId r : roots) {
    out.live[static_cast<size_t>(r)] = true;
    uses.pinned[static_cast<size_t>(r)] = true;  // leaves the graph: must be stored
    uses.needsBuffer[static_cast<size_t>(r)] = true;
  }
  for (size_t i = g.size(); i-- > 0;) {
    if (!out.live[i]) continue;
    for (NodeId in : g.nodes()[i].inputs) {
      out.live[static_cast<size_t>(in)] = true;
      uses.users[static_cast<size_t>(in)].push_back(static_cast<NodeId>(i));
    }
  }
  for (auto& u : uses.users) {
    std::sort(u.begin(), u.end());
    u.erase(std::unique(u.begin(), u.end()), u.end());
  }
  return uses;
}

Result<void> assignLeafStorage(const Graph& g, const StateLayout& layout, LoweredGraph& out) {
  int64_t input = 0, hyper = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const Node& nd = g.nodes()[i];
    Storage& s = out.storage[i];
    // Only leaves have storage before partitioning; each leaf op has its own source.
    if (!isLeaf(nd.op)) continue;
    if (nd.op == OpKind::Input) {
      out.inputs.push_back(static_cast<NodeId>(i));
      s = {StorageKind::Input, input++};
    } else if (nd.op == OpKind::Hyper) {
      out.hypers.push_back(static_cast<NodeId>(i));
      s = {StorageKind::Hyper, hyper++};
    } else if (nd.op == OpKind::Param || nd.op == OpKind::State) {
      const StateEntry* e = layout.find(nd.name);
      if (!e || e->type != nd.type)
        return makeError("internal: " + std::string(opName(nd.op)) + " '" + nd.name + "' is not in the state layout");
      s = {StorageKind::State, e->offset};
    } else if (nd.op == OpKind::Constant) {
      if (!ConstantAttr::of(nd).invalid().empty())
        return makeError("internal: constant %" + std::to_string(i) + " has neither 'value' nor 'values'", nd.loc);
      if (!ConstantAttr::of(nd).isFill()) {
        size_t count = ConstantAttr::of(nd).values->size();
        if (nd.type.shape.isBatched() || static_cast<int64_t>(count) != nd.type.shape.numElements())
          return makeError("internal: constant %" + std::to_string(i) + " lists " + std::to_string(count) +
                               " values for " + nd.type.str(),
                           nd.loc);
        s = {StorageKind::Global, static_cast<int64_t>(i)};
      } else {
        s = {StorageKind::Uniform, 0};
      }
    } else {
      return makeError("internal: the planner has no storage for leaf op '" + std::string(opName(nd.op)) + "'", nd.loc);
    }
  }
  return {};
}

}  // namespace nnc::lowering
