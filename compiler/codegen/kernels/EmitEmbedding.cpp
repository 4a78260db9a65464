// `embedding` (issue 13): the gather, its scatter-add gradient, SGD's sparse step, and the
// range check of the ids that the entry point runs before the gather.
//
//  - gather: parallel over the ids; each copies one table row (a contiguous loop over dim
//    that the vectoriser turns into vector loads and stores).
//  - embedding_grad: the [vocab, dim] gradient zeroed (parallel over rows), then dy's rows
//    summed into it. The sum is split by columns, not by ids: every thread walks all the ids
//    in order over its own block of columns, so rows named twice never race and the sums
//    come out the same for every thread count.
//  - embedding_sgd_update: table - lr * embedding_grad(dy, ids), computed where the table
//    lives (InPlaceUpdates.cpp makes it an in-place update): only the rows the ids name are
//    read or written, split by columns as above. When the result has a buffer of its own (it
//    could not go in place), the table is copied there first.
//  - embedding_grad_accumulate / embedding_grad_clear: the persistent gradient buffer of a
//    table under a stateful optimizer (EmbeddingGradBuffers.h): dy's rows added into the
//    buffer, and after the optimizer has read it those rows set back to zero, both split by
//    columns as above and both in the buffer's own bytes (InPlaceAccumulations.h), so the
//    step writes only the rows the ids name. Either copies its whole operand first when its
//    result could not share the operand's bytes.
#include "compiler/codegen/Emit.h"
#include "compiler/ir/EmbeddingIds.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

// Columns per task of the column-split loops: two AVX vectors.
constexpr int64_t kEmbeddingColumnBlock = 16;

int64_t embeddingColumnBlocks(int64_t dim) { return (dim + kEmbeddingColumnBlock - 1) / kEmbeddingColumnBlock; }

// ids[i] as an i64 row index, clamped into [0, vocab) (the entry point has checked the range
// already; the clamp only keeps a kernel from ever reading outside the table).
Value* embeddingRow(TaskBuilder& tb, NodeId ids, Value* i, int64_t vocab) {
  auto& b = tb.b();
  Value* id = b.CreateSExt(tb.load(ids, i), b.getInt64Ty());
  return b.CreateSelect(b.CreateICmpULT(id, tb.i64(vocab)), id, tb.i64(0));
}

// For every id i (in order) and every column d of this task's blocks [begin, end):
// body(row of id i, i, d).
void forEachIdByColumnBlocks(TaskBuilder& tb, NodeId ids, Extent count, int64_t vocab, int64_t dim,
                             const std::function<void(Value*, Value*, Value*)>& body) {
  tb.loop(tb.begin(), tb.end(), [&](Value* block) {
    Value* lo = tb.mul(block, tb.i64(kEmbeddingColumnBlock));
    Value* hi = tb.smin(tb.add(lo, tb.i64(kEmbeddingColumnBlock)), tb.i64(dim));
    tb.loop(tb.i64(0), tb.extent(count), [&](Value* i) {
      Value* row = embeddingRow(tb, ids, i, vocab);
      tb.loop(lo, hi, [&](Value* d) { body(row, i, d); }, "d");
    }, "i");
  }, "block");
}

// When `out` does not share the bytes of `from` ([vocab, dim]), a task copying it there.
void copyTableUnlessInPlace(KernelContext& kc, NodeId from, NodeId out, int64_t vocab, int64_t dim) {
  if (kc.entry.lowered.storageRoot(out) == kc.entry.lowered.storageRoot(from)) return;
  TaskBuilder copy(kc.entry, kc.taskName("_copy"), kc.buffers());
  copy.loop(copy.begin(), copy.end(), [&](Value* r) {
    Value* base = copy.mul(r, copy.i64(dim));
    copy.loop(copy.i64(0), copy.i64(dim), [&](Value* d) {
      copy.store(out, copy.add(base, d), copy.load(from, copy.add(base, d)));
    }, "d");
  }, "r");
  copy.finish(Extent{vocab, false}, Extent{dim, false});
}

