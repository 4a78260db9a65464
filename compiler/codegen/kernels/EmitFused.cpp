// Fused loops: a kernel whose root is elementwise (or a reduction) computes its fused
// producers inline, per element, from values read at strided positions: stride 0 along
// broadcast dimensions, permuted strides for a transpose, an offset for a slice. Dimensions
// that every access walks contiguously are merged first, so a plain elementwise chain is one
// flat loop the vectoriser turns into straight vector code.
#include <cmath>
#include <map>
#include <set>

#include "compiler/codegen/Emit.h"
#include "compiler/codegen/MathEmitter.h"
#include "compiler/codegen/TargetCpu.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

// A value read from memory at `offset + sum(index[d] * strides[d])` over the loop dims.
struct Access {
  NodeId node = kNoNode;
  int64_t offset = 0;
  std::vector<int64_t> strides;
};

// Where one operand of a fused member comes from.
struct Source {
  enum class Kind { Member, Uniform, Memory } kind = Kind::Memory;
  NodeId node = kNoNode;
  int access = -1;
};

// One element's work (the registry's cost), for the parallel grain.
double opCost(OpKind op) { return opInfo(op).cost; }

bool isUniform(const LoweredGraph& lg, NodeId n) {
  return lg.storage[static_cast<size_t>(n)].kind == StorageKind::Uniform;
}

class FusedLoop {
 public:
  FusedLoop(KernelContext& kc, const Shape& space) : kc_(kc), g_(kc.graph()), space_(space) {
    for (int64_t d : space.dims) dims_.push_back(dimExtent(d));
    for (NodeId f : kc.kernel.fused) members_.insert(f);
  }

  // Registers how every operand of `member` (root or fused) is obtained.
  void addMember(NodeId member) {
    const Node& m = g_.node(member);
    for (size_t j = 0; j < m.inputs.size(); ++j) sources_[{member, j}] = sourceFor(m, j);
  }

  // The source of operand j of `member` read as-is at the loop position (a reduction's operand).
  Source sourceFor(const Node& m, size_t j) {
    NodeId q = m.inputs[j];
    if (members_.count(q)) return {Source::Kind::Member, q, -1};
    if (isUniform(kc_.entry.lowered, q)) return {Source::Kind::Uniform, q, -1};
    const Shape& qs = g_.type(q).shape;
    std::vector<int64_t> rm = rowMajorStrides(qs);
    Access a{q, 0, std::vector<int64_t>(space_.rank(), 0)};
    if (m.op == OpKind::Transpose) {
      std::vector<int64_t> perm = PermAttr::of(m).perm;
      for (size_t d = 0; d < space_.rank(); ++d) a.strides[d] = rm[static_cast<size_t>(perm[d])];
    } else if (m.op == OpKind::Slice) {
      const SliceAttr sl = SliceAttr::of(m);
      int64_t axis = normalizeAxis(sl.axis, qs.rank());
      a.strides = rm;
      a.offset = sl.begin * rm[static_cast<size_t>(axis)];
    } else {
      size_t lead = space_.rank() - qs.rank();
      for (size_t d = lead; d < space_.rank(); ++d)
        a.strides[d] = qs[d - lead] == space_[d] ? rm[d - lead] : 0;
    }
    for (size_t i = 0; i < accesses_.size(); ++i)
      if (accesses_[i].node == a.node && accesses_[i].offset == a.offset && accesses_[i].strides == a.strides)
        return {Source::Kind::Memory, q, static_cast<int>(i)};
    accesses_.push_back(a);
    return {Source::Kind::Memory, q, static_cast<int>(accesses_.size()) - 1};
  }

  void setOutput(Access out) { out_ = std::move(out); }

  // A value written at `strides` over the loop dims besides the output (a producer a reduce
  // kernel stores, at its position in the operand space): returns its access index, whose
  // offset is Position::offsets[index + 1].
  int addWrite(NodeId node, std::vector<int64_t> strides) {
    accesses_.push_back(Access{node, 0, std::move(strides)});
    return static_cast<int>(accesses_.size()) - 1;
  }

