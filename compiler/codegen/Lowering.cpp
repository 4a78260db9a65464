#include "compiler/codegen/Lowering.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <queue>
#include <set>

#include "compiler/codegen/InPlaceUpdates.h"
#include "compiler/codegen/InPlaceAccumulations.h"
#include "compiler/ir/Verifier.h"

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

namespace {

bool isFillConstant(const Node& n) { return n.op == OpKind::Constant && !n.attrs.has("values"); }

// Fusion follows the category lattice (Ops.def): a Fused member of category Elementwise or
// Broadcast reads its operands at the position it writes; an Injective one (transpose, slice)
// reads them at remapped positions, so they must be in memory.
bool remapsPositions(OpKind op) { return opCategory(op) == OpCategory::Injective; }

// Operands of a fused member that may themselves fuse: not those of a remapping member;
// BatchNorm's statistics have another shape anyway.
bool operandsMayFuse(const Node& member) { return !remapsPositions(member.op); }

class Partitioner {
 public:
  Partitioner(const Graph& g, const StateLayout& layout, LoweredGraph& out, const LoweringOptions& options)
      : g_(g), layout_(layout), out_(out), fuseEpilogues_(options.fuseEpilogues), fuseRows_(options.fuseRows) {}

  Result<void> run() {
    size_t n = g_.size();
    out_.graph = &g_;
    out_.live.assign(n, false);
    out_.kernelOf.assign(n, -1);
    out_.storage.assign(n, Storage{});
    needsBuffer_.assign(n, false);
    pinned_.assign(n, false);
    users_.assign(n, {});
    coveredUsers_.assign(n, {});

    NNC_TRY(markLive());
    NNC_TRY(assignLeaves());
    NNC_TRY(partition());
    orderKernels();
    collectReads();
    planBuffers();
    return {};
  }

 private:
  Result<void> markLive() {
    std::vector<NodeId> roots;
    for (const Output& o : g_.outputs) roots.push_back(o.node);
    for (const Update& u : g_.updates) {
      const Node& t = g_.node(u.target);
      if (t.op != OpKind::Param && t.op != OpKind::State)
        return makeError("internal: an update writes node %" + std::to_string(u.target) + ", which is not a param or state");
      roots.push_back(u.value);
    }
    for (NodeId r : roots) {
      out_.live[static_cast<size_t>(r)] = true;
      pinned_[static_cast<size_t>(r)] = true;  // leaves the graph: must be stored
      needsBuffer_[static_cast<size_t>(r)] = true;
    }
    for (size_t i = g_.size(); i-- > 0;) {
      if (!out_.live[i]) continue;
      for (NodeId in : g_.nodes()[i].inputs) {
        out_.live[static_cast<size_t>(in)] = true;
        users_[static_cast<size_t>(in)].push_back(static_cast<NodeId>(i));
      }
    }
    for (auto& u : users_) {
      std::sort(u.begin(), u.end());
      u.erase(std::unique(u.begin(), u.end()), u.end());
    }
    return {};
  }

  Result<void> assignLeaves() {
    int64_t input = 0, hyper = 0;
    for (size_t i = 0; i < g_.size(); ++i) {
      const Node& nd = g_.nodes()[i];
      Storage& s = out_.storage[i];
      switch (nd.op) {
        case OpKind::Input:
          out_.inputs.push_back(static_cast<NodeId>(i));
          s = {StorageKind::Input, input++};
          break;
        case OpKind::Hyper:
          out_.hypers.push_back(static_cast<NodeId>(i));
          s = {StorageKind::Hyper, hyper++};
          break;
        case OpKind::Param:
        case OpKind::State: {
          const StateEntry* e = layout_.find(nd.name);
          if (!e || e->type != nd.type)
            return makeError("internal: " + std::string(opName(nd.op)) + " '" + nd.name + "' is not in the state layout");
          s = {StorageKind::State, e->offset};
          break;
        }
        case OpKind::Constant:
          if (!nd.attrs.has("values") && !nd.attrs.has("value"))
            return makeError("internal: constant %" + std::to_string(i) + " has neither 'value' nor 'values'", nd.loc);
          if (nd.attrs.has("values")) {
            size_t count = std::max(nd.attrs.getFloats("values").size(), nd.attrs.getInts("values").size());
            if (nd.type.shape.isBatched() || static_cast<int64_t>(count) != nd.type.shape.numElements())
              return makeError("internal: constant %" + std::to_string(i) + " lists " + std::to_string(count) +
                                   " values for " + nd.type.str(),
                               nd.loc);
            s = {StorageKind::Global, static_cast<int64_t>(i)};
          } else {
            s = {StorageKind::Uniform, 0};
          }
          break;
        default:
          break;
      }
    }
    return {};
  }

