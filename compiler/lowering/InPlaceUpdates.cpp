#include "compiler/lowering/InPlaceUpdates.h"

#include <algorithm>
#include <map>

namespace nnc {

namespace {

bool contains(const std::vector<NodeId>& v, NodeId n) { return std::find(v.begin(), v.end(), n) != v.end(); }

// Whether `member`, an elementwise member of a kernel whose loop runs over `space`, reads
// each operand of shape `space` at the position it writes. Transpose and slice remap
// positions; a reshape of the target reaches here as a view with another shape.
bool readsAtItsOwnPosition(const Node& member, const Shape& space) {
  return loweringKind(member.op) == LoweringKind::Fused && opCategory(member.op) != OpCategory::Injective &&
         member.type.shape == space;
}

class InPlaceCheck {
 public:
  InPlaceCheck(const LoweredGraph& lg, bool writeOnlyTargets) : lg_(lg), g_(*lg.graph), writeOnlyTargets_(writeOnlyTargets) {}

  bool allowed(const Update& u, size_t index) const {
    if (writeOnlyTargets_ && allowedAsWriteOnly(u, index)) return true;
    const Storage& target = lg_.storage[static_cast<size_t>(u.target)];
    if (target.kind != StorageKind::State) return false;
    if (!(g_.type(u.value).shape == g_.type(u.target).shape)) return false;
    if (lg_.storageRoot(u.value) != u.value) return false;  // a view or a leaf: nothing computes it
    int k = lg_.kernelOf[static_cast<size_t>(u.value)];
    if (k < 0) return false;
    const Kernel& kern = lg_.kernels[static_cast<size_t>(k)];
    if (!writtenByElementwiseLoop(kern, u.value)) return false;
    if (!onlyUpdateOf(u, index)) return false;
    if (readAtTheEnd(u.target)) return false;
    // Every other kernel that reads the target runs before this one.
    for (size_t j = static_cast<size_t>(k) + 1; j < lg_.kernels.size(); ++j)
      if (readsTarget(lg_.kernels[j].reads, u.target)) return false;
    return readsTargetOnlyInPlace(kern, u.target);
  }

 private:
  // A target that no kernel reads and that is no output (a split step's gradient slot): any
  // kernel that writes the value whole may write it there. Not the last member of a
  // convolution's epilogue, which holds the partial sums (see writtenByElementwiseLoop).
  bool allowedAsWriteOnly(const Update& u, size_t index) const {
    if (lg_.storage[static_cast<size_t>(u.target)].kind != StorageKind::State) return false;
    if (!(g_.type(u.value).shape == g_.type(u.target).shape)) return false;
    if (lg_.storageRoot(u.value) != u.value) return false;
    int k = lg_.kernelOf[static_cast<size_t>(u.value)];
    if (k < 0) return false;
    const Kernel& kern = lg_.kernels[static_cast<size_t>(k)];
    bool written = kern.epilogue.empty() ? (u.value == kern.root || contains(kern.stored, u.value))
                                         : contains(kern.stored, u.value) &&
                                               (u.value != kern.epilogue.back() || g_.node(kern.root).op == OpKind::MatMul);
    if (!written || !onlyUpdateOf(u, index) || readAtTheEnd(u.target)) return false;
    for (const Kernel& other : lg_.kernels)
      if (readsTarget(other.reads, u.target)) return false;
    return true;
  }

  // The value is the root of an elementwise kernel or one of its stored members, or a stored
  // member of a matmul or convolution epilogue. The last epilogue member normally holds the
  // partial sums while the product accumulates; when it goes in place, the matmul keeps its
  // sums in a buffer of its own instead (StoragePlan.cpp, EmitMatMul.cpp). Convolutions always
  // accumulate in the last member, so theirs stays out of the state.
  bool writtenByElementwiseLoop(const Kernel& kern, NodeId value) const {
    if (kern.rows) return false;
    // SGD's sparse embedding step (issue 13) reads and writes each touched row at its place.
    if (g_.node(kern.root).op == OpKind::EmbeddingSgdUpdate) return value == kern.root;  // a row kernel reads whole rows before it writes any
    // So does the clearing of an embedding's gradient buffer (EmbeddingGradBuffers.h).
    if (g_.node(kern.root).op == OpKind::EmbeddingGradClear) return value == kern.root;
    if (kern.epilogue.empty()) {
      if (loweringKind(g_.node(kern.root).op) != LoweringKind::Fused) return false;
      return value == kern.root || contains(kern.stored, value);
    }
    if (!contains(kern.stored, value)) return false;
    return value != kern.epilogue.back() || g_.node(kern.root).op == OpKind::MatMul;
  }

  bool onlyUpdateOf(const Update& u, size_t index) const {
    for (size_t i = 0; i < g_.updates.size(); ++i) {
      if (i == index) continue;
      const Update& o = g_.updates[i];
      if (o.target == u.target || o.value == u.value) return false;
      // Another update copies the target's old bytes after the kernels ran.
      if (lg_.storageRoot(o.value) == u.target) return false;
    }
    return true;
  }

  // Outputs are copied after every kernel ran: one that is the target would see the new value.
  bool readAtTheEnd(NodeId target) const {
    for (const Output& o : g_.outputs)
      if (lg_.storageRoot(o.node) == target) return true;
    return false;
  }

  bool readsTarget(const std::vector<NodeId>& reads, NodeId target) const {
    for (NodeId r : reads)
      if (lg_.storageRoot(r) == target) return true;
    return false;
  }

  // Within the updating kernel, only elementwise members read the target, each at the
  // position being written; a matmul or convolution host must not read it at all.
  bool readsTargetOnlyInPlace(const Kernel& kern, NodeId target) const {
    const Shape& space = g_.type(target).shape;
    std::vector<NodeId> members = kern.fused;
    members.insert(members.end(), kern.epilogue.begin(), kern.epilogue.end());
    if (kern.epilogue.empty()) {
      members.push_back(kern.root);
    } else {
      for (NodeId in : g_.node(kern.root).inputs)
        if (lg_.storageRoot(in) == target) return false;
    }
    for (NodeId m : members) {
      const Node& member = g_.node(m);
      for (size_t i = 0; i < member.inputs.size(); ++i) {
        NodeId in = member.inputs[i];
        if (lg_.storageRoot(in) != target) continue;
        if (member.op == OpKind::EmbeddingSgdUpdate && i == 0 && in == target) continue;  // the table it steps
        if (member.op == OpKind::EmbeddingGradClear && i == 0) continue;  // the buffer it clears, or its accumulation there
        if (in != target || !readsAtItsOwnPosition(member, space)) return false;
      }
    }
    return true;
  }

  const LoweredGraph& lg_;
  const Graph& g_;
  bool writeOnlyTargets_;
};

}  // namespace

std::vector<bool> inPlaceUpdates(const LoweredGraph& lg, bool writeOnlyTargets) {
  const Graph& g = *lg.graph;
  InPlaceCheck check(lg, writeOnlyTargets);
  std::vector<bool> inPlace(g.updates.size(), false);
  for (size_t i = 0; i < g.updates.size(); ++i) inPlace[i] = check.allowed(g.updates[i], i);
  return inPlace;
}

}  // namespace nnc