// out[ids[i]] += dy[i], row by row: the scatter-add that embedding_grad (into zeros) and
// embedding_grad_accumulate (into the persistent buffer) share.
void scatterAddEmbeddingRows(KernelContext& kc, NodeId dy, NodeId ids, NodeId out, int64_t vocab, int64_t dim) {
  Extent count = elementsOf(kc.graph().type(ids).shape);
  TaskBuilder tb(kc.entry, kc.taskName("_scatter"), kc.buffers());
  auto& b = tb.b();
  forEachIdByColumnBlocks(tb, ids, count, vocab, dim, [&](Value* row, Value* i, Value* d) {
    Value* at = tb.add(tb.mul(row, tb.i64(dim)), d);
    tb.store(out, at, b.CreateFAdd(tb.load(out, at), tb.load(dy, tb.add(tb.mul(i, tb.i64(dim)), d))));
  });
  tb.finish(Extent{embeddingColumnBlocks(dim), false}, Extent{count.k * kEmbeddingColumnBlock * 2, count.batched});
}

}  // namespace

Result<void> emitEmbedding(KernelContext& kc) {
  const Node& n = kc.root();
  NodeId table = n.inputs[0], ids = n.inputs[1], out = kc.kernel.root;
  const Shape& t = kc.graph().type(table).shape;
  int64_t vocab = t[0], dim = t[1];
  Extent count = elementsOf(kc.graph().type(ids).shape);
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  tb.loop(tb.begin(), tb.end(), [&](Value* i) {
    Value* src = tb.mul(embeddingRow(tb, ids, i, vocab), tb.i64(dim));
    Value* dst = tb.mul(i, tb.i64(dim));
    tb.loop(tb.i64(0), tb.i64(dim), [&](Value* d) { tb.store(out, tb.add(dst, d), tb.load(table, tb.add(src, d))); }, "d");
  }, "i");
  tb.finish(count, Extent{dim, false});
  return {};
}

Result<void> emitEmbeddingGrad(KernelContext& kc) {
  const Node& n = kc.root();
  NodeId dy = n.inputs[0], ids = n.inputs[1], out = kc.kernel.root;
  int64_t vocab = n.type.shape[0], dim = n.type.shape[1];
  {
    TaskBuilder zero(kc.entry, kc.taskName("_zero"), kc.buffers());
    zero.loop(zero.begin(), zero.end(), [&](Value* r) {
      Value* base = zero.mul(r, zero.i64(dim));
      zero.loop(zero.i64(0), zero.i64(dim), [&](Value* d) { zero.store(out, zero.add(base, d), zero.f32(0.0)); }, "d");
    }, "r");
    zero.finish(Extent{vocab, false}, Extent{dim, false});
  }
  scatterAddEmbeddingRows(kc, dy, ids, out, vocab, dim);
  return {};
}

Result<void> emitEmbeddingSgdUpdate(KernelContext& kc) {
  const Node& n = kc.root();
  NodeId table = n.inputs[0], dy = n.inputs[1], ids = n.inputs[2], lr = n.inputs[3], out = kc.kernel.root;
  int64_t vocab = n.type.shape[0], dim = n.type.shape[1];
  Extent count = elementsOf(kc.graph().type(ids).shape);
  copyTableUnlessInPlace(kc, table, out, vocab, dim);  // not in place: the whole table first, then the step on it
  TaskBuilder tb(kc.entry, kc.taskName("_step"), kc.buffers());
  auto& b = tb.b();
  Value* rate = tb.load(lr, tb.i64(0));
  forEachIdByColumnBlocks(tb, ids, count, vocab, dim, [&](Value* row, Value* i, Value* d) {
    Value* at = tb.add(tb.mul(row, tb.i64(dim)), d);
    Value* step = b.CreateFMul(rate, tb.load(dy, tb.add(tb.mul(i, tb.i64(dim)), d)));
    tb.store(out, at, b.CreateFSub(tb.load(out, at), step));
  });
  tb.finish(Extent{embeddingColumnBlocks(dim), false}, Extent{count.k * kEmbeddingColumnBlock * 2, count.batched});
  return {};
}

Result<void> emitEmbeddingGradAccumulate(KernelContext& kc) {
  const Node& n = kc.root();
  NodeId buffer = n.inputs[0], dy = n.inputs[1], ids = n.inputs[2], out = kc.kernel.root;
  int64_t vocab = n.type.shape[0], dim = n.type.shape[1];
  copyTableUnlessInPlace(kc, buffer, out, vocab, dim);
  scatterAddEmbeddingRows(kc, dy, ids, out, vocab, dim);
  return {};
}

