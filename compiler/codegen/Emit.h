#pragma once
// Internal to the code generator: the machinery kernel emitters share. A kernel becomes one
// or more *tasks*: LLVM functions `void task(ptr frame, i64 begin, i64 end)` that compute
// the iterations [begin, end) of the kernel's parallel loop. The frame is the task's own:
// word 0 the batch size, word 1 + i the address of TaskCall::frame[i]. The entry point fills
// it and runs the task through nnc_parallel_for, or calls it directly when the work is too
// small to share. Because a task names its buffers only through its own frame, kernels of
// the same structure (an unrolled recurrence's steps) emit identical functions, which
// mergeIdenticalTasks (TaskMerge.h) then compiles once.
#include <array>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>

#include "compiler/codegen/LoopBuilder.h"
#include "compiler/lowering/Lowering.h"

namespace nnc::codegen {

class MathEmitter;

// A task to run: which function, over how many iterations, and roughly how much work one
// iteration does (in simple-arithmetic units; it may scale with the batch). The entry point
// derives the parallel grain from the work.
struct TaskCall {
  llvm::Function* fn = nullptr;
  Extent range;
  Extent work;
  std::vector<NodeId> frame;  // storage roots whose addresses the task's frame holds, in order
  int kernel = -1;            // the index of the kernel it belongs to (profiling builds time it)
};

// Module-wide state of one entry point's emission.
struct EntryContext {
  llvm::LLVMContext& ctx;
  llvm::Module& module;
  const LoweredGraph& lowered;
  std::string prefix;                 // symbol prefix of this entry's functions
  std::vector<TaskCall> calls;        // in execution order
  MathEmitter* math = nullptr;
  std::function<llvm::Constant*(NodeId)> global;  // a Constant's global array
  int kernel = -1;                    // the kernel being emitted
};

// Builds one task function: loops, typed loads and stores with alias metadata saying that
// distinct buffers never overlap (the memory plan guarantees it for everything a kernel
// writes), and the values the body needs.
class TaskBuilder {
 public:
  TaskBuilder(EntryContext& ec, const std::string& name, const std::vector<NodeId>& buffers);

  llvm::IRBuilder<>& b() { return b_; }
  llvm::LLVMContext& ctx() { return ec_.ctx; }
  EntryContext& entry() { return ec_; }
  const Graph& graph() const { return *ec_.lowered.graph; }
  llvm::Function* function() { return fn_; }
  llvm::Value* batch() { return batch_; }
  llvm::Value* begin() { return begin_; }
  llvm::Value* end() { return end_; }
  MathEmitter& math() { return *ec_.math; }

  llvm::Type* elemType(DType t);
  llvm::Value* i64(int64_t v) { return b_.getInt64(static_cast<uint64_t>(v)); }
  llvm::Value* f32(double v);
  // k, or k * batch.
  llvm::Value* extent(Extent e);
  // Index arithmetic: offsets are non-negative and far below 2^63, so no wrap is possible.
  llvm::Value* add(llvm::Value* a, llvm::Value* c) { return loops_.add(a, c); }
  llvm::Value* mul(llvm::Value* a, llvm::Value* c) { return loops_.mul(a, c); }
  llvm::Value* mulAdd(llvm::Value* a, int64_t k, llvm::Value* c);  // a * k + c
  llvm::Value* smin(llvm::Value* a, llvm::Value* c);
  llvm::Value* smax(llvm::Value* a, llvm::Value* c);

  // Element `index` of node `node`'s buffer (views resolved), typed by the node's dtype.
  llvm::Value* load(NodeId node, llvm::Value* index);
  void store(NodeId node, llvm::Value* index, llvm::Value* value);
  // For accesses load/store do not cover (vectors, masked): the address of element `index`
  // of `node`'s buffer (null if the task has no such buffer), and the alias metadata that
  // every access to that buffer must carry.
  llvm::Value* address(NodeId node, llvm::Value* index);
  void markAccess(llvm::Instruction* inst, NodeId node);

  // for (iv = lo; iv < hi; ++iv) body(iv)
  void loop(llvm::Value* lo, llvm::Value* hi, const std::function<void(llvm::Value*)>& body, const char* name = "i");
  // if (cond) then()
  void ifThen(llvm::Value* cond, const std::function<void()>& then);
  // A stack slot in the entry block (promoted to a register by the optimizer).
  llvm::AllocaInst* local(llvm::Type* t, const char* name);

  // Ends the function and queues it to run over `range` (see TaskCall).
  void finish(Extent range, Extent work);

 private:
  llvm::Value* pointer(NodeId node, unsigned* scope);
  void annotate(llvm::Instruction* inst, unsigned scope);

