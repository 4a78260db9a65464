#include "compiler/codegen/ModuleEmitter.h"

#include <algorithm>

#include <llvm/IR/IRBuilder.h>

#include "compiler/codegen/Emit.h"
#include "compiler/codegen/MathEmitter.h"
#include "compiler/codegen/TaskSplit.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

llvm::Constant* constantArray(llvm::Module& m, const std::string& name, const Node& n) {
  llvm::LLVMContext& ctx = m.getContext();
  std::vector<double> values = ConstantAttr::of(n).values.value_or(std::vector<double>{});
  llvm::Constant* init;
  if (n.type.dtype == DType::F32) {
    std::vector<float> f(values.begin(), values.end());
    init = llvm::ConstantDataArray::get(ctx, f);
  } else {
    std::vector<uint32_t> i;
    for (double v : values) i.push_back(static_cast<uint32_t>(static_cast<int32_t>(v)));
    init = llvm::ConstantDataArray::get(ctx, i);
  }
  auto* gv = new llvm::GlobalVariable(m, init->getType(), true, llvm::GlobalValue::PrivateLinkage, init, name);
  gv->setAlignment(llvm::Align(64));
  gv->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  return gv;
}

// Where a stored value lives, computed in the entry function.
// An entry output written in place (Storage::output) is at outputs[i], or in its arena buffer
// when the caller passes null there.
Value* storageAddress(llvm::IRBuilder<>& b, EntryContext& ec, NodeId root, Value* state, Value* inputs, Value* outputs,
                      Value* hypers, Value* workspace, Value* batch) {
  const Storage& s = ec.lowered.storage[static_cast<size_t>(root)];
  llvm::Type* ptr = b.getPtrTy();
  switch (s.kind) {
    case StorageKind::Input:
      return b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, inputs, static_cast<uint64_t>(s.index)), "in");
    case StorageKind::State:
      return b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), state, static_cast<uint64_t>(s.index), "st");
    case StorageKind::Hyper:
      return b.CreateConstInBoundsGEP1_64(b.getFloatTy(), hypers, static_cast<uint64_t>(s.index), "hy");
    case StorageKind::Arena: {
      const BufferPlacement& p = ec.lowered.memory.placements[static_cast<size_t>(s.index)];
      Value* off = b.CreateAdd(b.CreateMul(batch, b.getInt64(static_cast<uint64_t>(p.offsetPerBatch))),
                               b.getInt64(static_cast<uint64_t>(p.offset)));
      Value* arena = b.CreateInBoundsGEP(b.getInt8Ty(), workspace, off, "ws");
      if (s.output < 0) return arena;
      Value* out = b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, outputs, static_cast<uint64_t>(s.output)), "out");
      return b.CreateSelect(b.CreateIsNull(out), arena, out, "outOrWs");
    }
    case StorageKind::Global:
      return ec.global(root);
    case StorageKind::None:
    case StorageKind::Inline:
    case StorageKind::Uniform:
    case StorageKind::View:
      break;
  }
  return llvm::ConstantPointerNull::get(b.getPtrTy());  // never stored: nothing reads it
}

}  // namespace