  int newKernel(NodeId root) {
    out_.kernels.push_back(Kernel{root, {}, {}, {}, {}, false});
    int k = static_cast<int>(out_.kernels.size()) - 1;
    out_.kernelOf[static_cast<size_t>(root)] = k;
    return k;
  }

  Result<void> partition() {
    for (size_t i = g_.size(); i-- > 0;) {
      if (!out_.live[i] || out_.kernelOf[i] >= 0) continue;
      NodeId id = static_cast<NodeId>(i);
      const Node& nd = g_.node(id);
      LoweringKind kind = loweringKind(nd.op);
      switch (kind) {
        case LoweringKind::Leaf:
          // A fill constant that something must read from memory becomes a fill kernel.
          if (isFillConstant(nd) && needsBuffer_[i]) {
            newKernel(id);
            out_.storage[i] = {StorageKind::Arena, 0};
          }
          break;
        case LoweringKind::View:
          out_.storage[i] = {StorageKind::View, nd.inputs[0]};
          needsBuffer_[static_cast<size_t>(nd.inputs[0])] = true;
          break;
        case LoweringKind::Uniform:
          if (needsBuffer_[i]) {
            newKernel(id);
            out_.storage[i] = {StorageKind::Arena, 0};
          } else {
            out_.storage[i] = {StorageKind::Uniform, 0};
          }
          break;
        case LoweringKind::Fused:
        case LoweringKind::Reduce:
          if (!growRowKernel(id)) growFusedKernel(newKernel(id));
          out_.storage[i] = {StorageKind::Arena, 0};
          break;
        case LoweringKind::Custom:
          if (recomputedEverywhere(id)) {
            out_.storage[i] = {StorageKind::Inline, 0};
            break;
          }
          if (!fuseAsEpilogueHost(id)) {
            newKernel(id);
            out_.storage[i] = {StorageKind::Arena, 0};
          }
          for (NodeId in : nd.inputs) needsBuffer_[static_cast<size_t>(in)] = true;
          break;
      }
    }
    return {};
  }

  // Epilogue fusion (NNC_FUSE_EPILOGUES=0 turns it off): a matmul or forward convolution whose every user is in one elementwise kernel E, reading it at
  // the same position, takes E over. E's members become the matmul kernel's epilogue, applied
  // to each output tile after its last K block; the product itself is never stored (its
  // partial sums live in E's output buffer). The kernel runs where E ran, after all of E's
  // other operands and the matmul's own. Members that remap positions (transpose, slice) or
  // an E that is a reduction keep the two kernels apart.
  bool fuseAsEpilogueHost(NodeId mm) {
    size_t mi = static_cast<size_t>(mm);
    const Node& m = g_.node(mm);
    if (!fuseEpilogues_) return false;
    if ((m.op != OpKind::MatMul && m.op != OpKind::Conv2D) || pinned_[mi] || needsBuffer_[mi] || users_[mi].empty()) return false;
    int e = out_.kernelOf[static_cast<size_t>(users_[mi].front())];
    if (e < 0) return false;
    Kernel& kern = out_.kernels[static_cast<size_t>(e)];
    const Node& root = g_.node(kern.root);
    if (loweringKind(root.op) != LoweringKind::Fused || kern.rows || !kern.epilogue.empty() || root.type.dtype != DType::F32 ||
        !(root.type.shape == m.type.shape))
      return false;
    for (NodeId u : users_[mi])
      if (out_.kernelOf[static_cast<size_t>(u)] != e) return false;
    std::vector<NodeId> members = kern.fused;
    members.push_back(kern.root);
    for (NodeId x : members) {
      OpKind op = g_.node(x).op;
      if (remapsPositions(op)) return false;
      if (op == OpKind::BroadcastTo && g_.node(x).inputs[0] == mm) return false;
    }
    kern.epilogue = members;  // ascending: fused is sorted and the root is the highest id
    kern.stored.push_back(kern.root);
    kern.fused.clear();
    kern.root = mm;
    out_.kernelOf[mi] = e;
    out_.storage[mi] = {StorageKind::Inline, 0};
    return true;
  }

  // ---- row kernels (Kernel::rows) -------------------------------------------------------
  static bool recomputable(OpKind op) { return op == OpKind::LogSoftmax || op == OpKind::Softmax || op == OpKind::OneHot; }