  // Drops size-1 dims and merges neighbours every access walks contiguously.
  void coalesce() {
    std::vector<Access*> all{&out_};
    for (Access& a : accesses_) all.push_back(&a);
    std::vector<Extent> dims;
    std::vector<std::vector<int64_t>> strides(all.size());
    for (size_t d = 0; d < dims_.size(); ++d) {
      if (dims_[d] == Extent{1, false}) continue;
      dims.push_back(dims_[d]);
      for (size_t a = 0; a < all.size(); ++a) strides[a].push_back(all[a]->strides[d]);
    }
    // Merge from the innermost pair outwards.
    for (size_t d = dims.size(); d-- > 1;) {
      bool contiguous = true;
      for (size_t a = 0; a < all.size() && contiguous; ++a)
        contiguous = strides[a][d - 1] == strides[a][d] * dims[d].k;
      if (!contiguous) continue;
      dims[d - 1] = Extent{dims[d - 1].k * dims[d].k, dims[d - 1].batched};
      dims.erase(dims.begin() + static_cast<std::ptrdiff_t>(d));
      for (size_t a = 0; a < all.size(); ++a) {
        strides[a][d - 1] = strides[a][d];
        strides[a].erase(strides[a].begin() + static_cast<std::ptrdiff_t>(d));
      }
    }
    if (dims.empty()) {
      dims.push_back(Extent{1, false});
      for (auto& s : strides) s.push_back(0);
    }
    dims_ = dims;
    for (size_t a = 0; a < all.size(); ++a) all[a]->strides = strides[a];
  }

  const std::vector<Extent>& dims() const { return dims_; }
  const Access& out() const { return out_; }
  size_t numAccesses() const { return accesses_.size(); }

  double costPerElement() const {
    double c = 1;
    for (NodeId m : members_) c += opCost(g_.node(m).op);
    return c + opCost(kc_.kernel.root == kNoNode ? OpKind::Add : kc_.root().op);
  }

  // ---- evaluation at one loop position -----------------------------------------------------
  // Offsets of every access (index 0: the output) at the current position.
  struct Position {
    std::vector<Value*> offsets;
  };

  void beginElement(const Position& pos) {
    pos_ = &pos;
    memo_.clear();
    loaded_.clear();
  }

  Value* operand(TaskBuilder& tb, NodeId member, size_t j) {
    const Source& s = sources_.at({member, j});
    switch (s.kind) {
      case Source::Kind::Member: return value(tb, s.node);
      case Source::Kind::Uniform: return uniform(tb, s.node);
      case Source::Kind::Memory: {
        auto it = loaded_.find(s.access);
        if (it != loaded_.end()) return it->second;
        Value* v = tb.load(s.node, pos_->offsets[static_cast<size_t>(s.access) + 1]);
        loaded_[s.access] = v;
        return v;
      }
    }
    return nullptr;
  }

  // The value of a member (or of the root of a fused kernel) at the current position.
  Value* value(TaskBuilder& tb, NodeId member) {
    auto it = memo_.find(member);
    if (it != memo_.end()) return it->second;
    const Node& m = g_.node(member);
    Value* v;
    if (isLeaf(m.op) || loweringKind(m.op) == LoweringKind::Uniform) {
      v = uniform(tb, member);
    } else {
      std::vector<Value*> args;
      for (size_t j = 0; j < m.inputs.size(); ++j) args.push_back(operand(tb, member, j));
      ScalarContext sc{tb, m, args};
      v = opLowering(m.op).scalar(sc);
    }
    memo_[member] = v;
    return v;
  }

  // Uniform values are computed once per task, in its entry block.
  Value* uniform(TaskBuilder& tb, NodeId n) {
    auto it = uniforms_.find(n);
    if (it != uniforms_.end()) return it->second;
    auto ip = tb.b().saveIP();
    llvm::BasicBlock& entry = tb.function()->getEntryBlock();
    if (llvm::Instruction* term = entry.getTerminator())
      tb.b().SetInsertPoint(term);
    else
      tb.b().SetInsertPoint(&entry, entry.end());
    Value* v = uniformValue(tb, n);
    tb.b().restoreIP(ip);
    uniforms_[n] = v;
    return v;
  }

