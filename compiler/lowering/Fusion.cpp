#include "compiler/lowering/Fusion.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <set>

#include "compiler/ir/EpilogueRowSums.h"
#include "compiler/ir/TypedAttrs.h"
#include "compiler/lowering/FusionRoles.h"
#include "compiler/lowering/SiblingReductions.h"

namespace nnc::lowering {

namespace {

bool isFillConstant(const Node& n) { return n.op == OpKind::Constant && ConstantAttr::of(n).isFill(); }

// Fusion follows the category lattice (Ops.def): a Fused member of category Elementwise or
// Broadcast reads its operands at the position it writes; an Injective one (transpose, slice)
// reads them at remapped positions, so they must be in memory.
bool remapsPositions(OpKind op) { return opCategory(op) == OpCategory::Injective; }

// Operands of a fused member that may themselves fuse: not those of a remapping member;
// BatchNorm's statistics have another shape anyway.
bool operandsMayFuse(const Node& member) { return !remapsPositions(member.op); }

// See Partitioner::streamsTooMuchForProduct: plain SGD (w read and written) stays fused;
// momentum SGD (w and its velocity: 4) and Adam (w and two moments: 6) run apart.
constexpr size_t kMaxEpilogueStreamsOnBatchProducts = 2;

class Partitioner {
 public:
  Partitioner(const Graph& g, NodeUses& uses, LoweredGraph& out, const LoweringOptions& options)
      : g_(g),
        out_(out),
        needsBuffer_(uses.needsBuffer),
        pinned_(uses.pinned),
        users_(uses.users),
        coveredUsers_(g.size()),
        fuseEpilogues_(options.fuseEpilogues),
        fuseRows_(options.fuseRows),
        fuseRowSums_(options.fuseRowSums),
        siblings_(g, out.live) {}

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
          if (!growRowKernel(id)) growReduceOrFusedKernel(newKernel(id));
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

 private:
  int newKernel(NodeId root) {
    out_.kernels.push_back(Kernel{root, {}, {}, {}, {}, false});
    int k = static_cast<int>(out_.kernels.size()) - 1;
    out_.kernelOf[static_cast<size_t>(root)] = k;
    return k;
  }

