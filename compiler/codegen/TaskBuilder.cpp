#include <algorithm>
#include <cmath>

#include "compiler/codegen/Emit.h"

namespace nnc::codegen {

using llvm::Value;

std::vector<int64_t> rowMajorStrides(const Shape& s) {
  std::vector<int64_t> st(s.rank(), 1);
  for (size_t i = s.rank(); i-- > 1;) st[i - 1] = st[i] * (s[i] == kBatch ? 1 : s[i]);
  return st;
}

Extent workOf(Extent elements, double perElement) {
  double w = static_cast<double>(elements.k) * std::max(perElement, 0.0);
  return Extent{static_cast<int64_t>(std::clamp(std::ceil(w), 1.0, 1e15)), elements.batched};
}

TaskBuilder::TaskBuilder(EntryContext& ec, const std::string& name, const std::vector<NodeId>& buffers)
    : ec_(ec), b_(ec.ctx) {
  llvm::Type* ptr = llvm::PointerType::get(ec.ctx, 0);
  llvm::Type* i64t = llvm::Type::getInt64Ty(ec.ctx);
  auto* ft = llvm::FunctionType::get(llvm::Type::getVoidTy(ec.ctx), {ptr, i64t, i64t}, false);
  fn_ = llvm::Function::Create(ft, llvm::Function::InternalLinkage, name, ec.module);
  fn_->addFnAttr(llvm::Attribute::NoUnwind);
  fn_->addFnAttr(llvm::Attribute::NoFree);
  fn_->addFnAttr(llvm::Attribute::NoSync);
  fn_->addFnAttr(llvm::Attribute::WillReturn);
  fn_->addParamAttr(0, llvm::Attribute::NoAlias);
  fn_->addParamAttr(0, llvm::Attribute::NoCapture);
  fn_->addParamAttr(0, llvm::Attribute::ReadOnly);
  llvm::Value* frame = fn_->getArg(0);
  begin_ = fn_->getArg(1);
  end_ = fn_->getArg(2);
  frame->setName("frame");
  begin_->setName("begin");
  end_->setName("end");
  entryBlock_ = llvm::BasicBlock::Create(ec.ctx, "entry", fn_);
  b_.SetInsertPoint(entryBlock_);
  batch_ = b_.CreateLoad(i64t, frame, "batch");  // frame word 0

  // Every buffer's address, loaded once, each with its own alias scope.
  llvm::MDBuilder md(ec.ctx);
  llvm::MDNode* domain = md.createAnonymousAliasScopeDomain(name);
  for (NodeId n : buffers) {
    NodeId root = ec.lowered.storageRoot(n);
    if (bases_.count(root)) continue;
    const Storage& s = ec.lowered.storage[static_cast<size_t>(root)];
    if (s.kind == StorageKind::Uniform || s.kind == StorageKind::Inline || s.kind == StorageKind::None) continue;
    Value* base;
    if (s.kind == StorageKind::Global) {
      base = ec.global(root);
    } else {
      // Frame word 1 + i: numbered per task, so equal kernels over other buffers are equal.
      Value* slot = b_.CreateConstInBoundsGEP1_64(ptr, frame, 1 + frame_.size());
      frame_.push_back(root);
      base = b_.CreateLoad(ptr, slot, std::string("buf") + std::to_string(root));
    }
    unsigned scope = static_cast<unsigned>(scopes_.size());
    std::string scopeName = "n";
    scopeName += std::to_string(root);
    scopes_.push_back(md.createAnonymousAliasScope(domain, scopeName));
    bases_[root] = {base, scope};
  }
}

llvm::Type* TaskBuilder::elemType(DType t) {
  return t == DType::F32 ? llvm::Type::getFloatTy(ec_.ctx) : llvm::Type::getInt32Ty(ec_.ctx);
}

Value* TaskBuilder::f32(double v) { return llvm::ConstantFP::get(llvm::Type::getFloatTy(ec_.ctx), v); }

Value* TaskBuilder::extent(Extent e) { return e.batched ? mul(batch_, i64(e.k)) : i64(e.k); }

Value* TaskBuilder::mulAdd(Value* a, int64_t k, Value* c) {
  Value* p = k == 1 ? a : mul(a, i64(k));
  return c ? add(p, c) : p;
}

Value* TaskBuilder::smin(Value* a, Value* c) { return loops_.smin(a, c); }
Value* TaskBuilder::smax(Value* a, Value* c) { return loops_.smax(a, c); }

Value* TaskBuilder::pointer(NodeId node, unsigned* scope) {
  NodeId root = ec_.lowered.storageRoot(node);
  auto it = bases_.find(root);
  if (it == bases_.end()) return nullptr;
  *scope = it->second.second;
  return it->second.first;
}

void TaskBuilder::annotate(llvm::Instruction* inst, unsigned scope) {
  if (scopes_.size() < 2) return;
  std::vector<llvm::Metadata*> others;
  for (unsigned s = 0; s < scopes_.size(); ++s)
    if (s != scope) others.push_back(scopes_[s]);
  inst->setMetadata(llvm::LLVMContext::MD_alias_scope, llvm::MDNode::get(ec_.ctx, {scopes_[scope]}));
  inst->setMetadata(llvm::LLVMContext::MD_noalias, llvm::MDNode::get(ec_.ctx, others));
}

Value* TaskBuilder::load(NodeId node, Value* index) {
  unsigned scope = 0;
  Value* base = pointer(node, &scope);
  llvm::Type* t = elemType(graph().type(node).dtype);
  if (!base) return llvm::UndefValue::get(t);  // unreachable: callers pass their kernel's buffers
  Value* p = b_.CreateInBoundsGEP(t, base, index);
  llvm::LoadInst* v = b_.CreateAlignedLoad(t, p, llvm::Align(4));
  annotate(v, scope);
  return v;
}

void TaskBuilder::store(NodeId node, Value* index, Value* value) {
  unsigned scope = 0;
  Value* base = pointer(node, &scope);
  if (!base) return;
  llvm::Type* t = elemType(graph().type(node).dtype);
  Value* p = b_.CreateInBoundsGEP(t, base, index);
  llvm::StoreInst* s = b_.CreateAlignedStore(value, p, llvm::Align(4));
  annotate(s, scope);
}

Value* TaskBuilder::address(NodeId node, Value* index) {
  unsigned scope = 0;
  Value* base = pointer(node, &scope);
  if (!base) return nullptr;
  return b_.CreateInBoundsGEP(elemType(graph().type(node).dtype), base, index);
}

void TaskBuilder::markAccess(llvm::Instruction* inst, NodeId node) {
  unsigned scope = 0;
  if (pointer(node, &scope)) annotate(inst, scope);
}

void TaskBuilder::loop(Value* lo, Value* hi, const std::function<void(Value*)>& body, const char* name) {
  loops_.loop(lo, hi, body, name);
}

void TaskBuilder::ifThen(Value* cond, const std::function<void()>& then) { loops_.ifThen(cond, then); }

llvm::AllocaInst* TaskBuilder::local(llvm::Type* t, const char* name) { return loops_.local(t, name); }

void TaskBuilder::finish(Extent range, Extent work) {
  b_.CreateRetVoid();
  work.k = std::max<int64_t>(work.k, 1);
  ec_.calls.push_back(TaskCall{fn_, range, work, frame_, ec_.kernel});
}

std::string KernelContext::taskName(const char* suffix) const {
  return entry.prefix + "_k" + std::to_string(index) + "_" + opName(root().op) + suffix;
}

std::vector<NodeId> KernelContext::buffers() const {
  std::vector<NodeId> b{kernel.root};
  b.insert(b.end(), kernel.stored.begin(), kernel.stored.end());
  b.insert(b.end(), kernel.reads.begin(), kernel.reads.end());
  return b;
}

DType ScalarContext::operandType(size_t i) const { return tb.graph().type(node.inputs[i]).dtype; }

}  // namespace nnc::codegen
