// Matrix products a[..., M, K] @ b[K, N] (or b[..., K, N]), either operand transposed: the
// shapes become a GemmProblem, which GemmEmitter turns into packed panels and a register-
// blocked microkernel (see GemmEmitter.h for the numerics and the parallel split).
//
// A fused epilogue (Kernel::epilogue: bias add, activation, ... see Lowering.cpp) runs on
// each block of output tiles right after their sums are complete, while they are still in
// L1: the product's value is read back, the members are computed per element by the op
// table's scalar functions, and every stored member is written. It is emitted once, as a
// function of its own that the shared GEMM driver calls (GemmEmitter.h).
#include <map>

#include "compiler/codegen/Emit.h"
#include "compiler/codegen/GemmEmitter.h"

namespace nnc::codegen {

namespace {

using llvm::Value;

// Operand `q` of an epilogue member at output element (row, col) (flat row over the leading
// dims, flat index f): a uniform, the same position, or broadcast (stride 0 along the dims
// it lacks or has as 1).
Value* epilogueOperand(TaskBuilder& tb, NodeId q, const Shape& space, Value* row, Value* col, Value* f) {
  const LoweredGraph& lg = tb.entry().lowered;
  if (lg.storage[static_cast<size_t>(q)].kind == StorageKind::Uniform) return uniformValue(tb, q);
  const Shape& qs = tb.graph().type(q).shape;
  if (qs == space) return tb.load(q, f);
  std::vector<int64_t> strides = rowMajorStrides(qs);
  size_t rank = space.rank(), lead = rank - qs.rank();
  Value* offset = tb.i64(0);
  Value* rest = row;  // index over dims [0, rank - 1), decomposed from the innermost
  for (size_t d = rank; d-- > 0;) {
    Value* idx;
    if (d + 1 == rank) {
      idx = col;
    } else if (d == 0) {
      idx = rest;
    } else {
      idx = tb.b().CreateURem(rest, tb.i64(space[d]));
      rest = tb.b().CreateUDiv(rest, tb.i64(space[d]));
    }
    if (d >= lead && qs[d - lead] == space[d] && space[d] != 1) offset = tb.add(offset, tb.mul(idx, tb.i64(strides[d - lead])));
  }
  return tb.load(q, offset);
}

GemmTileHook epilogueHook(const KernelContext& kc, NodeId out, int64_t n) {
  return [&kc, out, n](TaskBuilder& tb, Value* row, Value* rows, Value* col, Value* cols) {
    const Graph& g = kc.graph();
    const Kernel& kern = kc.kernel;
    const Shape& space = g.type(out).shape;
    tb.loop(tb.i64(0), rows, [&](Value* r) {
      Value* flatRow = tb.add(row, r);
      tb.loop(tb.i64(0), cols, [&](Value* c) {
        Value* j = tb.add(col, c);
        Value* f = tb.add(tb.mul(flatRow, tb.i64(n)), j);
        std::map<NodeId, Value*> value{{kern.root, tb.load(out, f)}};
        for (NodeId id : kern.epilogue) {
          const Node& m = g.node(id);
          std::vector<Value*> args;
          for (NodeId q : m.inputs) {
            auto it = value.find(q);
            args.push_back(it != value.end() ? it->second : epilogueOperand(tb, q, space, flatRow, j, f));
          }
          ScalarContext sc{tb, m, args};
          value[id] = opLowering(m.op).scalar(sc);
        }
        for (NodeId s : kern.stored) tb.store(s, f, value[s]);
      }, "ej");
    }, "ei");
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
  p.transA = n.attrs.getInt("transpose_a") != 0;
  p.transB = n.attrs.getInt("transpose_b") != 0;
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
    emitGemm(kc, p, epilogueHook(kc, p.c, p.n));
  }
  return {};
}

}  // namespace nnc::codegen