  // A sum over exactly the last axis of a [rows..., A] operand.
  bool isRowSum(const Node& n) const {
    if (n.op != OpKind::ReduceSum || n.type.dtype != DType::F32) return false;
    const Shape& s = g_.type(n.inputs[0]).shape;
    std::vector<int64_t> axes = n.attrs.getInts("axes");
    return s.rank() >= 1 && axes.size() == 1 && normalizeAxis(axes[0], s.rank()) == static_cast<int64_t>(s.rank()) - 1;
  }

  // Whether `p` may be a member of a row kernel over `space`, and whether its operands then
  // join the search (recomputed members read theirs from memory).
  bool rowMemberKind(const Node& p, const Shape& space, bool* offer) const {
    *offer = true;
    int64_t last = static_cast<int64_t>(space.rank()) - 1;
    if (p.op == OpKind::LogSoftmax || p.op == OpKind::Softmax) {
      *offer = false;
      return p.type.shape == space && p.type.dtype == DType::F32 &&
             normalizeAxis(p.attrs.getInt("axis", -1), space.rank()) == last;
    }
    if (p.op == OpKind::OneHot) {
      *offer = false;
      return p.type.shape == space && g_.type(p.inputs[0]).dtype == DType::I32;
    }
    // A per-row sum used inside the row: only with keepdims, which broadcasts along the row.
    if (isRowSum(p)) return g_.type(p.inputs[0]).shape == space && p.attrs.getInt("keepdims", 0) != 0;
    // broadcast_to reads its operand at the broadcast position (a per-row value, as autodiff
    // writes the loss gradient, or a per-class one); transpose and slice remap positions.
    if (loweringKind(p.op) != LoweringKind::Fused || p.type.shape != space) return false;
    return isElementwiseLike(p.op);  // not transpose or slice (Injective), nor batchnorm (Opaque)
  }