Result<void> emitEntryPoint(llvm::Module& module, const LoweredGraph& lowered, const std::string& name,
                            int64_t chunkWork, bool profile, const std::vector<std::vector<UpdateSignal>>* signals) {
  chunkWork = std::max<int64_t>(chunkWork, 1);
  llvm::LLVMContext& ctx = module.getContext();
  MathEmitter math(module);
  EntryContext ec{ctx, module, lowered, name, {}, nullptr, {}};
  ec.math = &math;
  std::map<NodeId, llvm::Constant*> globals;
  ec.global = [&](NodeId n) -> llvm::Constant* {
    auto it = globals.find(n);
    if (it != globals.end()) return it->second;
    llvm::Constant* c = constantArray(module, name + "_const" + std::to_string(n), lowered.graph->node(n));
    globals[n] = c;
    return c;
  };
  llvm::Type* ptr = llvm::PointerType::get(ctx, 0);
  llvm::Type* i64 = llvm::Type::getInt64Ty(ctx);

  // Kernels -> tasks.
  for (size_t k = 0; k < lowered.kernels.size(); ++k) {
    KernelContext kc{ec, lowered.kernels[k], static_cast<int>(k)};
    ec.kernel = static_cast<int>(k);
    const Node& root = kc.root();
    // A kernel whose output has no elements has nothing to do (and its index arithmetic
    // would divide by a zero extent).
    if (elementsOf(root.type.shape).k == 0) continue;
    LoweringKind kind = loweringKind(root.op);
    Result<void> ok;
    if (kc.kernel.rows)
      ok = emitRowKernel(kc);
    else if (kind == LoweringKind::Reduce)
      ok = emitReduceKernel(kc);
    else if (kind == LoweringKind::Custom)
      ok = opLowering(root.op).kernel(kc);
    else
      ok = emitFusedKernel(kc);  // Fused, and materialised uniforms / fill constants
    if (!ok) return ok;
  }

  // The entry function.
  auto* ft = llvm::FunctionType::get(llvm::Type::getInt32Ty(ctx), {ptr, ptr, ptr, i64, ptr, ptr}, false);
  llvm::Function* fn = llvm::Function::Create(ft, llvm::Function::ExternalLinkage, name, module);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  // The entry only fills frames and calls tasks: nothing the optimiser could speed up
  // measurably, while one basic block of thousands of stores and calls (an unrolled
  // recurrence's) costs the SLP vectoriser and the scheduler seconds.
  fn->addFnAttr(llvm::Attribute::OptimizeNone);
  fn->addFnAttr(llvm::Attribute::NoInline);
  Value* state = fn->getArg(0);
  Value* inputs = fn->getArg(1);
  Value* outputs = fn->getArg(2);
  Value* batch = fn->getArg(3);
  Value* hypers = fn->getArg(4);
  Value* workspace = fn->getArg(5);
  state->setName("state");
  inputs->setName("inputs");
  outputs->setName("outputs");
  batch->setName("batch");
  hypers->setName("hypers");
  workspace->setName("workspace");
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
  // Every buffer's address, computed once up front; one frame, refilled before each task
  // (tasks run one after another, and a task reads its frame only while it runs).
  std::map<NodeId, Value*> addressOf;
  size_t frameWords = 1;
  for (const TaskCall& call : ec.calls) {
    frameWords = std::max(frameWords, 1 + call.frame.size());
    for (NodeId root : call.frame)
      if (!addressOf.count(root)) addressOf[root] = storageAddress(b, ec, root, state, inputs, outputs, hypers, workspace, batch);
  }
  Value* frame = b.CreateAlloca(llvm::ArrayType::get(i64, frameWords), nullptr, "frame");
  b.CreateStore(batch, frame);
  auto extent = [&](Extent e) -> Value* {
    return e.batched ? b.CreateMul(batch, b.getInt64(static_cast<uint64_t>(e.k))) : b.getInt64(static_cast<uint64_t>(e.k));
  };
  llvm::FunctionCallee parallelFor =
      module.getOrInsertFunction("nnc_parallel_for", llvm::FunctionType::get(b.getInt32Ty(), {ptr, ptr, i64, i64}, false));
  llvm::FunctionCallee mark;
  if (profile)
    mark = module.getOrInsertFunction("nnc_profile_mark",
                                      llvm::FunctionType::get(b.getVoidTy(), {b.getInt32Ty()}, false));
  auto markAt = [&](int kernel) {
    if (profile) b.CreateCall(mark, {b.getInt32(static_cast<uint32_t>(kernel))});
  };
  // Embedding ids are checked before anything runs when they are inputs, else just before
  // their gather (issue 13): an id out of range returns kEntryIdOutOfRange.
  auto checkIds = [&](int kernel) {
    for (const Kernel& k : lowered.kernels) {
      const Node& n = lowered.graph->node(k.root);
      if (n.op != OpKind::Embedding) continue;
      NodeId ids = lowered.storageRoot(n.inputs[1]);
      bool input = lowered.storage[static_cast<size_t>(ids)].kind == StorageKind::Input;
      bool here = kernel < 0 ? input : (!input && &k == &lowered.kernels[static_cast<size_t>(kernel)]);
      if (!here || !addressOf.count(ids)) continue;
      emitEmbeddingIdCheck(ec, b, addressOf.at(ids), extent(elementsOf(lowered.graph->type(n.inputs[1]).shape)),
                           lowered.graph->type(n.inputs[0]).shape[0]);
    }
  };
  // Updates final after kernels [0, upTo): signalled once, before the next kernel's tasks (a
  // kernel with no tasks signals with the next one that has some, or before the copies).
  size_t signalled = 0;
  auto signalUpTo = [&](size_t upTo) {
    if (!signals) return;
    llvm::FunctionCallee ready = module.getOrInsertFunction(
        "nnc_update_ready", llvm::FunctionType::get(b.getVoidTy(), {ptr, i64, i64}, false));
    for (; signalled < std::min(upTo, signals->size()); ++signalled)
      for (const UpdateSignal& s : (*signals)[signalled])
        b.CreateCall(ready, {state, b.getInt64(static_cast<uint64_t>(s.stateOffset)), b.getInt64(static_cast<uint64_t>(s.bytes))});
  };
  checkIds(-1);
  int marked = -1, checked = -1;
  for (const TaskCall& call : ec.calls) {
    if (call.kernel >= 0) signalUpTo(static_cast<size_t>(call.kernel));
    if (call.kernel != checked) checkIds(checked = call.kernel);
    if (call.kernel != marked) markAt(marked = call.kernel);
    for (size_t i = 0; i < call.frame.size(); ++i)
      b.CreateStore(addressOf.at(call.frame[i]), b.CreateConstInBoundsGEP1_64(ptr, frame, 1 + i));
    Value* n = extent(call.range);
    const TaskSplit split = taskSplit(call.range, call.work, chunkWork);
    if (split.direct) {
      b.CreateCall(call.fn, {frame, b.getInt64(0), n});
    } else {
      // grain = ceil(chunk work / work per iteration), at least 1 (taskGrain).
      Value* work = extent(call.work);
      Value* least = b.getInt64(static_cast<uint64_t>(split.chunkWork));
      Value* grain = b.CreateUDiv(b.CreateAdd(least, b.CreateSub(work, b.getInt64(1))), work);
      b.CreateCall(parallelFor, {call.fn, frame, n, grain});
    }
  }

  signalUpTo(lowered.kernels.size());
  markAt(-2);  // profile::kCopies

  // Copies: outputs, update values through temporaries, updates.
  auto tempAddress = [&](int64_t buffer) {
    const BufferPlacement& p = lowered.memory.placements[static_cast<size_t>(buffer)];
    Value* off = b.CreateAdd(b.CreateMul(batch, b.getInt64(static_cast<uint64_t>(p.offsetPerBatch))),
                             b.getInt64(static_cast<uint64_t>(p.offset)));
    return b.CreateInBoundsGEP(b.getInt8Ty(), workspace, off);
  };
  for (const CopyStep& c : lowered.copies) {
    Value* src = c.from == CopyStep::From::Temp
                     ? tempAddress(c.src)
                     : storageAddress(b, ec, lowered.storageRoot(static_cast<NodeId>(c.src)), state, inputs, outputs,
                                      hypers, workspace, batch);
    Value* bytes = extent(c.bytes);
    switch (c.to) {
      case CopyStep::To::Output: {
        Value* dst = b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, outputs, static_cast<uint64_t>(c.dst)));
        llvm::BasicBlock* copy = llvm::BasicBlock::Create(ctx, "copy", fn);
        llvm::BasicBlock* next = llvm::BasicBlock::Create(ctx, "next", fn);
        b.CreateCondBr(b.CreateIsNull(dst), next, copy);
        b.SetInsertPoint(copy);
        b.CreateMemMove(dst, llvm::MaybeAlign(4), src, llvm::MaybeAlign(4), bytes);
        b.CreateBr(next);
        b.SetInsertPoint(next);
        break;
      }
      case CopyStep::To::State:
        b.CreateMemMove(b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), state, static_cast<uint64_t>(c.dst)),
                        llvm::MaybeAlign(64), src, llvm::MaybeAlign(4), bytes);
        break;
      case CopyStep::To::Temp:
        b.CreateMemCpy(tempAddress(c.dst), llvm::MaybeAlign(64), src, llvm::MaybeAlign(4), bytes);
        break;
    }
  }
  markAt(-1);  // profile::kEnd
  b.CreateRet(b.getInt32(0));

  // NAME_workspace(batch): the arena size.
  auto* wft = llvm::FunctionType::get(i64, {i64}, false);
  llvm::Function* wfn = llvm::Function::Create(wft, llvm::Function::ExternalLinkage, name + "_workspace", module);
  wfn->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::IRBuilder<> wb(llvm::BasicBlock::Create(ctx, "entry", wfn));
  wb.CreateRet(wb.CreateAdd(wb.CreateMul(wfn->getArg(0), wb.getInt64(static_cast<uint64_t>(lowered.memory.bytesPerBatch))),
                            wb.getInt64(static_cast<uint64_t>(lowered.memory.fixedBytes))));
  return {};
}

}  // namespace nnc::codegen
