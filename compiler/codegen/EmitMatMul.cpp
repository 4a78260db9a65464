// Matrix products a[..., M, K] @ b[K, N] (or b[..., K, N]), either operand transposed.
//
// This first version is a correct, vectorisable loop nest; a packed-panel, register-blocked
// microkernel (BLIS / Halide style) replaces the body later without changing the interface.
// Rows of the output are the parallel range: each output element is accumulated by one
// thread in k order, so results do not depend on the thread count.
//   b not transposed: i-k-j order, the inner loop runs along a row of b and of the output.
//   b transposed:     i-j-k order, each output element a dot product of two contiguous rows.
#include "compiler/codegen/Emit.h"

namespace nnc::codegen {

using llvm::Value;

Result<void> emitMatMul(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  NodeId A = n.inputs[0], Bm = n.inputs[1], C = kc.kernel.root;
  const Shape &sa = g.type(A).shape, &sb = g.type(Bm).shape;
  bool ta = n.attrs.getInt("transpose_a") != 0, tb_ = n.attrs.getInt("transpose_b") != 0;
  size_t ra = sa.rank(), rb = sb.rank();
  Extent M = dimExtent(ta ? sa[ra - 1] : sa[ra - 2]);
  Extent K = dimExtent(ta ? sa[ra - 2] : sa[ra - 1]);
  int64_t N = tb_ ? sb[rb - 2] : sb[rb - 1];  // the shape rule keeps the batch out of N
  Extent L;                                    // leading (batched-matmul) dims
  for (size_t d = 0; d + 2 < ra; ++d) L = sa[d] == kBatch ? Extent{L.k, true} : Extent{L.k * sa[d], L.batched};
  bool bBatched = rb > 2;
  Extent rows{L.k * M.k, L.batched || M.batched};

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  Value* Mv = tb.extent(M);
  Value* Kv = tb.extent(K);
  Value* Nv = tb.i64(N);
  llvm::AllocaInst* acc = tb.local(b.getFloatTy(), "acc");
  auto fma = [&](Value* x, Value* y, Value* z) {
    return b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {b.getFloatTy()}, {x, y, z});
  };
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {
    // r = l * M + i
    Value* l = L == Extent{1, false} ? tb.i64(0) : b.CreateUDiv(r, Mv);
    Value* i = L == Extent{1, false} ? r : b.CreateURem(r, Mv);
    Value* aBase = tb.mul(tb.mul(l, Mv), Kv);                      // a[l] is M x K (or K x M)
    Value* bBase = bBatched ? tb.mul(tb.mul(l, Kv), Nv) : tb.i64(0);  // b[l] is K x N (or N x K)
    Value* cRow = tb.mul(r, Nv);
    auto aAt = [&](Value* k) { return ta ? tb.add(aBase, tb.add(tb.mul(k, Mv), i)) : tb.add(aBase, tb.add(tb.mul(i, Kv), k)); };
    if (!tb_) {
      tb.loop(tb.i64(0), Nv, [&](Value* j) { tb.store(C, tb.add(cRow, j), tb.f32(0.0)); }, "j");
      tb.loop(tb.i64(0), Kv, [&](Value* k) {
        Value* av = tb.load(A, aAt(k));
        Value* bRow = tb.add(bBase, tb.mul(k, Nv));
        tb.loop(tb.i64(0), Nv, [&](Value* j) {
          Value* at = tb.add(cRow, j);
          tb.store(C, at, fma(av, tb.load(Bm, tb.add(bRow, j)), tb.load(C, at)));
        }, "j");
      }, "k");
    } else {
      tb.loop(tb.i64(0), Nv, [&](Value* j) {
        Value* bRow = tb.add(bBase, tb.mul(j, Kv));
        b.CreateStore(tb.f32(0.0), acc);
        tb.loop(tb.i64(0), Kv, [&](Value* k) {
          Value* s = fma(tb.load(A, aAt(k)), tb.load(Bm, tb.add(bRow, k)), b.CreateLoad(b.getFloatTy(), acc));
          llvm::cast<llvm::Instruction>(s)->setHasAllowReassoc(true);
          b.CreateStore(s, acc);
        }, "k");
        tb.store(C, tb.add(cRow, j), b.CreateLoad(b.getFloatTy(), acc));
      }, "j");
    }
  }, "r");
  tb.finish(rows, Extent{K.k * N * 2, K.batched});
  return {};
}

}  // namespace nnc::codegen