  // Tries to make `root` (elementwise over [rows..., A], or a sum over the last axis of such
  // an operand) a row kernel: claims producers as growFusedKernel does, and also sums over the
  // last axis (used with keepdims) and softmax / log_softmax / one_hot, which it recomputes.
  // Only a kernel that recomputes one of those is worth a row kernel; otherwise nothing is
  // claimed and the caller grows an ordinary fused kernel.
  bool growRowKernel(NodeId root) {
    if (!fuseRows_) return false;
    const Node& r = g_.node(root);
    bool reduce = loweringKind(r.op) == LoweringKind::Reduce;
    if (reduce && !isRowSum(r)) return false;
    if (!reduce && !isElementwiseLike(r.op)) return false;
    const Shape& space = reduce ? g_.type(r.inputs[0]).shape : r.type.shape;
    if (space.rank() < 1 || space.dims.back() == kBatch || space.dims.back() < 1) return false;
    std::set<NodeId> members{root};
    std::vector<NodeId> fused, stored, recomputed;
    std::set<NodeId> readFirst;
    std::priority_queue<NodeId> work;
    std::set<NodeId> queued;
    auto offer = [&](NodeId member) {
      for (NodeId in : g_.node(member).inputs)
        if (queued.insert(in).second) work.push(in);
    };
    offer(root);
    while (!work.empty()) {
      NodeId p = work.top();
      work.pop();
      size_t pi = static_cast<size_t>(p);
      const Node& pn = g_.node(p);
      bool offerOperands = true;
      // The operand of a recomputed member is read before the row's last pass: never a member.
      // A recomputable one another row kernel stores is still recomputed here: that kernel
      // may run after this one.
      bool claimed = out_.kernelOf[pi] >= 0;
      if ((claimed && !recomputable(pn.op)) || readFirst.count(p) || !rowMemberKind(pn, space, &offerOperands)) continue;
      if (recomputable(pn.op)) {
        members.insert(p);
        fused.push_back(p);
        recomputed.push_back(p);
        readFirst.insert(pn.inputs[0]);
        // Needed in memory too (an output: the probabilities next to the loss)? Stored by
        // this kernel when every reader that does not recompute it runs later.
        bool inMemory = pinned_[pi] || needsBuffer_[pi], later = true;
        for (NodeId u : users_[pi]) {
          if (members.count(u) || coveredUsers_[pi].count(u)) continue;
          inMemory = true;
          later = later && u > root;
        }
        if (inMemory && later && !claimed) stored.push_back(p);
        continue;
      }
      bool allInside = true, outsideAfter = true;
      for (NodeId u : users_[pi]) {
        if (members.count(u)) continue;
        allInside = false;
        outsideAfter = outsideAfter && u > root;
      }
      bool inlined = allInside && !pinned_[pi] && !needsBuffer_[pi];
      if (!inlined && !outsideAfter) continue;
      members.insert(p);
      fused.push_back(p);
      if (!inlined) stored.push_back(p);
      if (offerOperands) offer(p);
    }
    if (recomputed.empty()) return false;
    // Siblings: another softmax / log_softmax of a recomputed one's operand that must be in
    // memory (the probabilities output next to the loss) is stored by this kernel too, from
    // the statistics it computes anyway, when everything that reads it runs later.
    for (size_t i = 0, n = recomputed.size(); i < n; ++i) {
      const Node& l = g_.node(recomputed[i]);
      if (l.op == OpKind::OneHot) continue;
      for (NodeId u : users_[static_cast<size_t>(l.inputs[0])]) {
        size_t ui = static_cast<size_t>(u);
        const Node& un = g_.node(u);
        bool offerOperands = true;
        if (members.count(u) || out_.kernelOf[ui] >= 0 || (un.op != OpKind::Softmax && un.op != OpKind::LogSoftmax) ||
            !rowMemberKind(un, space, &offerOperands))
          continue;
        bool needed = pinned_[ui], later = true;
        for (NodeId w : users_[ui]) {
          if (coveredUsers_[ui].count(w)) continue;
          needed = true;
          later = later && w > root;
        }
        if (!needed || !later) continue;
        members.insert(u);
        fused.push_back(u);
        recomputed.push_back(u);
        stored.push_back(u);
      }
    }
    int k = newKernel(root);
    Kernel& kern = out_.kernels[static_cast<size_t>(k)];
    kern.rows = true;
    std::sort(fused.begin(), fused.end());
    std::sort(stored.begin(), stored.end());
    kern.fused = fused;
    kern.stored = stored;
    for (NodeId p : fused) {
      bool isStored = std::binary_search(stored.begin(), stored.end(), p);
      if (recomputable(g_.node(p).op)) {
        // Its operand (logits, labels) is read from memory; its users here need no copy of it.
        needsBuffer_[static_cast<size_t>(g_.node(p).inputs[0])] = true;
        for (NodeId u : users_[static_cast<size_t>(p)])
          if (members.count(u)) coveredUsers_[static_cast<size_t>(p)].insert(u);
        if (!isStored) continue;
      }
      out_.kernelOf[static_cast<size_t>(p)] = k;
      out_.storage[static_cast<size_t>(p)] = {isStored ? StorageKind::Arena : StorageKind::Inline, 0};
    }
    return true;
  }

  // A member a row kernel recomputes without storing: it belongs to no kernel.
  bool recomputedOnly(const Kernel& k, NodeId f) const {
    return k.rows && recomputable(g_.node(f).op) && !std::binary_search(k.stored.begin(), k.stored.end(), f);
  }

  // A softmax / log_softmax / one_hot that every user recomputes in a row kernel: no kernel
  // of its own, never stored.
  bool recomputedEverywhere(NodeId id) const {
    size_t i = static_cast<size_t>(id);
    if (!recomputable(g_.node(id).op) || pinned_[i] || needsBuffer_[i] || users_[i].empty()) return false;
    for (NodeId u : users_[i])
      if (!coveredUsers_[i].count(u)) return false;
    return true;
  }

