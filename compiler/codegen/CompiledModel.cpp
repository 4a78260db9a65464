#include "compiler/codegen/CompiledModel.h"

#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/SHA1.h>
#include <llvm/Support/raw_ostream.h>

#include "compiler/codegen/jit/Jit.h"
#include "compiler/lowering/KernelCost.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/codegen/ModuleEmitter.h"
#include "compiler/codegen/TaskMerge.h"
#include "compiler/ir/EmbeddingIds.h"
#include "compiler/ir/EpilogueRowSums.h"
#include "compiler/train/TrainingGraph.h"
#include "support/Stopwatch.h"

namespace nnc {

struct CompiledModel::Code {
  std::shared_ptr<codegen::JitCode> jit;
};

namespace {

constexpr const char* kForwardSymbol = "nnc_forward";
constexpr const char* kTrainSymbol = "nnc_train_step";
constexpr const char* kUpdateSymbol = "nnc_update_step";


// Compiled code by a hash of its IR and target: an unchanged model compiles once a process.
std::mutex& cacheMutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, std::shared_ptr<codegen::JitCode>>& cache() {
  static auto* c = new std::map<std::string, std::shared_ptr<codegen::JitCode>>();  // outlives static destructors
  return *c;
}

std::string sha1Hex(const std::string& text) {
  llvm::SHA1 h;
  h.update(text);
  std::array<uint8_t, 20> digest = h.final();
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (uint8_t byte : digest) {
    s += hex[byte >> 4];
    s += hex[byte & 15];
  }
  return s;
}

Result<void> checkHypers(const Graph& g) {
  for (NodeId h : g.leaves(OpKind::Hyper)) {
    const Node& n = g.node(h);
    if (n.name != kLearningRateName && n.name != kStepName && n.name != kFirstRowName && !isDropoutRateName(n.name))
      return makeError("internal: run-time scalar '" + n.name +
                           "' is not one the compiled step takes (lr, step, first_row, dropout rates)",
                       n.loc);
    if (n.type != TensorType{DType::F32, Shape{}})
      return makeError("internal: run-time scalar '" + n.name + "' must be an f32 scalar, not " + n.type.str(), n.loc);
  }
  return {};
}


// The entry found an embedding id out of range: find it again, to say which and where.
Error describeBadEmbeddingId(const EntryInfo& info, std::span<const void* const> inputs, int64_t batch) {
  for (const EmbeddingIdCheck& c : info.idChecks) {
    if (c.input < 0 || static_cast<size_t>(c.input) >= inputs.size() || !inputs[static_cast<size_t>(c.input)]) continue;
    const TensorSpec& spec = info.inputs[static_cast<size_t>(c.input)];
    std::vector<int64_t> shape = spec.type.shape.dims;
    for (int64_t& d : shape)
      if (d == kBatch) d = batch;
    const auto* ids = static_cast<const int32_t*>(inputs[static_cast<size_t>(c.input)]);
    auto bad = findBadEmbeddingId(spec.type.shape.numElements(batch), c.vocab, [&](int64_t i) { return ids[i]; });
    if (bad) return makeError(embeddingIdMessage(c.source, shape, *bad, c.vocab, c.layer));
  }
  for (const EmbeddingIdCheck& c : info.idChecks)
    if (c.input < 0)
      return makeError(c.source + ": an id is outside [0, " + std::to_string(c.vocab) + "), the vocabulary of embedding '" + c.layer + "'");
  return makeError("an embedding id is outside its vocabulary");
}

}  // namespace

LoweringOptions loweringOptionsFromEnvironment() {
  auto on = [](const char* name) {
    const char* v = std::getenv(name);
    return !v || std::string(v) != "0";
  };
  LoweringOptions o;
  o.fuseEpilogues = on("NNC_FUSE_EPILOGUES");
  o.fuseRows = on("NNC_FUSE_ROWS");
  o.fuseRowSums = epilogueRowSumsWanted();
  return o;
}

EntryInfo describeEntry(const LoweredGraph& lg, const std::string& symbol) {
  const Graph& g = *lg.graph;
  EntryInfo info;
  info.symbol = symbol;
  for (NodeId in : lg.inputs) {
    info.inputs.push_back({g.node(in).name, g.type(in)});
    info.inputUsed.push_back(lg.live[static_cast<size_t>(in)]);
  }
  for (const Output& o : g.outputs) info.outputs.push_back({o.name, g.type(o.node)});
  for (NodeId h : lg.hypers) info.hypers.push_back(g.node(h).name);
  info.kernels = static_cast<int>(lg.kernels.size());
  info.kernelListing = describeKernels(lg);
  info.kernelCosts = kernelCosts(lg);
  info.workspaceFixedBytes = lg.memory.fixedBytes;
  info.workspaceBytesPerBatch = lg.memory.bytesPerBatch;
  info.workspaceNaiveFixedBytes = lg.memory.naiveFixedBytes;
  info.workspaceNaiveBytesPerBatch = lg.memory.naiveBytesPerBatch;
  // The batch limit: every tensor within kMaxElements, the workspace within int64.
  int64_t maxBatch = kMaxElements;
  for (size_t i = 0; i < g.size(); ++i) {
    const Shape& s = g.nodes()[i].type.shape;
    if (lg.live[i] && s.isBatched()) maxBatch = std::min(maxBatch, kMaxElements / std::max<int64_t>(s.numElementsPerBatchRow(), 1));
  }
  if (lg.memory.bytesPerBatch > 0)
    maxBatch = std::min(maxBatch, (INT64_MAX / 2 - lg.memory.fixedBytes) / lg.memory.bytesPerBatch);
  info.maxBatch = maxBatch;
  for (const Kernel& k : lg.kernels) {
    const Node& n = g.node(k.root);
    if (n.op != OpKind::Embedding) continue;
    EmbeddingIdCheck c;
    NodeId root = lg.storageRoot(n.inputs[1]);
    if (lg.storage[static_cast<size_t>(root)].kind == StorageKind::Input) c.input = static_cast<int>(lg.storage[static_cast<size_t>(root)].index);
    c.vocab = g.type(n.inputs[0]).shape[0];
    c.source = embeddingIdSource(g, n.inputs[1]);
    c.layer = embeddingLayerName(g, n);
    info.idChecks.push_back(c);
  }
  return info;
}

void CompiledModel::FreeDeleter::operator()(std::byte* p) const { std::free(p); }

CompiledModel::~CompiledModel() = default;

std::span<float> CompiledModel::tensor(const std::string& name) {
  const StateEntry* e = layout_.find(name);
  if (!e || e->type.dtype != DType::F32) return {};
  return {reinterpret_cast<float*>(state_.get() + e->offset), static_cast<size_t>(e->bytes / 4)};
}

Result<void*> CompiledModel::workspace(int64_t bytes) {
  if (bytes <= workspaceBytes_ && workspace_) return static_cast<void*>(workspace_.get());
  int64_t rounded = std::max<int64_t>((bytes + 63) / 64 * 64, 64);
  void* p = std::aligned_alloc(64, static_cast<size_t>(rounded));
  if (!p) return makeError("cannot allocate a workspace of " + std::to_string(rounded) + " bytes");
  workspace_.reset(static_cast<std::byte*>(p));
  workspaceBytes_ = rounded;
  return p;
}

Result<void> CompiledModel::run(const EntryInfo& info, EntryFn fn, std::span<const void* const> inputs,
                                std::span<void* const> outputs, int64_t batch, const std::vector<float>& hypers) {
  if (batch < 1) return makeError("batch size must be at least 1, got " + std::to_string(batch));
  if (batch > info.maxBatch)
    return makeError("batch size " + std::to_string(batch) + " is too large for this model (at most " +
                     std::to_string(info.maxBatch) + ")");
  if (inputs.size() != info.inputs.size())
    return makeError("expected " + std::to_string(info.inputs.size()) + " inputs, got " + std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i)
    if (info.inputUsed[i] && !inputs[i] && info.inputs[i].type.shape.numElements(batch) > 0)
      return makeError("no data for input '" + info.inputs[i].name + "'");
  if (!outputs.empty() && outputs.size() != info.outputs.size())
    return makeError("expected " + std::to_string(info.outputs.size()) + " output buffers, got " +
                     std::to_string(outputs.size()));
  std::vector<void*> outs(info.outputs.size(), nullptr);
  for (size_t i = 0; i < outputs.size(); ++i) outs[i] = outputs[i];
  auto ws = workspace(info.workspaceBytes(batch));
  if (!ws) return ws.error();
  int32_t rc = fn(state_.get(), inputs.data(), outs.data(), batch, hypers.data(), *ws);
  if (rc == kEntryIdOutOfRange) return describeBadEmbeddingId(info, inputs, batch);
  if (rc != 0) return makeError("internal: the compiled step returned " + std::to_string(rc));
  return {};
}

Result<void> CompiledModel::forward(std::span<const void* const> inputs, std::span<void* const> outputs, int64_t batch) {
  std::vector<float> hypers(inference_.hypers.size() + 1, 0.0f);
  return run(inference_, forwardFn_, inputs, outputs, batch, hypers);
}

Result<void> CompiledModel::trainStep(std::span<const void* const> inputs, int64_t batch, float lr, float step,
                                      float* loss, std::span<void* const> outputs, float firstRow) {
  if (!hasTraining_) return makeError("this model was compiled without a training step");
  std::vector<float> hypers;
  for (const std::string& h : training_.hypers) {
    auto other = scalars_.find(h);
    hypers.push_back(h == kLearningRateName ? lr
                     : h == kStepName       ? step
                     : h == kFirstRowName   ? firstRow
                     : other != scalars_.end() ? other->second
                                               : 0.0f);
  }
  hypers.push_back(0.0f);  // never empty
  if (!outputs.empty() && outputs.size() != training_.outputs.size())
    return makeError("expected " + std::to_string(training_.outputs.size()) + " output buffers, got " +
                     std::to_string(outputs.size()));
  std::vector<void*> outs(training_.outputs.size(), nullptr);
  for (size_t i = 0; i < outputs.size(); ++i) outs[i] = outputs[i];
  for (size_t i = 0; i < training_.outputs.size(); ++i)
    if (training_.outputs[i].name == "loss" && !outs[i]) outs[i] = loss;
  return run(training_, trainFn_, inputs, outs, batch, hypers);
}

Result<void> CompiledModel::updateStep(float lr, float step, std::span<const void* const> inputs, int64_t batch) {
  if (!updateFn_) return makeError("internal: this model was compiled without a split update step");
  std::vector<float> hypers;
  for (const std::string& h : update_.hypers) hypers.push_back(h == kLearningRateName ? lr : step);
  hypers.push_back(0.0f);
  return run(update_, updateFn_, inputs, {}, batch, hypers);
}

Result<std::unique_ptr<CompiledModel>> jitCompile(const Graph& inference, const Graph* training,
                                                  const CompileOptions& options, const Graph* update) {
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<CompiledModel> model(new CompiledModel());
  CompileTimes& times = model->times_;

  // Lowering.
  auto t0 = std::chrono::steady_clock::now();
  NNC_TRY(checkHypers(inference));
  if (training) NNC_TRY(checkHypers(*training));
  if (update) NNC_TRY(checkHypers(*update));
  auto layout = StateLayout::build({training, &inference, update});
  if (!layout) return layout.error();
  model->layout_ = std::move(*layout);
  const LoweringOptions& lowering = options.lowering;
  auto loweredInference = lowerGraph(inference, model->layout_, lowering);
  if (!loweredInference) return loweredInference.error();
  std::optional<LoweredGraph> loweredTraining;
  if (training) {
    LoweringOptions trainingLowering = lowering;
    trainingLowering.writeOnlyUpdatesInPlace = options.signalUpdates;
    auto lt = lowerGraph(*training, model->layout_, trainingLowering);
    if (!lt) return lt.error();
    loweredTraining = std::move(*lt);
  }
  std::optional<LoweredGraph> loweredUpdate;
  if (update) {
    // The update's products (gradients computed from gathered factors, train/SplitStep.h)
    // contract over the batch: Fusion.cpp keeps the optimizer out of their tiles.
    auto lu = lowerGraph(*update, model->layout_, lowering);
    if (!lu) return lu.error();
    loweredUpdate = std::move(*lu);
  }
  times.lowering = secondsSince(t0);

  // LLVM IR.
  t0 = std::chrono::steady_clock::now();
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto module = std::make_unique<llvm::Module>("nnc_model", *ctx);
  NNC_TRY(codegen::emitEntryPoint(*module, *loweredInference, kForwardSymbol, options.chunkWork, options.profile));
  std::vector<std::string> symbols{kForwardSymbol};
  if (loweredTraining) {
    std::vector<std::vector<UpdateSignal>> signals;
    if (options.signalUpdates) signals = updateSignals(*loweredTraining);
    NNC_TRY(codegen::emitEntryPoint(*module, *loweredTraining, kTrainSymbol, options.chunkWork, options.profile,
                                    options.signalUpdates ? &signals : nullptr));
    symbols.push_back(kTrainSymbol);
  }
  if (loweredUpdate) {
    NNC_TRY(codegen::emitEntryPoint(*module, *loweredUpdate, kUpdateSymbol, options.chunkWork, options.profile));
    symbols.push_back(kUpdateSymbol);
  }
  // Merged before hashing: a shorter text to hash, and the key of what is compiled.
  times.mergedTasks = codegen::mergeIdenticalTasks(*module);
  std::string text;
  {
    llvm::raw_string_ostream os(text);
    module->print(os, nullptr);
  }
  times.irGen = secondsSince(t0);
  std::string key = sha1Hex(text) + " " + codegen::hostTargetDescription() + " O" + std::to_string(options.optLevel);
  if (options.keepIR) model->ir_ = text;

  // Optimisation and machine code, unless this exact module was compiled before.
  std::shared_ptr<codegen::JitCode> code;
  if (options.useCache) {
    std::lock_guard<std::mutex> lock(cacheMutex());
    auto it = cache().find(key);
    if (it != cache().end()) code = it->second;
  }
  times.cacheHit = code != nullptr;
  if (!code) {
    codegen::JitTimes jt;
    codegen::JitOptions jo;
    jo.optLevel = options.optLevel;
    jo.threads = options.compileThreads;
    // keepIR wants the optimised IR, which only compiling produces.
    if (options.useCache && options.diskCache && !options.keepIR) jo.diskCacheKey = key;
    auto compiled = codegen::jitCompile(std::move(module), std::move(ctx), symbols, jo, &jt,
                                        options.keepIR ? &model->optIR_ : nullptr);
    if (!compiled) return compiled.error();
    code = *compiled;
    times.optimize = jt.optimizeSeconds;
    times.codegen = jt.codegenSeconds;
    times.compileParts = jt.parts;
    times.diskCacheHit = jt.diskHit;
    if (options.useCache) {
      std::lock_guard<std::mutex> lock(cacheMutex());
      cache()[key] = code;
    }
  }
  model->code_ = std::make_shared<CompiledModel::Code>(CompiledModel::Code{code});
  model->forwardFn_ = reinterpret_cast<CompiledModel::EntryFn>(code->symbol(kForwardSymbol));
  model->inference_ = describeEntry(*loweredInference, kForwardSymbol);
  if (loweredTraining) {
    model->trainFn_ = reinterpret_cast<CompiledModel::EntryFn>(code->symbol(kTrainSymbol));
    model->training_ = describeEntry(*loweredTraining, kTrainSymbol);
    model->hasTraining_ = true;
  }
  if (loweredUpdate) {
    model->updateFn_ = reinterpret_cast<CompiledModel::EntryFn>(code->symbol(kUpdateSymbol));
    model->update_ = describeEntry(*loweredUpdate, kUpdateSymbol);
    if (!model->updateFn_) return makeError("internal: the compiled code lacks its update entry point");
  }
  if (!model->forwardFn_ || (loweredTraining && !model->trainFn_))
    return makeError("internal: the compiled code lacks its entry points");

  int64_t stateBytes = std::max<int64_t>((model->layout_.bytes() + 63) / 64 * 64, 64);
  void* state = std::aligned_alloc(64, static_cast<size_t>(stateBytes));
  if (!state) return makeError("cannot allocate " + std::to_string(stateBytes) + " bytes of model state");
  std::memset(state, 0, static_cast<size_t>(stateBytes));
  model->state_.reset(static_cast<std::byte*>(state));
  times.total = secondsSince(start);
  return model;
}

void clearJitCache() {
  std::lock_guard<std::mutex> lock(cacheMutex());
  cache().clear();
}

}  // namespace nnc
