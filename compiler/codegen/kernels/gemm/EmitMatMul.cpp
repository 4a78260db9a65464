// Matrix products a[..., M, K] @ b[K, N] (or b[..., K, N]), either operand transposed: the
// shapes become a GemmProblem, which GemmEmitter turns into packed panels and a register-
// blocked microkernel (see GemmEmitter.h for the numerics and the parallel split).
//
// A fused epilogue (Kernel::epilogue: bias add, activation, ... see Lowering.h) runs on
// each block of output tiles right after their sums are complete, while they are still in
// L1: the product's value is read back, the members are computed per element by the op
// table's scalar functions, and every stored member is written. It is emitted once, as a
// function of its own that the shared GEMM driver calls (GemmEmitter.h).
#include <algorithm>

#include <llvm/IR/Intrinsics.h>

#include "compiler/codegen/Emit.h"
#include "compiler/codegen/kernels/gemm/GemmEmitter.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::codegen {

namespace {

using llvm::Value;

// The tensors of the output's size that the epilogue reads besides the product and its own
// members (an optimizer's parameter and state, written back in place), one per buffer.
std::vector<NodeId> streamedTensors(const KernelContext& kc, NodeId out) {
  const Graph& g = kc.graph();
  const Kernel& kern = kc.kernel;
  const LoweredGraph& lg = kc.entry.lowered;
  const Shape& space = g.type(out).shape;
  std::vector<NodeId> streams, roots;
  for (NodeId x : kern.epilogue)
    for (NodeId q : g.node(x).inputs) {
      bool member = q == kern.root || std::find(kern.epilogue.begin(), kern.epilogue.end(), q) != kern.epilogue.end();
      if (member || !(g.type(q).shape == space) || lg.storage[static_cast<size_t>(q)].kind == StorageKind::Uniform) continue;
      NodeId root = lg.storageRoot(q);
      if (std::find(roots.begin(), roots.end(), root) != roots.end()) continue;
      roots.push_back(root);
      streams.push_back(q);
    }
  return streams;
}

GemmTileHook epilogueHook(const KernelContext& kc, NodeId out, int64_t n) {
  return [&kc, out, n](TaskBuilder& tb, Value* row, Value* rows, Value* col, Value* cols, Value* sumsRow,
                       Value* prefetchOnly) {
    const Kernel& kern = kc.kernel;
    const Shape& space = kc.graph().type(out).shape;
    std::vector<NodeId> streams = streamedTensors(kc, out);
    llvm::IRBuilder<>& b = tb.b();
    if (!streams.empty())
      tb.ifThen(prefetchOnly, [&] {
        // Into L2 (locality 2), for writing: the epilogue writes them back in place.
        Value* lines = b.CreateUDiv(tb.add(cols, tb.i64(15)), tb.i64(16));
        tb.loop(tb.i64(0), rows, [&](Value* r) {
          Value* rowStart = tb.add(tb.mul(tb.add(row, r), tb.i64(n)), col);
          tb.loop(tb.i64(0), lines, [&](Value* l) {
            Value* f = tb.add(rowStart, tb.mul(l, tb.i64(16)));
            for (NodeId q : streams)
              b.CreateIntrinsic(llvm::Intrinsic::prefetch, {b.getPtrTy()},
                                {tb.address(q, f), b.getInt32(1), b.getInt32(2), b.getInt32(1)});
          }, "pl");
        }, "pr");
      });
    tb.ifThen(b.CreateNot(prefetchOnly), [&] {
      tb.loop(tb.i64(0), rows, [&](Value* r) {
        Value* flatRow = tb.add(row, r);
        Value* sumsAt = tb.mul(tb.add(sumsRow, r), tb.i64(n));
        tb.loop(tb.i64(0), cols, [&](Value* c) {
          Value* j = tb.add(col, c);
          Value* f = tb.add(tb.mul(flatRow, tb.i64(n)), j);
          emitEpilogueOnValue(tb, kern, tb.load(out, tb.add(sumsAt, j)), space, flatRow, j, f);
        }, "ej");
      }, "ei");
    });
  };
}

}  // namespace

Result<void> emitMatMul(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  GemmProblem p;
  p.a = n.inputs[0];
  p.b = n.inputs[1];
  p.c = kc.kernel.root;
  const Shape &sa = g.type(p.a).shape, &sb = g.type(p.b).shape;
  p.transA = MatMulTransposeAttr::of(n).transA;
  p.transB = MatMulTransposeAttr::of(n).transB;
  size_t ra = sa.rank(), rb = sb.rank();
  p.m = dimExtent(p.transA ? sa[ra - 1] : sa[ra - 2]);
  p.k = dimExtent(p.transA ? sa[ra - 2] : sa[ra - 1]);
  p.n = p.transB ? sb[rb - 2] : sb[rb - 1];  // the shape rule keeps the batch out of N
  for (size_t d = 0; d + 2 < ra; ++d)
    p.l = sa[d] == kBatch ? Extent{p.l.k, true} : Extent{p.l.k * sa[d], p.l.batched};
  p.bBatched = rb > 2;
  if (kc.kernel.epilogue.empty()) {
    emitGemm(kc, p);
  } else {
    // The partial sums go to the last member's buffer, which then receives the epilogue's
    // result, unless that member is written into the state in place (InPlaceUpdates.h):
    // then the product has a buffer of its own.
    bool ownSums = kc.entry.lowered.storage[static_cast<size_t>(kc.kernel.root)].kind == StorageKind::Arena;
    p.c = ownSums ? kc.kernel.root : kc.kernel.epilogue.back();
    p.sumsAreScratch = ownSums;
    p.epilogueStreams = !streamedTensors(kc, p.c).empty();
    emitGemm(kc, p, epilogueHook(kc, p.c, p.n));
  }
  return {};
}

}  // namespace nnc::codegen