  // Claims same-shape elementwise producers for kernel k, highest id first (see the header).
  void growFusedKernel(int k) {
    NodeId root = out_.kernels[static_cast<size_t>(k)].root;
    const Node& r = g_.node(root);
    bool reduce = loweringKind(r.op) == LoweringKind::Reduce;
    // The loop's shape: the output for Fused, the operand for Reduce.
    const Shape& space = reduce ? g_.type(r.inputs[0]).shape : r.type.shape;
    std::priority_queue<NodeId> work;
    std::set<NodeId> queued;
    auto offerOperands = [&](NodeId member) {
      const Node& m = g_.node(member);
      if (!operandsMayFuse(m)) return;
      for (NodeId in : m.inputs)
        if (queued.insert(in).second) work.push(in);
    };
    offerOperands(root);
    Kernel& kern = out_.kernels[static_cast<size_t>(k)];
    while (!work.empty()) {
      NodeId p = work.top();
      work.pop();
      const Node& pn = g_.node(p);
      size_t pi = static_cast<size_t>(p);
      if (loweringKind(pn.op) != LoweringKind::Fused || out_.kernelOf[pi] >= 0 || !(pn.type.shape == space)) continue;
      // Users outside the kernel: none (inline), or all after it (stored).
      bool allInside = true, outsideAfter = true;
      for (NodeId u : users_[pi]) {
        if (out_.kernelOf[static_cast<size_t>(u)] == k) continue;
        allInside = false;
        outsideAfter = outsideAfter && u > root;
      }
      bool inlined = allInside && !pinned_[pi] && !needsBuffer_[pi];
      bool stored = !inlined && !reduce && outsideAfter;
      if (!inlined && !stored) continue;
      out_.kernelOf[pi] = k;
      out_.storage[pi] = {inlined ? StorageKind::Inline : StorageKind::Arena, 0};
      kern.fused.push_back(p);
      if (stored) kern.stored.push_back(p);
      offerOperands(p);
    }
    std::sort(kern.fused.begin(), kern.fused.end());
    std::sort(kern.stored.begin(), kern.stored.end());
  }

  // In the order of the last node each kernel computes (its root, or its epilogue's last).
  void orderKernels() {
    auto last = [](const Kernel& k) { return k.epilogue.empty() ? k.root : k.epilogue.back(); };
    std::sort(out_.kernels.begin(), out_.kernels.end(), [&](const Kernel& a, const Kernel& b) { return last(a) < last(b); });
    std::fill(out_.kernelOf.begin(), out_.kernelOf.end(), -1);
    for (size_t k = 0; k < out_.kernels.size(); ++k) {
      out_.kernelOf[static_cast<size_t>(out_.kernels[k].root)] = static_cast<int>(k);
      for (NodeId f : out_.kernels[k].fused)
        if (!recomputedOnly(out_.kernels[k], f)) out_.kernelOf[static_cast<size_t>(f)] = static_cast<int>(k);
      for (NodeId f : out_.kernels[k].epilogue) out_.kernelOf[static_cast<size_t>(f)] = static_cast<int>(k);
    }
  }

  void collectReads() {
    for (size_t k = 0; k < out_.kernels.size(); ++k) {
      Kernel& kern = out_.kernels[k];
      std::set<NodeId> reads;
      // A row kernel's recomputed members are computed, not read, wherever else they live.
      std::set<NodeId> own;
      if (kern.rows) own.insert(kern.fused.begin(), kern.fused.end());
      auto visit = [&](NodeId member) {
        for (NodeId in : g_.node(member).inputs)
          if (out_.kernelOf[static_cast<size_t>(in)] != static_cast<int>(k) && !own.count(in)) reads.insert(in);
      };
      visit(kern.root);
      for (NodeId f : kern.fused) visit(f);
      for (NodeId f : kern.epilogue) visit(f);
      kern.reads.assign(reads.begin(), reads.end());
    }
  }

