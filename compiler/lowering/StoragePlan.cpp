#include "compiler/lowering/StoragePlan.h"

#include <algorithm>
#include <map>

#include "compiler/lowering/InPlaceAccumulations.h"
#include "compiler/lowering/InPlaceUpdates.h"

namespace nnc::lowering {

void planStorage(LoweredGraph& out, const LoweringOptions& options) {
  const Graph& g = *out.graph;
  auto bytesOf = [&](NodeId n) {
    Extent e = elementsOf(g.type(n).shape);
    e.k *= 4;
    return e;
  };
  int steps = static_cast<int>(out.kernels.size());  // the copy step comes last
  std::vector<int64_t> bufferOf(g.size(), -1);
  // Update values written straight into their targets' bytes: views of the target, so the
  // kernel's loads of the old value and stores of the new share one alias scope.
  // Accumulations into a persistent buffer, likewise (InPlaceAccumulations.h).
  for (NodeId a : inPlaceAccumulations(out)) out.storage[static_cast<size_t>(a)] = {StorageKind::View, g.node(a).inputs[0]};
  std::vector<bool> inPlace = inPlaceUpdates(out, options.writeOnlyUpdatesInPlace);
  for (size_t i = 0; i < g.updates.size(); ++i)
    if (inPlace[i]) out.storage[static_cast<size_t>(g.updates[i].value)] = {StorageKind::View, g.updates[i].target};
  for (size_t k = 0; k < out.kernels.size(); ++k) {
    const Kernel& kern = out.kernels[k];
    std::vector<NodeId> written;
    // A product is inline in its epilogue, its partial sums kept in the last member's
    // buffer; when that member is written in place, the sums need a buffer of their own.
    bool lastInPlace = !kern.epilogue.empty() && out.storage[static_cast<size_t>(kern.epilogue.back())].kind == StorageKind::View;
    if (kern.epilogue.empty() || lastInPlace) written.push_back(kern.root);
    written.insert(written.end(), kern.stored.begin(), kern.stored.end());
    for (NodeId n : written) {
      if (out.storage[static_cast<size_t>(n)].kind == StorageKind::View) continue;  // in place
      Extent e = elementsOf(g.type(n).shape);
      BufferRequest req;
      if (e.batched)
        req.bytesPerBatch = e.k * 4;
      else
        req.bytes = e.k * 4;
      req.first = req.last = static_cast<int>(k);
      bufferOf[static_cast<size_t>(n)] = static_cast<int64_t>(out.buffers.size());
      out.storage[static_cast<size_t>(n)] = {StorageKind::Arena, static_cast<int64_t>(out.buffers.size())};
      out.buffers.push_back(req);
      out.bufferNode.push_back(n);
    }
  }
  auto extend = [&](NodeId node, int step) {
    NodeId r = out.storageRoot(node);
    int64_t b = bufferOf[static_cast<size_t>(r)];
    if (b >= 0) out.buffers[static_cast<size_t>(b)].last = std::max(out.buffers[static_cast<size_t>(b)].last, step);
  };
  for (size_t k = 0; k < out.kernels.size(); ++k)
    for (NodeId r : out.kernels[k].reads) extend(r, static_cast<int>(k));

  // Copies: outputs first, then updates (through temporaries when the value lives in the
  // state, which the updates are about to overwrite).
  std::map<NodeId, int> outputsOf;  // storage root -> how many outputs it is
  for (const Output& o : g.outputs) ++outputsOf[out.storageRoot(o.node)];
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    NodeId n = g.outputs[i].node;
    NodeId r = out.storageRoot(n);
    Storage& rs = out.storage[static_cast<size_t>(r)];
    if (rs.kind == StorageKind::Arena && out.bufferNode[static_cast<size_t>(rs.index)] == r && outputsOf[r] == 1) {
      rs.output = static_cast<int64_t>(i);  // written in place by its kernel: no copy
      continue;
    }
    extend(n, steps);
    out.copies.push_back({CopyStep::From::Node, CopyStep::To::Output, n, static_cast<int64_t>(i), bytesOf(n)});
  }
  std::vector<CopyStep> finals;
  for (const Update& u : g.updates) {
    extend(u.value, steps);
    NodeId r = out.storageRoot(u.value);
    int64_t target = out.storage[static_cast<size_t>(u.target)].index;
    Extent bytes = bytesOf(u.value);
    if (out.storage[static_cast<size_t>(r)].kind == StorageKind::State) {
      if (r == u.target) continue;  // writes a value onto itself
      BufferRequest req;
      req.bytes = bytes.k;
      req.first = req.last = steps;
      int64_t temp = static_cast<int64_t>(out.buffers.size());
      out.buffers.push_back(req);
      out.bufferNode.push_back(kNoNode);
      out.copies.push_back({CopyStep::From::Node, CopyStep::To::Temp, u.value, temp, bytes});
      finals.push_back({CopyStep::From::Temp, CopyStep::To::State, temp, target, bytes});
    } else {
      finals.push_back({CopyStep::From::Node, CopyStep::To::State, u.value, target, bytes});
    }
  }
  out.copies.insert(out.copies.end(), finals.begin(), finals.end());
  out.memory = planMemory(out.buffers);
}

}  // namespace nnc::lowering