  // Emits loops over dims [from, to) (dim `restricted` runs over [lo, hi) instead of its full
  // extent; dims for which `skip` is true are not looped), calling body with the offsets.
  void nest(TaskBuilder& tb, size_t from, const std::vector<bool>& skip, int restricted, Value* lo, Value* hi,
            std::vector<Value*> offsets, const std::function<void(const std::vector<Value*>&)>& body) {
    if (from == dims_.size()) {
      body(offsets);
      return;
    }
    if (skip[from]) {
      nest(tb, from + 1, skip, restricted, lo, hi, offsets, body);
      return;
    }
    Value* start = static_cast<int>(from) == restricted ? lo : tb.i64(0);
    Value* stop = static_cast<int>(from) == restricted ? hi : tb.extent(dims_[from]);
    tb.loop(start, stop, [&](Value* iv) {
      std::vector<Value*> inner = offsets;
      for (size_t a = 0; a < inner.size(); ++a) {
        int64_t st = a == 0 ? out_.strides[from] : accesses_[a - 1].strides[from];
        if (st != 0) inner[a] = tb.mulAdd(iv, st, inner[a]);
      }
      nest(tb, from + 1, skip, restricted, lo, hi, inner, body);
    }, "d");
  }

  std::vector<Value*> baseOffsets(TaskBuilder& tb) const {
    std::vector<Value*> o{tb.i64(out_.offset)};
    for (const Access& a : accesses_) o.push_back(tb.i64(a.offset));
    return o;
  }

  int64_t strideOf(size_t access, size_t dim) const {
    return access == 0 ? out_.strides[dim] : accesses_[access - 1].strides[dim];
  }

 private:
  KernelContext& kc_;
  const Graph& g_;
  Shape space_;
  std::vector<Extent> dims_;
  std::set<NodeId> members_;
  std::map<std::pair<NodeId, size_t>, Source> sources_;
  std::vector<Access> accesses_;
  Access out_;
  const Position* pos_ = nullptr;
  std::map<NodeId, Value*> memo_;
  std::map<int, Value*> loaded_;
  std::map<NodeId, Value*> uniforms_;
};

// A reduction that keeps its innermost dimension (batch-norm statistics: sums over N, H, W
// per channel) is split across threads along that dimension, so each thread's inner loop
// covers only its share of the channels (16 of 32 on 2 threads). Interleaved, the vectorised
// loop needs 4 vectors of iterations (32 floats on AVX2) and a shorter chunk fell back to the
// scalar loop: 2 threads ran slower than 1. Without interleaving (nothing to gain here: the
// channels are independent) one vector of iterations takes the vector path.
void vectorizeShortChunks(llvm::Function& fn) {
  llvm::LLVMContext& ctx = fn.getContext();
  for (llvm::BasicBlock& bb : fn) {
    auto* br = llvm::dyn_cast<llvm::BranchInst>(bb.getTerminator());
    if (!br || br->isConditional() || !br->getSuccessor(0)->getName().contains(".head")) continue;
    llvm::Metadata* interleave[] = {llvm::MDString::get(ctx, "llvm.loop.interleave.count"),
                                    llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(llvm::Type::getInt32Ty(ctx), 1))};
    llvm::TempMDTuple self = llvm::MDNode::getTemporary(ctx, {});
    llvm::MDNode* loopId = llvm::MDNode::getDistinct(ctx, {self.get(), llvm::MDNode::get(ctx, interleave)});
    loopId->replaceOperandWith(0, loopId);
    br->setMetadata(llvm::LLVMContext::MD_loop, loopId);
  }
}

}  // namespace

Value* uniformValue(TaskBuilder& tb, NodeId node) {
  const Node& n = tb.graph().node(node);
  if (n.op == OpKind::ElementCount) {
    // The interpreter's convention: no axes listed means all of them.
    const Shape& s = tb.graph().type(n.inputs[0]).shape;
    std::vector<int64_t> axes = AxesAttr::of(n).axes;
    std::vector<bool> reduced(s.rank(), axes.empty());
    for (int64_t a : axes) {
      int64_t ax = normalizeAxis(a, s.rank());
      if (ax >= 0) reduced[static_cast<size_t>(ax)] = true;
    }
    Extent count;
    for (size_t d = 0; d < s.rank(); ++d)
      if (reduced[d]) {
        if (s[d] == kBatch)
          count.batched = true;
        else
          count.k *= s[d];
      }
    return tb.b().CreateSIToFP(tb.extent(count), tb.b().getFloatTy());
  }
  double v = ConstantAttr::of(n).value.value_or(0.0);
  if (n.type.dtype == DType::I32) return tb.b().getInt32(static_cast<uint32_t>(static_cast<int32_t>(v)));
  return tb.f32(v);
}