  void planBuffers() {
    int steps = static_cast<int>(out_.kernels.size());  // the copy step comes last
    std::vector<int64_t> bufferOf(g_.size(), -1);
    // Update values written straight into their targets' bytes: views of the target, so the
    // kernel's loads of the old value and stores of the new share one alias scope.
    // Accumulations into a persistent buffer, likewise (InPlaceAccumulations.h).
    for (NodeId a : inPlaceAccumulations(out_)) out_.storage[static_cast<size_t>(a)] = {StorageKind::View, g_.node(a).inputs[0]};
    std::vector<bool> inPlace = inPlaceUpdates(out_);
    for (size_t i = 0; i < g_.updates.size(); ++i)
      if (inPlace[i]) out_.storage[static_cast<size_t>(g_.updates[i].value)] = {StorageKind::View, g_.updates[i].target};
    for (size_t k = 0; k < out_.kernels.size(); ++k) {
      const Kernel& kern = out_.kernels[k];
      std::vector<NodeId> written;
      // A product is inline in its epilogue, its partial sums kept in the last member's
      // buffer; when that member is written in place, the sums need a buffer of their own.
      bool lastInPlace = !kern.epilogue.empty() && out_.storage[static_cast<size_t>(kern.epilogue.back())].kind == StorageKind::View;
      if (kern.epilogue.empty() || lastInPlace) written.push_back(kern.root);
      written.insert(written.end(), kern.stored.begin(), kern.stored.end());
      for (NodeId n : written) {
        if (out_.storage[static_cast<size_t>(n)].kind == StorageKind::View) continue;  // in place
        Extent e = elementsOf(g_.type(n).shape);
        BufferRequest req;
        if (e.batched)
          req.bytesPerBatch = e.k * 4;
        else
          req.bytes = e.k * 4;
        req.first = req.last = static_cast<int>(k);
        bufferOf[static_cast<size_t>(n)] = static_cast<int64_t>(out_.buffers.size());
        out_.storage[static_cast<size_t>(n)] = {StorageKind::Arena, static_cast<int64_t>(out_.buffers.size())};
        out_.buffers.push_back(req);
        out_.bufferNode.push_back(n);
      }
    }
    auto extend = [&](NodeId node, int step) {
      NodeId r = out_.storageRoot(node);
      int64_t b = bufferOf[static_cast<size_t>(r)];
      if (b >= 0) out_.buffers[static_cast<size_t>(b)].last = std::max(out_.buffers[static_cast<size_t>(b)].last, step);
    };
    for (size_t k = 0; k < out_.kernels.size(); ++k)
      for (NodeId r : out_.kernels[k].reads) extend(r, static_cast<int>(k));

    // Copies: outputs first, then updates (through temporaries when the value lives in the
    // state, which the updates are about to overwrite).
    std::map<NodeId, int> outputsOf;  // storage root -> how many outputs it is
    for (const Output& o : g_.outputs) ++outputsOf[out_.storageRoot(o.node)];
    for (size_t i = 0; i < g_.outputs.size(); ++i) {
      NodeId n = g_.outputs[i].node;
      NodeId r = out_.storageRoot(n);
      Storage& rs = out_.storage[static_cast<size_t>(r)];
      if (rs.kind == StorageKind::Arena && out_.bufferNode[static_cast<size_t>(rs.index)] == r && outputsOf[r] == 1) {
        rs.output = static_cast<int64_t>(i);  // written in place by its kernel: no copy
        continue;
      }
      extend(n, steps);
      out_.copies.push_back({CopyStep::From::Node, CopyStep::To::Output, n, static_cast<int64_t>(i), bytesOf(n)});
    }
    std::vector<CopyStep> finals;
    for (const Update& u : g_.updates) {
      extend(u.value, steps);
      NodeId r = out_.storageRoot(u.value);
      int64_t target = out_.storage[static_cast<size_t>(u.target)].index;
      Extent bytes = bytesOf(u.value);
      if (out_.storage[static_cast<size_t>(r)].kind == StorageKind::State) {
        if (r == u.target) continue;  // writes a value onto itself
        BufferRequest req;
        req.bytes = bytes.k;
        req.first = req.last = steps;
        int64_t temp = static_cast<int64_t>(out_.buffers.size());
        out_.buffers.push_back(req);
        out_.bufferNode.push_back(kNoNode);
        out_.copies.push_back({CopyStep::From::Node, CopyStep::To::Temp, u.value, temp, bytes});
        finals.push_back({CopyStep::From::Temp, CopyStep::To::State, temp, target, bytes});
      } else {
        finals.push_back({CopyStep::From::Node, CopyStep::To::State, u.value, target, bytes});
      }
    }
    out_.copies.insert(out_.copies.end(), finals.begin(), finals.end());
    out_.memory = planMemory(out_.buffers);
  }

  Extent bytesOf(NodeId n) const {
    Extent e = elementsOf(g_.type(n).shape);
    e.k *= 4;
    return e;
  }

  const Graph& g_;
  const StateLayout& layout_;
  LoweredGraph& out_;
  std::vector<bool> needsBuffer_;  // read from memory by some user (or leaves the graph)
  std::vector<bool> pinned_;       // an output or update value
  std::vector<std::vector<NodeId>> users_;
  std::vector<std::set<NodeId>> coveredUsers_;  // users that recompute a node in their row kernel
  bool fuseEpilogues_;
  bool fuseRows_;
};

}  // namespace

LoweringOptions LoweringOptions::fromEnvironment() {
  auto on = [](const char* name) {
    const char* v = std::getenv(name);
    return !v || std::string(v) != "0";
  };
  LoweringOptions o;
  o.fuseEpilogues = on("NNC_FUSE_EPILOGUES");
  o.fuseRows = on("NNC_FUSE_ROWS");
  return o;
}

Result<LoweredGraph> lowerGraph(const Graph& g, const StateLayout& layout, const LoweringOptions& options) {
  NNC_TRY(verifyGraph(g));
  LoweredGraph out;
  Partitioner p(g, layout, out, options);
  NNC_TRY(p.run());
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