Result<void> emitEmbeddingGradClear(KernelContext& kc) {
  const Node& n = kc.root();
  NodeId grad = n.inputs[0], ids = n.inputs[1], out = kc.kernel.root;
  int64_t vocab = n.type.shape[0], dim = n.type.shape[1];
  Extent count = elementsOf(kc.graph().type(ids).shape);
  copyTableUnlessInPlace(kc, grad, out, vocab, dim);
  TaskBuilder tb(kc.entry, kc.taskName("_clear"), kc.buffers());
  forEachIdByColumnBlocks(tb, ids, count, vocab, dim, [&](Value* row, Value*, Value* d) {
    tb.store(out, tb.add(tb.mul(row, tb.i64(dim)), d), tb.f32(0.0));
  });
  tb.finish(Extent{embeddingColumnBlocks(dim), false}, Extent{count.k * kEmbeddingColumnBlock, count.batched});
  return {};
}

// In the entry function: `return kEntryIdOutOfRange` unless every one of `count` i32 ids at
// `ids` lies in [0, vocab). The scan is a function of its own, so that it is optimised (the
// entry function is not).
void emitEmbeddingIdCheck(EntryContext& ec, llvm::IRBuilder<>& b, Value* ids, Value* count, int64_t vocab) {
  llvm::LLVMContext& ctx = ec.ctx;
  const std::string name = ec.prefix + "_embedding_ids_ok";
  llvm::Function* scan = ec.module.getFunction(name);
  if (!scan) {
    llvm::Type* ptr = llvm::PointerType::get(ctx, 0);
    llvm::Type* i64 = llvm::Type::getInt64Ty(ctx);
    auto* ft = llvm::FunctionType::get(llvm::Type::getInt1Ty(ctx), {ptr, i64, i64}, false);
    scan = llvm::Function::Create(ft, llvm::Function::InternalLinkage, name, ec.module);
    scan->addFnAttr(llvm::Attribute::NoUnwind);
    scan->addFnAttr(llvm::Attribute::NoInline);
    llvm::IRBuilder<> s(llvm::BasicBlock::Create(ctx, "entry", scan));
    Value* base = scan->getArg(0);
    Value* n = scan->getArg(1);
    Value* limit = scan->getArg(2);
    llvm::BasicBlock* pre = s.GetInsertBlock();
    llvm::BasicBlock* head = llvm::BasicBlock::Create(ctx, "head", scan);
    llvm::BasicBlock* body = llvm::BasicBlock::Create(ctx, "body", scan);
    llvm::BasicBlock* exit = llvm::BasicBlock::Create(ctx, "exit", scan);
    s.CreateBr(head);
    s.SetInsertPoint(head);
    llvm::PHINode* i = s.CreatePHI(i64, 2, "i");
    llvm::PHINode* bad = s.CreatePHI(s.getInt32Ty(), 2, "bad");
    i->addIncoming(s.getInt64(0), pre);
    bad->addIncoming(s.getInt32(0), pre);
    s.CreateCondBr(s.CreateICmpSLT(i, n), body, exit);
    s.SetInsertPoint(body);
    // Unsigned: a negative id is a huge one. No early exit, so the loop vectorises.
    Value* id = s.CreateZExt(s.CreateAlignedLoad(s.getInt32Ty(), s.CreateInBoundsGEP(s.getInt32Ty(), base, i), llvm::Align(4)), i64);
    Value* nextBad = s.CreateOr(bad, s.CreateZExt(s.CreateICmpUGE(id, limit), s.getInt32Ty()));
    Value* next = s.CreateAdd(i, s.getInt64(1), "", true, true);
    i->addIncoming(next, body);
    bad->addIncoming(nextBad, body);
    s.CreateBr(head);
    s.SetInsertPoint(exit);
    s.CreateRet(s.CreateICmpEQ(bad, s.getInt32(0)));
  }
  llvm::Function* fn = b.GetInsertBlock()->getParent();
  llvm::BasicBlock* fail = llvm::BasicBlock::Create(ctx, "ids_out_of_range", fn);
  llvm::BasicBlock* ok = llvm::BasicBlock::Create(ctx, "ids_ok", fn);
  b.CreateCondBr(b.CreateCall(scan, {ids, count, b.getInt64(static_cast<uint64_t>(vocab))}), ok, fail);
  b.SetInsertPoint(fail);
  b.CreateRet(b.getInt32(static_cast<uint32_t>(kEntryIdOutOfRange)));
  b.SetInsertPoint(ok);
}

}  // namespace nnc::codegen