// One flat loop over the output (after merging dims); the parallel range is the flat index
// range, cut into rows of the innermost dimension.
Result<void> emitFusedKernel(KernelContext& kc) {
  const Graph& g = kc.graph();
  NodeId root = kc.kernel.root;
  const Shape& space = g.type(root).shape;
  FusedLoop fl(kc, space);
  bool rootIsValue = isLeaf(g.node(root).op) || loweringKind(g.node(root).op) == LoweringKind::Uniform;
  if (!rootIsValue) fl.addMember(root);
  for (NodeId f : kc.kernel.fused) fl.addMember(f);
  fl.setOutput(Access{root, 0, rowMajorStrides(space)});
  fl.coalesce();

  const std::vector<Extent>& dims = fl.dims();
  size_t nd = dims.size();
  Extent total{1, false};
  for (const Extent& e : dims) total = Extent{total.k * e.k, total.batched || e.batched};

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto element = [&](const std::vector<Value*>& offsets) {
    FusedLoop::Position pos{offsets};
    fl.beginElement(pos);
    Value* v = fl.value(tb, root);
    tb.store(root, offsets[0], v);
    // Stored members have the root's shape, so they are written at the root's offset.
    for (NodeId s : kc.kernel.stored) tb.store(s, offsets[0], fl.value(tb, s));
  };
  std::vector<Value*> base = fl.baseOffsets(tb);
  if (nd == 1) {
    tb.loop(tb.begin(), tb.end(), [&](Value* c) {
      std::vector<Value*> offs = base;
      for (size_t a = 0; a < offs.size(); ++a)
        if (int64_t st = fl.strideOf(a, 0)) offs[a] = tb.mulAdd(c, st, offs[a]);
      element(offs);
    }, "e");
  } else {
    int64_t rowLen = dims[nd - 1].k;  // static: only dim 0 can be the batch
    Value* L = tb.i64(rowLen);
    auto& b = tb.b();
    Value* firstRow = b.CreateUDiv(tb.begin(), L);
    Value* lastRow = b.CreateUDiv(tb.add(tb.end(), tb.i64(rowLen - 1)), L);
    tb.loop(firstRow, lastRow, [&](Value* row) {
      Value* rowStart = tb.mul(row, L);
      Value* c0 = tb.smax(b.CreateSub(tb.begin(), rowStart), tb.i64(0));
      Value* c1 = tb.smin(b.CreateSub(tb.end(), rowStart), L);
      // Row index -> indices of dims 0 .. nd-2 (divisions by constants).
      std::vector<Value*> offs = base;
      Value* rest = row;
      for (size_t d = nd - 1; d-- > 0;) {
        Value* idx = d == 0 ? rest : b.CreateURem(rest, tb.i64(dims[d].k));
        if (d > 0) rest = b.CreateUDiv(rest, tb.i64(dims[d].k));
        for (size_t a = 0; a < offs.size(); ++a)
          if (int64_t st = fl.strideOf(a, d)) offs[a] = tb.mulAdd(idx, st, offs[a]);
      }
      tb.loop(c0, c1, [&](Value* c) {
        std::vector<Value*> inner = offs;
        for (size_t a = 0; a < inner.size(); ++a)
          if (int64_t st = fl.strideOf(a, nd - 1)) inner[a] = tb.mulAdd(c, st, inner[a]);
        element(inner);
      }, "e");
    }, "row");
  }
  tb.finish(total, workOf(Extent{1, false}, fl.costPerElement()));
  return {};
}