  // Epilogue fusion (NNC_FUSE_EPILOGUES=0 turns it off): a matmul or forward convolution whose every user is in one elementwise kernel E, reading it at
  // the same position, takes E over. E's members become the matmul kernel's epilogue, applied
  // to each output tile after its last K block; the product itself is never stored (its
  // partial sums live in E's output buffer). The kernel runs where E ran, after all of E's
  // other operands and the matmul's own. Members that remap positions (transpose, slice) or
  // an E that is a reduction keep the two kernels apart, and so does an optimizer that streams
  // its state through a weight gradient's tiles (streamsTooMuchForProduct).
  bool fuseAsEpilogueHost(NodeId mm) {
    size_t mi = static_cast<size_t>(mm);
    const Node& m = g_.node(mm);
    if (!fuseEpilogues_) return false;
    if (fusionRole(m) != FusionRole::EpilogueHost || pinned_[mi] || needsBuffer_[mi] || users_[mi].empty()) return false;
    int e = out_.kernelOf[static_cast<size_t>(users_[mi].front())];
    if (e < 0) return false;
    Kernel& kern = out_.kernels[static_cast<size_t>(e)];
    const Node& root = g_.node(kern.root);
    if (loweringKind(root.op) == LoweringKind::Reduce) return hostEpilogueRowSums(mm, e);
    if (loweringKind(root.op) != LoweringKind::Fused || kern.rows || !kern.epilogue.empty() || root.type.dtype != DType::F32 ||
        !(root.type.shape == m.type.shape))
      return false;
    for (NodeId u : users_[mi])
      if (out_.kernelOf[static_cast<size_t>(u)] != e) return false;
    std::vector<NodeId> members = kern.fused;
    members.push_back(kern.root);
    if (streamsTooMuchForProduct(mm, members, kern.stored.size() + 1)) return false;
    for (NodeId x : members) {
      OpKind op = g_.node(x).op;
      if (remapsPositions(op)) return false;
      // So does a broadcast_to of the product itself (an identity here, since members have the
      // product's shape): a rule kept from the first partitioner, whose reason is not recorded.
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

  // A weight gradient contracts over the batch, so each output element costs only 2*batch
  // FLOPs. An epilogue that streams several other full-size tensors through the tiles (an
  // optimizer's parameter and state, read and written in place) then turns the product
  // memory-bound, and in tile order: a few cache lines from each of many arrays at a time,
  // which the prefetchers cannot follow. As a separate streaming pass it runs at bandwidth.
  // Measured on fashion_cnn's 3136 x 1024 fc gradient (Zen 3, `bench --profile`): with Adam
  // 9.1 ms fused against 2.8 + 1.9 ms apart at 2 threads; with momentum SGD 24-39 ms against
  // 16-22 ms at 1 thread on a loaded machine; plain SGD about even.
  // Re-measured (session 10) after the GEMM learnt row panels for such epilogues (whole rows,
  // the next panel's state prefetched under the tiles, no gradient stored: GemmEmitter.cpp),
  // Adam, product + update (minimum and median of interleaved runs in one command): on a
  // 3136 x 1024 dense layer at batch 64, 1 thread 6.9-7.0 ms fused against 6.5-6.8 apart
  // (the old tile-order epilogue: 9.8-11), 2 threads 7.8-8.0 against 7.2-7.3; in
  // fashion_cnn's step at 2 threads 13.9-14.0 against 13.15-13.24 (step 64.0 against 62.3 ms);
  // at batch 512 (K blocks whose sums go through C) 43-70 against 38-57 on a loaded machine;
  // the data-parallel update entry (which multiplies the gathered factors, K = 128) even.
  // So the update still runs apart: fused it saves the 12.8 MB gradient's write and read
  // but no time. Adam's update pass is bound by its divisions and square root at 1 thread
  // (2.0-2.5 ms for 3.3M weights, 36-50 GB/s counted, above the triad probe's 13-15 GB/s:
  // part of the state stays in the 32 MiB L3), which the FMAs of the tiles cannot hide.
  // Plain SGD stays fused: with row panels 4.9-5.0 ms against 5.3-5.4 apart at 1 thread,
  // 5.40-5.42 against 5.64-5.78 at 2 (the old tile-order epilogue: 7.7-8.6).
  bool streamsTooMuchForProduct(NodeId mm, const std::vector<NodeId>& members, size_t stores) const {
    const Node& m = g_.node(mm);
    if (m.op != OpKind::MatMul) return false;
    const Shape& a = g_.type(m.inputs[0]).shape;
    if (a.rank() < 2) return false;
    int64_t k = a.dims[a.rank() - (MatMulTransposeAttr::of(m).transA ? 2 : 1)];
    if (k != kBatch) return false;
    std::set<NodeId> inside(members.begin(), members.end()), reads;
    for (NodeId x : members)
      for (NodeId in : g_.node(x).inputs)
        if (in != mm && !inside.count(in) && g_.type(in).shape == m.type.shape) reads.insert(in);
    return reads.size() + stores > kMaxEpilogueStreamsOnBatchProducts;
  }

  // ---- row kernels (Kernel::rows) -------------------------------------------------------
  // A sum over exactly the last axis of a [rows..., A] operand.
  bool isRowSum(const Node& n) const {
    if (fusionRole(n.op) != FusionRole::RowSum || n.type.dtype != DType::F32) return false;
    const Shape& s = g_.type(n.inputs[0]).shape;
    std::vector<int64_t> axes = AxesAttr::of(n).axes;
    return s.rank() >= 1 && axes.size() == 1 && normalizeAxis(axes[0], s.rank()) == static_cast<int64_t>(s.rank()) - 1;
  }

  // Whether `p` may be a member of a row kernel over `space`, and whether its operands then
  // join the search (recomputed members read theirs from memory).
  bool rowMemberKind(const Node& p, const Shape& space, bool* offer) const {
    *offer = true;
    int64_t last = static_cast<int64_t>(space.rank()) - 1;
    if (fusionRole(p.op) == FusionRole::RowNormalization) {
      *offer = false;
      return p.type.shape == space && p.type.dtype == DType::F32 &&
             normalizeAxis(AxisAttr::of(p).axis, space.rank()) == last;
    }
    if (fusionRole(p.op) == FusionRole::RowIndicator) {
      *offer = false;
      return p.type.shape == space && g_.type(p.inputs[0]).dtype == DType::I32;
    }
    // A per-row sum used inside the row: only with keepdims, which broadcasts along the row.
    if (isRowSum(p)) return g_.type(p.inputs[0]).shape == space && AxesAttr::of(p).keepdims;
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
      if ((claimed && !recomputedInRows(pn.op)) || readFirst.count(p) || !rowMemberKind(pn, space, &offerOperands)) continue;
      if (recomputedInRows(pn.op)) {
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
      if (fusionRole(l.op) != FusionRole::RowNormalization) continue;
      for (NodeId u : users_[static_cast<size_t>(l.inputs[0])]) {
        size_t ui = static_cast<size_t>(u);
        const Node& un = g_.node(u);
        bool offerOperands = true;
        if (members.count(u) || out_.kernelOf[ui] >= 0 || fusionRole(un.op) != FusionRole::RowNormalization ||
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
      if (recomputedInRows(g_.node(p).op)) {
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

  // A softmax / log_softmax / one_hot that every user recomputes in a row kernel: no kernel
  // of its own, never stored.
  bool recomputedEverywhere(NodeId id) const {
    size_t i = static_cast<size_t>(id);
    if (!recomputedInRows(g_.node(id).op) || pinned_[i] || needsBuffer_[i] || users_[i].empty()) return false;
    for (NodeId u : users_[i])
      if (!coveredUsers_[i].count(u)) return false;
    return true;
  }

  // Claims same-shape elementwise producers for kernel k, highest id first (see the header).
  // A reduction stores producers too when allowStores and reductionMayStore say so.
  void growFusedKernel(int k, bool allowStores = false) {
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
    for (NodeId sibling : kern.fused) offerOperands(sibling);  // sibling reductions, if any
    const bool reduceStores = reduce && allowStores && reductionMayStore(g_, root);
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
        outsideAfter = outsideAfter && runsAfter(u, k);
      }
      bool inlined = allInside && !pinned_[pi] && !needsBuffer_[pi];
      bool stored = !inlined && (!reduce || reduceStores) && outsideAfter;
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

  // ---- multi-output reduce kernels (issue 14) -------------------------------------------
  // A node outside kernel k that runs after it: a later id, or claimed already by another
  // kernel (every kernel found so far computes its last node after k's root).
  bool runsAfter(NodeId u, int k) const {
    int uk = out_.kernelOf[static_cast<size_t>(u)];
    return u > out_.kernels[static_cast<size_t>(k)].root || (uk >= 0 && uk != k);
  }

  // An elementwise kernel, or a reduction with its sibling reductions (SiblingReductions.h)
  // and its producers; a reduction also stores producers that others read later (the
  // gradient it sums, needed by the convolution's gradients), unless that would take the
  // producers from a matmul or convolution that hosts them as its epilogue: its output would
  // then be written and read once more than the producers' own.
  void growReduceOrFusedKernel(int k) {
    NodeId root = out_.kernels[static_cast<size_t>(k)].root;
    if (loweringKind(g_.node(root).op) != LoweringKind::Reduce) return growFusedKernel(k);
    claimSiblingReductions(k);
    growFusedKernel(k, true);
    Kernel& kern = out_.kernels[static_cast<size_t>(k)];
    if (kern.stored.size() == siblingCount(kern) || !takesAnEpilogue(k)) return;
    // Unless the epilogue host takes the whole kernel, row sums included.
    if (rowSumHostOf(k) != kNoNode) return;
    // Start over without stores: release every producer, keep the siblings.
    std::vector<NodeId> siblings;
    for (NodeId f : kern.fused) {
      if (loweringKind(g_.node(f).op) == LoweringKind::Reduce) {
        siblings.push_back(f);
        continue;
      }
      out_.kernelOf[static_cast<size_t>(f)] = -1;
      out_.storage[static_cast<size_t>(f)] = {};
    }
    kern.fused = siblings;
    kern.stored = siblings;
    growFusedKernel(k, false);
  }

  size_t siblingCount(const Kernel& kern) const {
    size_t n = 0;
    for (NodeId f : kern.fused) n += loweringKind(g_.node(f).op) == LoweringKind::Reduce;
    return n;
  }

  // Whether a member of kernel k reads an epilogue host whose every user is in k.
  bool takesAnEpilogue(int k) const {
    if (!fuseEpilogues_) return false;
    for (NodeId f : out_.kernels[static_cast<size_t>(k)].fused)
      for (NodeId in : g_.node(f).inputs) {
        size_t ii = static_cast<size_t>(in);
        if (fusionRole(g_.node(in)) != FusionRole::EpilogueHost || users_[ii].empty()) continue;
        bool all = true;
        for (NodeId u : users_[ii]) all = all && out_.kernelOf[static_cast<size_t>(u)] == k;
        if (all) return true;
      }
    return false;
  }

  // The values of the operand space that a reduction's loop would compute or read: its
  // operand and, through same-shape elementwise producers, theirs (at most a few dozen).
  std::set<NodeId> operandSpaceValues(NodeId reduction) const {
    const Shape& space = g_.type(g_.node(reduction).inputs[0]).shape;
    std::set<NodeId> seen;
    std::vector<NodeId> work{g_.node(reduction).inputs[0]};
    constexpr size_t kMaxValues = 64;
    while (!work.empty() && seen.size() < kMaxValues) {
      NodeId q = work.back();
      work.pop_back();
      const Node& qn = g_.node(q);
      if (!(qn.type.shape == space) || !seen.insert(q).second) continue;
      if (loweringKind(qn.op) == LoweringKind::Fused && operandsMayFuse(qn))
        work.insert(work.end(), qn.inputs.begin(), qn.inputs.end());
    }
    return seen;
  }

  // Two reductions whose operands are reductions with one key (the second halves of split
  // batch reductions, IRBuilder::reduce): kept together, so that the first halves, whose
  // users they are, may be siblings too.
  bool summingSiblings(NodeId a, NodeId b) const {
    NodeId x = g_.node(a).inputs[0], y = g_.node(b).inputs[0];
    const std::vector<NodeId>& group = siblings_.of(x);
    return std::find(group.begin(), group.end(), y) != group.end();
  }

  // The lower reductions with the root's key that share a value of the operand space with it
  // (so one loop reads it once for all of them) and whose every user runs after the kernel.
  // Reductions of unrelated tensors stay apart: a later one could store its operand's
  // producers instead (the gradient that a bias gradient sums).
  void claimSiblingReductions(int k) {
    Kernel& kern = out_.kernels[static_cast<size_t>(k)];
    const std::vector<NodeId>& candidates = siblings_.of(kern.root);
    if (candidates.size() < 2) return;
    std::set<NodeId> shared = operandSpaceValues(kern.root);
    // The nearest lower ones only, so that a graph with thousands of reductions of one shape
    // (an unrolled sequence) does not pay for every pair.
    constexpr int kMaxCandidates = 32;
    auto below = std::upper_bound(candidates.begin(), candidates.end(), kern.root, std::greater<NodeId>());
    int examined = 0;
    for (auto it = below; it != candidates.end() && examined < kMaxCandidates; ++it, ++examined) {
      NodeId s = *it;
      size_t si = static_cast<size_t>(s);
      if (out_.kernelOf[si] >= 0) continue;
      bool after = true;
      for (NodeId u : users_[si]) after = after && runsAfter(u, k);
      if (!after) continue;
      std::set<NodeId> own = operandSpaceValues(s);
      bool overlaps = summingSiblings(kern.root, s);
      for (NodeId v : own) overlaps = overlaps || shared.count(v);
      if (!overlaps) continue;
      shared.insert(own.begin(), own.end());
      out_.kernelOf[si] = k;
      out_.storage[si] = {StorageKind::Arena, 0};
      kern.fused.push_back(s);
      kern.stored.push_back(s);
    }
  }

  // ---- row sums in a convolution's epilogue (issue 14, EpilogueRowSums.h) -----------------
  // A reduce kernel whose reductions (root and siblings) all sum rows of its host's output,
  // whose other members are elementwise over that output and computed from it (one of them
  // stored: the buffer the host accumulates in), and that holds every user of the host: the
  // host, else kNoNode.
  NodeId rowSumHostOf(int k) const {
    if (!fuseEpilogues_ || !fuseRowSums_) return kNoNode;
    const Kernel& kern = out_.kernels[static_cast<size_t>(k)];
    if (kern.rows || !kern.epilogue.empty()) return kNoNode;
    NodeId host = kNoNode;
    for (NodeId f : kern.fused)
      for (NodeId in : g_.node(f).inputs)
        if (hostsEpilogueRowSums(g_.node(in))) host = in;
    if (host == kNoNode) return kNoNode;
    size_t hi = static_cast<size_t>(host);
    if (pinned_[hi] || needsBuffer_[hi] || users_[hi].empty()) return kNoNode;
    for (NodeId u : users_[hi])
      if (out_.kernelOf[static_cast<size_t>(u)] != k) return kNoNode;
    const Shape& space = g_.node(host).type.shape;
    std::vector<NodeId> members = kern.fused;
    members.push_back(kern.root);
    for (NodeId x : members) {
      const Node& n = g_.node(x);
      if (loweringKind(n.op) == LoweringKind::Reduce) {
        if (!isEpilogueRowSum(g_, n, space)) return kNoNode;
        continue;
      }
      if (!(n.type.shape == space) || n.type.dtype != DType::F32 || remapsPositions(n.op)) return kNoNode;
      if (n.op == OpKind::BroadcastTo && n.inputs[0] == host) return kNoNode;  // as fuseAsEpilogueHost
    }
    NodeId last = lastStoredElementwise(kern);
    if (last == kNoNode) return kNoNode;
    // The kernel runs where its last epilogue member is computed (KernelOrder.cpp): what the
    // members after it read from other kernels must be computed before that.
    std::set<NodeId> inside(members.begin(), members.end());
    for (NodeId x : members)
      if (x > last)
        for (NodeId in : g_.node(x).inputs)
          if (!inside.count(in) && in > last) return kNoNode;
    return host;
  }

  // The highest-id stored member that is not a reduction (the buffer of the host's sums).
  NodeId lastStoredElementwise(const Kernel& kern) const {
    NodeId last = kNoNode;
    for (NodeId x : kern.stored)
      if (loweringKind(g_.node(x).op) != LoweringKind::Reduce) last = std::max(last, x);
    return last;
  }

  // The host takes reduce kernel e over: its elementwise members up to the last stored one
  // become the epilogue (whose last member holds the host's sums, as in fuseAsEpilogueHost);
  // the row sums, and the members after that one that only they use, stay in `fused`, run on
  // each element after the epilogue (kernels/EmitEpilogue.cpp).
  bool hostEpilogueRowSums(NodeId host, int e) {
    if (rowSumHostOf(e) != host) return false;
    Kernel& kern = out_.kernels[static_cast<size_t>(e)];
    std::vector<NodeId> members = kern.fused;
    members.push_back(kern.root);
    std::sort(members.begin(), members.end());
    NodeId lastStored = lastStoredElementwise(kern);
    std::vector<NodeId> epilogue, after;
    for (NodeId x : members)
      (x <= lastStored && loweringKind(g_.node(x).op) != LoweringKind::Reduce ? epilogue : after).push_back(x);
    kern.stored.push_back(kern.root);
    std::sort(kern.stored.begin(), kern.stored.end());
    kern.epilogue = epilogue;
    kern.fused = after;
    kern.root = host;
    out_.kernelOf[static_cast<size_t>(host)] = e;
    out_.storage[static_cast<size_t>(host)] = {StorageKind::Inline, 0};
    return true;
  }

  const Graph& g_;
  LoweredGraph& out_;
  std::vector<bool>& needsBuffer_;  // read from memory by some user (or leaves the graph)
  std::vector<bool>& pinned_;       // an output or update value
  const std::vector<std::vector<NodeId>>& users_;
  std::vector<std::set<NodeId>> coveredUsers_;  // users that recompute a node in their row kernel
  bool fuseEpilogues_;
  bool fuseRows_;
  bool fuseRowSums_;
  SiblingReductions siblings_;
};

}  // namespace

Result<void> partitionKernels(const Graph& g, NodeUses& uses, LoweredGraph& out, const LoweringOptions& options) {
  Partitioner p(g, uses, out, options);
  return p.partition();
}

}  // namespace nnc::lowering