  EntryContext& ec_;
  llvm::IRBuilder<> b_;
  LoopBuilder loops_{b_};
  llvm::Function* fn_ = nullptr;
  llvm::BasicBlock* entryBlock_ = nullptr;
  llvm::Value* batch_ = nullptr;
  llvm::Value* begin_ = nullptr;
  llvm::Value* end_ = nullptr;
  std::map<NodeId, std::pair<llvm::Value*, unsigned>> bases_;  // storage root -> (pointer, scope)
  std::vector<NodeId> frame_;  // storage roots in frame order (TaskCall::frame)
  std::vector<llvm::MDNode*> scopes_;
};

// The context of one kernel's emission.
struct KernelContext {
  EntryContext& entry;
  const Kernel& kernel;
  int index = 0;  // kernel number, for names
  const Graph& graph() const { return *entry.lowered.graph; }
  const Node& root() const { return graph().node(kernel.root); }
  // A task over everything the kernel writes and reads.
  std::string taskName(const char* suffix = "") const;
  std::vector<NodeId> buffers() const;
};

// Scalar emitters of elementwise ops: the value of one element from its operands' values.
struct ScalarContext {
  TaskBuilder& tb;
  const Node& node;
  std::span<llvm::Value* const> args;
  DType operandType(size_t i) const;
};
using ScalarFn = llvm::Value* (*)(ScalarContext&);
using KernelFn = Result<void> (*)(KernelContext&);

// The emitter of an op: the scalar function of a Fused op or the kernel of a Custom one
// (OpLowerings.cpp; its LoweringKind is the registry's).
struct OpLowering {
  ScalarFn scalar = nullptr;  // Fused ops
  KernelFn kernel = nullptr;  // Custom ops
};
const OpLowering& opLowering(OpKind op);

// Kernel emitters, by file (under compiler/codegen/kernels/).
// EmitFused.cpp: fused elementwise loops, reductions, uniform fills
Result<void> emitFusedKernel(KernelContext& kc);
Result<void> emitReduceKernel(KernelContext& kc);
llvm::Value* uniformValue(TaskBuilder& tb, NodeId node);  // fill constants and element counts
// EmitLayout.cpp
Result<void> emitConcat(KernelContext& kc);
Result<void> emitOneHot(KernelContext& kc);
// gemm/EmitMatMul.cpp
Result<void> emitMatMul(KernelContext& kc);
// conv/EmitConv.cpp
Result<void> emitConv2D(KernelContext& kc);
// conv/EmitConvBackward.cpp
Result<void> emitConv2DGradInput(KernelContext& kc);
Result<void> emitConv2DGradFilter(KernelContext& kc);
// EmitRecurrence.cpp: rnn, lstm and gru time loops (compiler/ir/RecurrentCell.h)
Result<void> emitRecurrence(KernelContext& kc);
Result<void> emitRecurrenceGrad(KernelContext& kc);
// EmitPool.cpp
Result<void> emitMaxPool(KernelContext& kc);
Result<void> emitAvgPool(KernelContext& kc);
Result<void> emitMaxPoolGrad(KernelContext& kc);
// EmitMaxPoolGrad.cpp: maxpool_grad over disjoint windows (Window::disjoint), with an epilogue.
Result<void> emitMaxPoolGradGather(KernelContext& kc);
Result<void> emitAvgPoolGrad(KernelContext& kc);
// EmitResample.cpp: upsample and pad as table-driven gathers
Result<void> emitUpsample(KernelContext& kc);
Result<void> emitUpsampleGrad(KernelContext& kc);
Result<void> emitPad(KernelContext& kc);
Result<void> emitPadGrad(KernelContext& kc);
// EmitAxis.cpp: ops along one axis
Result<void> emitSoftmax(KernelContext& kc);
Result<void> emitArgMax(KernelContext& kc);
// EmitAttention.cpp: multi_head_attention's scale, causal mask and softmax, and its gradient
Result<void> emitAttentionSoftmax(KernelContext& kc);
Result<void> emitAttentionSoftmaxGrad(KernelContext& kc);
// EmitRandom.cpp
Result<void> emitDropoutMask(KernelContext& kc);
// EmitEmbedding.cpp (issue 13): the gather, its gradient, SGD's sparse step; and the entry
// point's check that ids lie in [0, vocab) (returns kEntryIdOutOfRange otherwise).
Result<void> emitEmbedding(KernelContext& kc);
Result<void> emitEmbeddingGrad(KernelContext& kc);
Result<void> emitEmbeddingSgdUpdate(KernelContext& kc);
// The persistent gradient buffer's scatter-add and its clearing of the rows ids name.
Result<void> emitEmbeddingGradAccumulate(KernelContext& kc);
Result<void> emitEmbeddingGradClear(KernelContext& kc);
void emitEmbeddingIdCheck(EntryContext& ec, llvm::IRBuilder<>& b, llvm::Value* ids, llvm::Value* count, int64_t vocab);
// The 24 random bits philox::uniformBits(key, step, index) gives, as an i32: `index` an i64,
// `step` the i64 step counter.
llvm::Value* emitPhiloxBits(llvm::IRBuilder<>& b, const std::array<uint32_t, 2>& key, llvm::Value* step,
                            llvm::Value* index);
// The f32 step (or first_row) scalar `node` made an integer as philox::stepFromFloat does.
llvm::Value* emitPhiloxCounter(TaskBuilder& tb, NodeId node);
// EmitAugment.cpp
Result<void> emitAugmentImages(KernelContext& kc);
// EmitSoftmaxCrossEntropy.cpp: a row kernel (Kernel::rows, see Lowering.h)
Result<void> emitRowKernel(KernelContext& kc);
// EmitAxis.cpp: NaN-aware "candidate beats best" (the interpreter's beatsMax), and the
// maximum of x at positions at(0) .. at(count - 1) (-inf when count is 0), kept in `slot`.
llvm::Value* beatsMax(llvm::IRBuilder<>& b, llvm::Value* candidate, llvm::Value* best);
llvm::Value* emitLineMax(TaskBuilder& tb, NodeId x, llvm::Value* count, const std::function<llvm::Value*(llvm::Value*)>& at,
                         llvm::AllocaInst* slot);
// EmitEpilogue.cpp: operand `q` read at element f = (row, col) of `space` (row: flat over its
// leading dims, col: the last dim): a uniform, the same position, or broadcast (stride 0
// along the dims q lacks or has as 1).
llvm::Value* operandAt(TaskBuilder& tb, NodeId q, const Shape& space, llvm::Value* row, llvm::Value* col, llvm::Value* f);
// Member `m`'s operands at element f: the values already computed in `value`, else read by
// operandAt.
std::vector<llvm::Value*> epilogueOperands(TaskBuilder& tb, const Node& m, const std::map<NodeId, llvm::Value*>& value,
                                           const Shape& space, llvm::Value* row, llvm::Value* col, llvm::Value* f);
// kern's epilogue on output element f (row: flat over the leading dims of
// `space`, col: the last dim) of a kernel whose value is in `out` (the buffer its sums went to).
// With `rowSumTerms`, a kernel with row sums returns the element's terms there (see
// emitEpilogueRowSumTerms) instead of adding them to the sums.
void emitEpilogueElement(TaskBuilder& tb, const Kernel& kern, NodeId out, const Shape& space, llvm::Value* row,
                         llvm::Value* col, llvm::Value* f, std::vector<llvm::Value*>* rowSumTerms = nullptr);
// The same on the kernel's value given in a register (kernels that compute it whole, as
// maxpool_grad's window pass, and need not store it first).
void emitEpilogueOnValue(TaskBuilder& tb, const Kernel& kern, llvm::Value* rootValue, const Shape& space,
                         llvm::Value* row, llvm::Value* col, llvm::Value* f, std::vector<llvm::Value*>* rowSumTerms = nullptr);
// EmitEpilogueRowSums.cpp: the row sums that follow a host's epilogue (Kernel::fused of a
// kernel with an epilogue; EpilogueRowSums.h): zeroed before the first element of output row
// `row` (flat over the leading dims, without the column), accumulated on each element by
// emitEpilogueOnValue with the epilogue's values, and the means divided after the last one.
void emitEpilogueRowSumsBegin(TaskBuilder& tb, const Kernel& kern, llvm::Value* row);
// The members after the epilogue on one element (`value`: the epilogue's), and each row
// sum's term there, in the order of Kernel::fused; the sums of row `sumRow` at channel `col`
// += terms (the host adds a block's terms first, in registers, then once into memory).
std::vector<llvm::Value*> emitEpilogueRowSumTerms(TaskBuilder& tb, const Kernel& kern, std::map<NodeId, llvm::Value*>& value,
                                                  const Shape& space, llvm::Value* row, llvm::Value* col, llvm::Value* f);
void addEpilogueRowSumTerms(TaskBuilder& tb, const Kernel& kern, llvm::Value* sumRow, llvm::Value* col,
                            const std::vector<llvm::Value*>& terms);
void emitEpilogueRowSumsEnd(TaskBuilder& tb, const Kernel& kern, llvm::Value* row);

// Row-major strides of a shape, in elements (static: only the first dim may be the batch).
std::vector<int64_t> rowMajorStrides(const Shape& s);
// Extent of one dim.
inline Extent dimExtent(int64_t d) { return d == kBatch ? Extent{1, true} : Extent{d, false}; }

// Work units of one iteration: `perElement` units for each of `elements` elements.
Extent workOf(Extent elements, double perElement);

}  // namespace nnc::codegen