// A reduction: loops over the operand in its own order, accumulating into the output
// (stride 0 along reduced dims). The parallel range is the outermost kept dimension, so every
// output element is accumulated by one thread in one fixed order whatever the thread count.
// A multi-output reduce kernel (SiblingReductions.h) accumulates its sibling reductions, the
// Reduce members of `fused`, in the same loop: they share the operand space, the axes and so
// the output layout, and each reads its own operand from the members' values at the position.
// Elementwise members in `stored` are written at their position in the operand space.
Result<void> emitReduceKernel(KernelContext& kc) {
  const Graph& g = kc.graph();
  NodeId root = kc.kernel.root;
  const Node& rn = g.node(root);
  NodeId operand = rn.inputs[0];
  const Shape& space = g.type(operand).shape;
  DType dt = rn.type.dtype;
  bool isMax = rn.op == OpKind::ReduceMax;
  std::vector<NodeId> roots{root}, writes;
  for (NodeId f : kc.kernel.fused)
    if (loweringKind(g.node(f).op) == LoweringKind::Reduce) roots.push_back(f);
  for (NodeId s : kc.kernel.stored)
    if (loweringKind(g.node(s).op) != LoweringKind::Reduce) writes.push_back(s);
  const size_t nr = roots.size();

  std::vector<bool> reduced(space.rank(), false);
  for (int64_t a : AxesAttr::of(rn).axes) {
    int64_t ax = normalizeAxis(a, space.rank());
    if (ax >= 0) reduced[static_cast<size_t>(ax)] = true;
  }
  // Output strides over the operand's dims: the output is the operand with reduced dims
  // removed (or kept as 1), row-major.
  std::vector<int64_t> outStrides(space.rank(), 0);
  {
    int64_t st = 1;
    for (size_t d = space.rank(); d-- > 0;) {
      if (reduced[d]) continue;
      outStrides[d] = st;
      st *= space[d] == kBatch ? 1 : space[d];
    }
  }
  FusedLoop fl(kc, space);
  fl.addMember(root);  // registers the operand's source
  for (NodeId f : kc.kernel.fused) fl.addMember(f);
  std::vector<int> writeAccess;
  for (NodeId w : writes) writeAccess.push_back(fl.addWrite(w, rowMajorStrides(space)));
  fl.setOutput(Access{root, 0, outStrides});
  fl.coalesce();

  const std::vector<Extent>& dims = fl.dims();
  size_t nd = dims.size();
  std::vector<bool> isReduced(nd), notKept(nd);
  int parallel = -1;
  Extent other{1, false};  // work per parallel iteration
  for (size_t d = 0; d < nd; ++d) {
    isReduced[d] = fl.strideOf(0, d) == 0 && !(dims[d] == Extent{1, false});
    notKept[d] = isReduced[d];
    if (!isReduced[d] && parallel < 0) parallel = static_cast<int>(d);
  }
  for (size_t d = 0; d < nd; ++d)
    if (static_cast<int>(d) != parallel) other = Extent{other.k * dims[d].k, other.batched || dims[d].batched};
  Extent range = parallel >= 0 ? dims[static_cast<size_t>(parallel)] : Extent{1, false};

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  llvm::Type* et = tb.elemType(dt);
  Value* identity = dt == DType::F32 ? tb.f32(isMax ? -INFINITY : 0.0)
                                      : static_cast<Value*>(b.getInt32(isMax ? static_cast<uint32_t>(INT32_MIN) : 0u));
  auto combine = [&](Value* acc, Value* v) -> Value* {
    if (dt == DType::I32) return isMax ? b.CreateBinaryIntrinsic(llvm::Intrinsic::smax, acc, v) : b.CreateAdd(acc, v);
    if (!isMax) {
      Value* s = b.CreateFAdd(acc, v);
      // Reassociation lets the vectoriser keep partial sums per lane: a fixed order for a
      // given CPU and row length, independent of the thread count.
      if (auto* inst = llvm::dyn_cast<llvm::Instruction>(s)) inst->setHasAllowReassoc(true);
      return s;
    }
    // NaN-aware: NaN beats every number and the first NaN stays (the interpreter's beatsMax).
    Value* beats = b.CreateOr(b.CreateFCmpOGT(v, acc), b.CreateAnd(b.CreateFCmpUNO(v, v), b.CreateFCmpORD(acc, acc)));
    return b.CreateSelect(beats, v, acc);
  };
  // The stored producers' values at the current position (after beginElement).
  auto writeProducers = [&](const std::vector<Value*>& offs) {
    for (size_t i = 0; i < writes.size(); ++i)
      tb.store(writes[i], offs[static_cast<size_t>(writeAccess[i]) + 1], fl.value(tb, writes[i]));
  };
  Value* lo = parallel >= 0 ? tb.begin() : tb.i64(0);
  Value* hi = parallel >= 0 ? tb.end() : tb.i64(1);
  std::vector<Value*> base = fl.baseOffsets(tb);
  std::vector<Value*> outOnly{base[0]};

  // 1. Identity into this chunk's outputs.
  std::vector<Value*> baseAll = base;
  fl.nest(tb, 0, notKept, parallel, lo, hi, baseAll, [&](const std::vector<Value*>& o) {
    for (NodeId r : roots) tb.store(r, o[0], identity);
  });

  // 2. Accumulate. When the innermost dim is reduced, its loop keeps the sum in a register.
  bool innerReduced = isReduced[nd - 1];
  std::vector<bool> outerSkip(nd, false);
  if (innerReduced) outerSkip[nd - 1] = true;
  std::vector<llvm::AllocaInst*> acc;
  for (size_t i = 0; i < nr; ++i) acc.push_back(tb.local(et, "acc"));
  // Per-channel sums ([reduced rows, kept channels], f32 sums: batch-norm statistics): a
  // thread's channels go in blocks of vectors, each block's sums held in registers
  // (one accumulator per channel, which the SLP vectoriser packs into a vector) while the
  // rows stream past, instead of a load and a store of the sum per row. Every sum still adds
  // its rows in order, so the result is the same. Either the channels are the parallel range
  // ([rows, C]), or the samples are and each takes all channels ([N, rows, C], the per-sample
  // half of a split batch reduction, SplitBatchReductions.h).
  const bool dt32 = dt == DType::F32 && !isMax;
  const bool channelSums = dt32 && nd == 2 && isReduced[0] && !isReduced[1] && parallel == 1;
  const bool sampleChannelSums = dt32 && nd == 3 && !isReduced[0] && isReduced[1] && !isReduced[2] && parallel == 0;
  if (channelSums || sampleChannelSums) {
    const int width = emissionTargetCpu().lanes;
    const size_t rowDim = nd - 2, chanDim = nd - 1;
    auto channelBlocks = [&](const std::vector<Value*>& at, Value* cLo, Value* cHi) {
      auto block = [&](Value* c0, int channels) {
        // sums[r * channels + j]: sibling r's sum of channel c0 + j.
        std::vector<llvm::AllocaInst*> sums;
        std::vector<Value*> outAt;
        for (int j = 0; j < channels; ++j) {
          Value* c = tb.add(c0, tb.i64(j));
          outAt.push_back(tb.mulAdd(c, fl.strideOf(0, chanDim), at[0]));
        }
        for (NodeId r : roots)
          for (int j = 0; j < channels; ++j) {
            sums.push_back(tb.local(et, "sum"));
            b.CreateStore(tb.load(r, outAt[size_t(j)]), sums.back());
          }
        tb.loop(tb.i64(0), tb.extent(dims[rowDim]), [&](Value* row) {
          for (int j = 0; j < channels; ++j) {
            std::vector<Value*> offs = at;
            Value* c = tb.add(c0, tb.i64(j));
            for (size_t a = 1; a < offs.size(); ++a) {
              if (int64_t st = fl.strideOf(a, rowDim)) offs[a] = tb.mulAdd(row, st, offs[a]);
              if (int64_t st = fl.strideOf(a, chanDim)) offs[a] = tb.mulAdd(c, st, offs[a]);
            }
            FusedLoop::Position pos{offs};
            fl.beginElement(pos);
            for (size_t r = 0; r < nr; ++r) {
              Value* v = fl.operand(tb, roots[r], 0);
              llvm::AllocaInst* sum = sums[r * size_t(channels) + size_t(j)];
              b.CreateStore(b.CreateFAdd(b.CreateLoad(et, sum), v), sum);
            }
            writeProducers(offs);
          }
        }, "r");
        for (size_t r = 0; r < nr; ++r)
          for (int j = 0; j < channels; ++j)
            tb.store(roots[r], outAt[size_t(j)], b.CreateLoad(et, sums[r * size_t(channels) + size_t(j)]));
      };
      // Four vectors of channels at a time keep four independent sums in flight (a thread with
      // all 32 channels), then two (16 channels per thread on two threads), then one, then
      // single channels. Sibling sums are independent chains too: with several, the blocks
      // are narrower, so the accumulators still fit the vector registers.
      Value* start = cLo;
      std::vector<int> widths;
      for (int w : {4 * width, 2 * width, width})
        if (w * static_cast<int>(nr) <= 4 * width || w == width) widths.push_back(w);
      for (int w : widths) {
        Value* blocks = b.CreateUDiv(b.CreateSub(cHi, start), tb.i64(w));
        Value* from = start;
        tb.loop(tb.i64(0), blocks, [&](Value* k) { block(tb.add(from, tb.mul(k, tb.i64(w))), w); }, "cb");
        start = tb.add(start, tb.mul(blocks, tb.i64(w)));
      }
      tb.loop(start, cHi, [&](Value* c) { block(c, 1); }, "c");
    };
    if (channelSums) {
      channelBlocks(base, lo, hi);
    } else {
      tb.loop(lo, hi, [&](Value* n) {
        std::vector<Value*> at = base;
        for (size_t a = 0; a < at.size(); ++a)
          if (int64_t st = fl.strideOf(a, 0)) at[a] = tb.mulAdd(n, st, at[a]);
        channelBlocks(at, tb.i64(0), tb.extent(dims[chanDim]));
      }, "n");
    }
  } else
  fl.nest(tb, 0, outerSkip, parallel, lo, hi, base, [&](const std::vector<Value*>& o) {
    // Every root's accumulator combined with its operand at `offs`; the stored producers written.
    auto accumulateAt = [&](const std::vector<Value*>& offs, const std::function<Value*(size_t)>& current,
                            const std::function<void(size_t, Value*)>& keep) {
      FusedLoop::Position pos{offs};
      fl.beginElement(pos);
      for (size_t r = 0; r < nr; ++r) keep(r, combine(current(r), fl.operand(tb, roots[r], 0)));
      writeProducers(offs);
    };
    if (!innerReduced) {
      accumulateAt(o, [&](size_t r) { return tb.load(roots[r], o[0]); },
                   [&](size_t r, Value* v) { tb.store(roots[r], o[0], v); });
      return;
    }
    for (size_t r = 0; r < nr; ++r) b.CreateStore(tb.load(roots[r], o[0]), acc[r]);
    tb.loop(tb.i64(0), tb.extent(dims[nd - 1]), [&](Value* i) {
      std::vector<Value*> offs = o;
      for (size_t a = 1; a < offs.size(); ++a)
        if (int64_t st = fl.strideOf(a, nd - 1)) offs[a] = tb.mulAdd(i, st, offs[a]);
      accumulateAt(offs, [&](size_t r) { return b.CreateLoad(et, acc[r]); },
                   [&](size_t r, Value* v) { b.CreateStore(v, acc[r]); });
    }, "r");
    for (size_t r = 0; r < nr; ++r) tb.store(roots[r], o[0], b.CreateLoad(et, acc[r]));
  });

  // 3. Means: divide by the number of reduced elements.
  Extent count;
  for (size_t d = 0; d < space.rank(); ++d)
    if (reduced[d]) count = Extent{count.k * (space[d] == kBatch ? 1 : space[d]), count.batched || space[d] == kBatch};
  bool anyMean = false;
  for (NodeId r : roots) anyMean = anyMean || g.node(r).op == OpKind::ReduceMean;
  if (anyMean) {
    Value* n = b.CreateSIToFP(tb.extent(count), b.getFloatTy());
    fl.nest(tb, 0, notKept, parallel, lo, hi, baseAll, [&](const std::vector<Value*>& o) {
      for (NodeId r : roots)
        if (g.node(r).op == OpKind::ReduceMean) tb.store(r, o[0], b.CreateFDiv(tb.load(r, o[0]), n));
    });
  }
  tb.finish(range, workOf(other, fl.costPerElement()));
  if (!innerReduced) vectorizeShortChunks(*tb.function());
  return {};
}

}  // namespace nnc::codegen
