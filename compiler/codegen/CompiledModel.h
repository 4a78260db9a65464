#pragma once
// The public face of the code generator: compile a model's inference graph (and, when it
// trains, its training-step graph) to native code in this process, then run it.
//
//   auto model = jitCompile(inferenceGraph, &trainingGraph, {});
//   model->stateData()... (initialise parameters by name through stateLayout())
//   model->trainStep(inputs, batch, lr, step, &loss);
//   model->forward(inputs, outputs, batch);
//
// One compiled model owns one state buffer (every Param and State, see StateLayout) that both
// entry points read and the training step updates in place, and one workspace grown to the
// largest batch run so far. Calls on one CompiledModel must not overlap; separate models are
// independent. Any batch size >= 1 runs without recompiling.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "compiler/lowering/KernelCost.h"
#include "compiler/lowering/LoweringOptions.h"
#include "compiler/lowering/StateLayout.h"
#include "compiler/ir/Graph.h"
#include "support/Result.h"

namespace nnc {

// The planner's options with the debugging knobs NNC_FUSE_EPILOGUES, NNC_FUSE_ROWS and NNC_FUSE_ROW_SUMS read
// from the environment (codegen/README.md); the planner itself reads no environment.
LoweringOptions loweringOptionsFromEnvironment();

struct CompileOptions {
  int optLevel = 3;      // LLVM pipeline: 0 (none) to 3 (O3, the default)
  bool useCache = true;  // reuse an identical model already compiled in this process
  // ... or by an earlier process (ObjectCache.h: ~/.cache/nnc; NNC_DISK_CACHE=0 turns it
  // off). Only with useCache, and not with keepIR.
  bool diskCache = true;
  bool keepIR = false;   // keep the LLVM IR text before and after optimisation
  // Threads that optimise and compile a large model's kernels in parallel (0: one per core).
  // The code is the same function by function whatever the count.
  int compileThreads = 0;
  // Work (in simple-arithmetic units) below which a kernel runs on one thread; a parallel
  // chunk gets at least this much. Tests set 1 to split even tiny kernels across threads.
  int64_t chunkWork = 32768;
  // A profiling build: the entries time each kernel (runtime/profile/KernelProfile.h), for
  // `bench --profile`. Off by default: ordinary builds contain no marks.
  bool profile = false;
  // The planner's choices (compiler/lowering/LoweringOptions.h).
  LoweringOptions lowering = loweringOptionsFromEnvironment();
  // The training entry (the gradient half of a split step) writes updates whose target it
  // never reads straight into the state and calls nnc_update_ready after the kernel that
  // finishes each (UpdateSignals.h), so data-parallel training can reduce gradients while
  // the backward pass goes on. Only JitExecutor's split step sets it.
  bool signalUpdates = false;
};

// Seconds spent per stage, for `bench` and the compile-time targets.
struct CompileTimes {
  double lowering = 0;   // partitioning, memory planning
  double irGen = 0;      // emitting LLVM IR
  double optimize = 0;   // the LLVM pass pipeline
  double codegen = 0;    // machine code and JIT linking
  double total = 0;
  bool cacheHit = false;  // optimisation and codegen were skipped: compiled in this process
  bool diskCacheHit = false;  // ... or by an earlier one (codegen is the loading and linking)
  int mergedTasks = 0;    // task functions identical to another, compiled once (TaskMerge.h)
  int compileParts = 0;   // pieces of the module optimised and compiled in parallel
};

struct TensorSpec {
  std::string name;
  TensorType type;
};

// One entry point's interface and memory plan.
// An embedding whose ids the entry checks (issue 13), to describe a bad id after the entry
// returned kEntryIdOutOfRange.
struct EmbeddingIdCheck {
  int input = -1;        // the inputs[] index holding the ids, or -1 (computed ids)
  int64_t vocab = 0;
  std::string source;    // "input 'ids'"
  std::string layer;     // "emb"
};

struct EntryInfo {
  std::string symbol;               // the compiled function's name
  std::vector<TensorSpec> inputs;   // inputs[] order: every Input leaf, in graph order
  std::vector<bool> inputUsed;      // whether the entry reads inputs[i] (unused ones may be null)
  std::vector<TensorSpec> outputs;  // outputs[] order: the graph's outputs
  std::vector<std::string> hypers;  // run-time scalars ("lr", "step")
  int kernels = 0;
  std::string kernelListing;        // describeKernels()
  std::vector<KernelCost> kernelCosts;  // per kernel index
  int64_t workspaceFixedBytes = 0;  // arena = fixed + perBatch * batch
  int64_t workspaceBytesPerBatch = 0;
  int64_t workspaceNaiveFixedBytes = 0;  // the same without buffer reuse
  int64_t workspaceNaiveBytesPerBatch = 0;
  int64_t maxBatch = 0;             // the largest batch whose tensors stay within the size limit
  std::vector<EmbeddingIdCheck> idChecks;

