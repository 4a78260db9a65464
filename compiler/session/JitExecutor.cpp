#include "compiler/session/JitExecutor.h"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "compiler/session/ModelPlan.h"
#include "compiler/session/Scoring.h"
#include "compiler/session/StateStore.h"
#include "compiler/train/SplitStep.h"
#include "compiler/train/TrainingGraph.h"
#include "runtime/parallel/ThreadPool.h"

namespace nnc {

namespace {
int outputIndex(const EntryInfo& e, const std::string& name) {
  for (size_t i = 0; i < e.outputs.size(); ++i)
    if (e.outputs[i].name == name) return int(i);
  return -1;
}

int64_t bytesFor(const TensorType& t, int64_t batch) { return t.shape.numElements(batch) * 4; }

void sizeBuffers(const EntryInfo& e, int64_t batch, std::vector<std::vector<char>>& bufs) {
  bufs.resize(e.outputs.size());
  for (size_t i = 0; i < e.outputs.size(); ++i) bufs[i].resize(size_t(bytesFor(e.outputs[i].type, batch)));
}

std::vector<void*> pointers(std::vector<std::vector<char>>& bufs) {
  std::vector<void*> p;
  for (auto& b : bufs) p.push_back(b.data());
  return p;
}
}  // namespace

Result<std::unique_ptr<JitExecutor>> JitExecutor::create(const Model& model, const ExecutorOptions& options) {
  std::unique_ptr<JitExecutor> e(new JitExecutor());
  if (options.threads > 0) rt::ThreadPool::instance().setThreads(options.threads);
  Result<StepGraphs> graphs = buildStepGraphs(model);
  if (!graphs) return graphs.error();
  const Graph& inference = graphs->eval ? graphs->eval->graph : graphs->predict.graph;
  const Graph* training = graphs->train ? &graphs->train->graph : nullptr;
  std::optional<SplitTrainingStep> split;
  if (options.splitStep && training) {
    SplitStepOptions so;
    so.batch = options.splitBatch;
    so.gradientFactors = options.gradientFactors;
    Result<SplitTrainingStep> s = buildSplitTrainingStep(model, so);
    if (!s) return s.error();
    split = std::move(*s);
    Result<NodeId> p = addPredictionOutput(split->gradient.graph, model, split->gradient.fromModel);
    if (!p) return p.error();
    training = &split->gradient.graph;
    e->split_ = true;
    e->gradientNames_ = split->gradientStates;
    e->statisticNames_ = split->statistics;
  }
  // A split step's gradient entry tells the runtime when each gradient is final, so the
  // data-parallel reduction overlaps the rest of the backward pass (UpdateSignals.h).
  CompileOptions compileOptions;
  compileOptions.signalUpdates = e->split_;
  compileOptions.profile = options.profileKernels;
  Result<std::unique_ptr<CompiledModel>> compiled =
      jitCompile(inference, training, compileOptions, split ? &split->update : nullptr);
  if (!compiled) return compiled.error();
  e->compiled_ = std::move(*compiled);
  for (const auto& [name, rate] : dropoutRates(model)) e->compiled_->setRuntimeScalar(name, rate);

  // Initial values, from the same initializers the interpreter uses.
  Result<StateStore> init = StateStore::create(*graphs, options.seed);
  if (!init) return init.error();
  for (const training::TensorSpec& spec : init->specs()) {
    std::span<float> dst = e->compiled_->tensor(spec.name);
    std::span<float> src = init->values(spec.name);
    if (dst.size() != src.size()) continue;  // only in the predict graph: not compiled, not state
    std::memcpy(dst.data(), src.data(), src.size_bytes());
    e->state_.push_back(spec);
  }
  e->inputs_ = inputTensorSpecsFor(model);
  e->labelInput_ = trainingPlanFor(model).labelInput;
  if (const EntryInfo* t = e->compiled_->training()) e->trainPrediction_ = outputIndex(*t, "prediction");
  if (split) {
    const EntryInfo* t = e->compiled_->training();
    const EntryInfo* u = e->compiled_->updateEntry();
    for (const GradientFactors& f : split->factors)
      for (auto [name, columns, weighted] : {std::tuple{f.a, f.aColumns, false}, std::tuple{f.b, f.bColumns, true}}) {
        int out = t ? outputIndex(*t, name) : -1;
        int in = -1;
        for (size_t i = 0; u && i < u->inputs.size(); ++i)
          if (u->inputs[i].name == name) in = int(i);
        if (out < 0 || in < 0) return makeError("internal: the split step lost its gradient factor '" + name + "'");
        e->factors_.push_back({name, columns, weighted});
        e->factorOutput_.push_back(out);
        e->factorInput_.push_back(in);
      }
  }
  const EntryInfo& inf = e->compiled_->inference();
  e->evalLoss_ = graphs->eval ? outputIndex(inf, "loss") : -1;
  e->evalPrediction_ = graphs->eval ? outputIndex(inf, "prediction") : -1;
  const Graph& p = graphs->predict.graph;
  if (!p.outputs.empty()) {
    e->firstOutputIndex_ = outputIndex(inf, p.outputs[0].name);
    const TensorType& t = p.type(p.outputs[0].node);
    std::vector<int64_t> sample = t.shape.dims;
    if (t.shape.isBatched()) sample.erase(sample.begin());
    e->firstOutput_ = {p.outputs[0].name, t.dtype == DType::I32 ? data::DType::I32 : data::DType::F32, sample};
  }
  return e;
}

std::vector<const void*> JitExecutor::entryInputs(const EntryInfo& entry, std::span<const void* const> inputs,
                                                  int64_t batch) {
  std::vector<const void*> out;
  for (size_t i = 0; i < entry.inputs.size(); ++i) {
    const void* p = nullptr;
    for (size_t k = 0; k < inputs_.size() && k < inputs.size(); ++k)
      if (inputs_[k].name == entry.inputs[i].name) p = inputs[k];
    if (!p && entry.inputUsed[i]) {
      // Zeros are a valid value of every input (class 0 for labels).
      size_t need = size_t(bytesFor(entry.inputs[i].type, batch));
      if (zeros_.size() < need) zeros_.assign(need, 0);
      p = zeros_.data();
    }
    out.push_back(p);
  }
  return out;
}

std::vector<std::span<float>> JitExecutor::spans(const std::vector<std::string>& names) {
  std::vector<std::span<float>> out;
  for (const std::string& n : names) out.push_back(compiled_->tensor(n));
  return out;
}

Result<void> JitExecutor::updateStep(float lr, float step, std::span<const float* const> factors, int64_t batch) {
  if (factors_.empty()) return compiled_->updateStep(lr, step);
  if (factors.size() != factors_.size() || batch < 1)
    return makeError("internal: the update step needs its " + std::to_string(factors_.size()) + " gradient factors");
  std::vector<const void*> in(compiled_->updateEntry()->inputs.size(), nullptr);
  for (size_t i = 0; i < factors_.size(); ++i) in[size_t(factorInput_[i])] = factors[i];
  return compiled_->updateStep(lr, step, in, batch);
}

std::vector<std::string> JitExecutor::kernelLabels(bool updateEntry) const {
  const EntryInfo* entry = updateEntry ? compiled_->updateEntry() : compiled_->training();
  std::vector<std::string> labels;
  if (!entry) return labels;
  for (int k = 0; k < entry->kernels; ++k) {
    std::string label = "k";  // (GCC 12 warns falsely about "k" + std::to_string(k))
    label += std::to_string(k);
    labels.push_back(size_t(k) < entry->kernelCosts.size() ? entry->kernelCosts[size_t(k)].label : label);
  }
  return labels;
}

std::span<const float> JitExecutor::localFactor(size_t i) {
  if (i >= factors_.size() || lastTrainBatch_ < 1) return {};
  const std::vector<char>& buf = trainOut_[size_t(factorOutput_[i])];
  size_t floats = size_t(lastTrainBatch_ * factors_[i].rowFloats);
  return {reinterpret_cast<const float*>(buf.data()), std::min(floats, buf.size() / 4)};
}

Result<training::BatchResult> JitExecutor::trainStep(std::span<const void* const> inputs, int64_t batch, float lr,
                                                     float step) {
  Result<training::BatchResult> r = runTrainEntry(inputs, batch, lr, step, 0);
  if (!r || !split_) return r;
  // One process: its factors are the whole batch's.
  std::vector<const float*> factors;
  for (size_t i = 0; i < factors_.size(); ++i) factors.push_back(localFactor(i).data());
  NNC_TRY(updateStep(lr, step, factors, batch));
  return r;
}

Result<training::BatchResult> JitExecutor::gradientStep(std::span<const void* const> inputs, int64_t batch, float lr,
                                                        float step, int64_t firstRow) {
  if (!split_) return makeError("internal: the training step was not compiled split (ExecutorOptions::splitStep)");
  return runTrainEntry(inputs, batch, lr, step, firstRow);
}

Result<training::BatchResult> JitExecutor::runTrainEntry(std::span<const void* const> inputs, int64_t batch, float lr,
                                                         float step, int64_t firstRow) {
  const EntryInfo* t = compiled_->training();
  if (!t) return makeError("the model has no train block with a loss, so it cannot be trained");
  sizeBuffers(*t, batch, trainOut_);
  std::vector<void*> outs = pointers(trainOut_);
  std::vector<const void*> in = entryInputs(*t, inputs, batch);
  float loss = 0;
  int lossIndex = outputIndex(*t, "loss");
  if (lossIndex >= 0) outs[size_t(lossIndex)] = &loss;  // the step writes the loss here
  lastTrainBatch_ = 0;
  NNC_TRY(compiled_->trainStep(in, batch, lr, step, &loss, outs, float(firstRow)));
  lastTrainBatch_ = batch;
  PredictionView view;
  if (trainPrediction_ >= 0) {
    const TensorSpec& spec = t->outputs[size_t(trainPrediction_)];
    view = {outs[size_t(trainPrediction_)], spec.type.dtype == DType::I32, spec.type.shape.numElements(batch)};
  }
  return scoreBatch(loss, view, inputs_, labelInput_, inputs, batch, false);
}

Result<void> JitExecutor::runInference(std::span<const void* const> inputs, int64_t batch) {
  const EntryInfo& e = compiled_->inference();
  sizeBuffers(e, batch, evalOut_);
  std::vector<void*> outs = pointers(evalOut_);
  std::vector<const void*> in = entryInputs(e, inputs, batch);
  return compiled_->forward(in, outs, batch);
}

Result<training::BatchResult> JitExecutor::evaluate(std::span<const void* const> inputs, int64_t batch,
                                                    bool wantPredicted) {
  if (evalLoss_ < 0) return makeError("the model has no loss to evaluate (add a train block with a loss)");
  NNC_TRY(runInference(inputs, batch));
  const EntryInfo& e = compiled_->inference();
  double loss = *reinterpret_cast<const float*>(evalOut_[size_t(evalLoss_)].data());
  PredictionView view;
  if (evalPrediction_ >= 0) {
    const TensorSpec& spec = e.outputs[size_t(evalPrediction_)];
    view = {evalOut_[size_t(evalPrediction_)].data(), spec.type.dtype == DType::I32, spec.type.shape.numElements(batch)};
  }
  return scoreBatch(loss, view, inputs_, labelInput_, inputs, batch, wantPredicted);
}

Result<void> JitExecutor::predict(std::span<const void* const> inputs, int64_t batch, std::span<float> out) {
  if (firstOutputIndex_ < 0) return makeError("the model declares no output, so there is nothing to predict");
  NNC_TRY(runInference(inputs, batch));
  const TensorSpec& spec = compiled_->inference().outputs[size_t(firstOutputIndex_)];
  int64_t n = spec.type.shape.numElements(batch);
  if (int64_t(out.size()) < n) return makeError("internal: the prediction buffer is too small");
  const char* src = evalOut_[size_t(firstOutputIndex_)].data();
  if (spec.type.dtype == DType::I32) {
    for (int64_t i = 0; i < n; ++i) out[size_t(i)] = float(reinterpret_cast<const int32_t*>(src)[i]);
  } else {
    std::memcpy(out.data(), src, size_t(n) * 4);
  }
  return {};
}

}  // namespace nnc