  int64_t workspaceBytes(int64_t batch) const { return workspaceFixedBytes + workspaceBytesPerBatch * batch; }
};

class CompiledModel {
 public:
  ~CompiledModel();
  CompiledModel(const CompiledModel&) = delete;
  CompiledModel& operator=(const CompiledModel&) = delete;

  const StateLayout& stateLayout() const { return layout_; }
  // The state buffer (stateLayout().bytes() bytes, zero-initialised at compile time).
  std::byte* stateData() { return state_.get(); }
  const std::byte* stateData() const { return state_.get(); }
  // A Param or State by name, as floats (every state tensor is f32 today); empty if unknown.
  std::span<float> tensor(const std::string& name);

  const EntryInfo& inference() const { return inference_; }
  // The training step's interface, or nullptr when compiled without a training graph.
  const EntryInfo* training() const { return hasTraining_ ? &training_ : nullptr; }

  // Runs the inference graph. inputs[i] points to a tensor of inference().inputs[i]'s type
  // with `batch` for its batch dimension; outputs[i] (or null) receives outputs[i].
  Result<void> forward(std::span<const void* const> inputs, std::span<void* const> outputs, int64_t batch);

  // One training step: forward, backward and the optimizer update of every parameter and
  // state tensor. `loss` (or null) receives the loss; `outputs` (optional, training()->outputs
  // order) receives the other outputs of the step.
  Result<void> trainStep(std::span<const void* const> inputs, int64_t batch, float lr, float step, float* loss,
                         std::span<void* const> outputs = {}, float firstRow = 0);

  // The optimizer update of a split training step (train/SplitStep.h), when compiled with one.
  // `inputs` (updateEntry()->inputs order, `batch` rows): the gathered gradient factors, when
  // the update graph has any.
  bool hasUpdateStep() const { return updateFn_ != nullptr; }
  Result<void> updateStep(float lr, float step, std::span<const void* const> inputs = {}, int64_t batch = 1);
  const EntryInfo* updateEntry() const { return updateFn_ ? &update_ : nullptr; }

  // The value of a run-time scalar of the training step other than lr and step (a dropout
  // rate, Model::runtimeDropoutRates); unset ones are 0.
  void setRuntimeScalar(const std::string& name, float value) { scalars_[name] = value; }

  const CompileTimes& times() const { return times_; }
  const std::string& llvmIR() const { return ir_; }           // with CompileOptions::keepIR
  const std::string& optimizedIR() const { return optIR_; }   // with CompileOptions::keepIR

 private:
  friend Result<std::unique_ptr<CompiledModel>> jitCompile(const Graph&, const Graph*, const CompileOptions&,
                                                           const Graph*);
  CompiledModel() = default;
  struct Code;
  using EntryFn = int32_t (*)(void*, const void* const*, void* const*, int64_t, const float*, void*);

  Result<void> run(const EntryInfo& info, EntryFn fn, std::span<const void* const> inputs,
                   std::span<void* const> outputs, int64_t batch, const std::vector<float>& hypers);
  Result<void*> workspace(int64_t bytes);

  StateLayout layout_;
  std::map<std::string, float> scalars_;
  struct FreeDeleter {
    void operator()(std::byte* p) const;
  };
  std::unique_ptr<std::byte[], FreeDeleter> state_;
  std::unique_ptr<std::byte[], FreeDeleter> workspace_;
  int64_t workspaceBytes_ = 0;
  EntryInfo inference_, training_, update_;
  bool hasTraining_ = false;
  EntryFn forwardFn_ = nullptr, trainFn_ = nullptr, updateFn_ = nullptr;
  std::shared_ptr<Code> code_;
  CompileTimes times_;
  std::string ir_, optIR_;
};

struct LoweredGraph;
// The interface and memory plan of a lowered entry (the JIT's and the AOT object's alike).
EntryInfo describeEntry(const LoweredGraph& lowered, const std::string& symbol);

// Compiles `inference` (and `training`, when given) to native code for this CPU. Errors: a
// malformed graph, an op the code generator cannot compile, an LLVM failure (reported, never
// fatal). `update` (with a split training step, train/SplitStep.h: `training` is then its
// gradient graph) adds the entry updateStep() runs.
Result<std::unique_ptr<CompiledModel>> jitCompile(const Graph& inference, const Graph* training,
                                                  const CompileOptions& options = {}, const Graph* update = nullptr);

// Forgets every compiled model kept for reuse (models already returned keep their code).
void clearJitCache();

}  // namespace nnc
