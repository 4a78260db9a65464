// The host API (nnc/nnc.h) over the session layer: internal Results become api::Status /
// api::Expected, and nothing throws across the boundary.
#include <fstream>
#include <iostream>
#include <sstream>

#include <algorithm>

#include "compiler/session/ClassWeights.h"
#include "compiler/session/DataFeed.h"
#include "compiler/session/Executors.h"
#include "compiler/session/ModelCheckpoint.h"
#include "compiler/session/ModelPlan.h"
#include "compiler/ir/Printer.h"
#include "dsl/Frontend.h"
#include "runtime/distributed/DataParallelExecutor.h"
#include "runtime/distributed/DataParallelJob.h"
#include "runtime/distributed/MpiLoader.h"
#include "nnc/nnc.h"
#include "runtime/training/Sampling.h"
#include "runtime/training/Schedule.h"
#include "runtime/training/Trainer.h"

namespace nnc::api {

struct Model::Impl {
  nnc::Model model;
  std::unique_ptr<training::Executor> exec;
  training::TrainingPlan plan;
  std::vector<training::InputNormalization> normalization;
  bool statisticsKnown = false;  // normalisation statistics computed (fit) or loaded (checkpoint)
  int64_t epochs = 0, steps = 0;
  ExecutorOptions executorOptions;  // what `exec` was created with
};

struct Trainer::Parallel {
  std::unique_ptr<distributed::DataParallelJob> job;
  std::unique_ptr<distributed::DataParallelExecutor> exec;
};

namespace {

Status fail(const nnc::Error& e) { return Status::failure(e.message); }

// Converts and checks a batch against the model's inputs; normalises float inputs into
// `scratch` when the model normalises (else the caller's memory is used in place).
Expected<int64_t> prepareBatch(Model::Impl& m, const std::vector<TensorRef>& refs, bool labelsOptional,
                               std::vector<const void*>& ptrs, std::vector<std::vector<float>>& scratch) {
  const auto& specs = m.exec->inputs();
  ptrs.assign(specs.size(), nullptr);
  scratch.assign(specs.size(), {});
  int64_t batch = -1;
  if (refs.size() > specs.size())
    return Status::failure("got " + std::to_string(refs.size()) + " inputs; the model has " +
                           std::to_string(specs.size()));
  for (size_t i = 0; i < specs.size(); ++i) {
    const training::TensorSpec& s = specs[i];
    if (i >= refs.size() || !refs[i].data) {
      if (labelsOptional) continue;
      return Status::failure("no data for input '" + s.name + "'");
    }
    const TensorRef& r = refs[i];
    bool wantInt = s.dtype == data::DType::I32;
    if ((r.dtype == DataType::I32) != wantInt)
      return Status::failure("input '" + s.name + "' is " + (wantInt ? "i32" : "f32") + " but the data is " +
                             (r.dtype == DataType::I32 ? "i32" : "f32"));
    bool shapeOk = r.shape.size() == s.shape.size() && !r.shape.empty();
    for (size_t d = 1; shapeOk && d < s.shape.size(); ++d) shapeOk = r.shape[d] == s.shape[d];
    if (!shapeOk || r.shape[0] <= 0)
      return Status::failure("input '" + s.name + "' has shape " + data::shapeString(r.shape) + "; the model expects " +
                             data::shapeString(s.shape) + " (batch first)");
    if (batch >= 0 && r.shape[0] != batch)
      return Status::failure("inputs have different batch sizes: " + std::to_string(batch) + " and " +
                             std::to_string(r.shape[0]) + " ('" + s.name + "')");
    batch = r.shape[0];
    ptrs[i] = r.data;
    for (const auto& n : m.normalization) {
      if (n.input != s.name || wantInt) continue;
      int64_t count = 1;
      for (int64_t d : r.shape) count *= d;
      const float* src = static_cast<const float*>(r.data);
      scratch[i].resize(size_t(count));
      for (int64_t k = 0; k < count; ++k) scratch[i][size_t(k)] = float((src[k] - n.shift) * n.multiplier);
      ptrs[i] = scratch[i].data();
    }
  }
  if (batch < 0) return Status::failure("no input data given");
  return batch;
}

std::vector<training::InputNormalization> staticNormalization(const Model::Impl& m) {
  std::vector<training::InputNormalization> out;
  if (m.plan.normalization != training::Normalization::Scale) return out;
  for (const auto& s : m.exec->inputs())
    if (s.dtype == data::DType::F32) out.push_back({s.name, 0, m.plan.normalizeScale});
  return out;
}

std::optional<double> ratio(int64_t a, int64_t b) { return b ? std::optional<double>(double(a) / double(b)) : std::nullopt; }

}  // namespace

Expected<Model> Model::fromString(const std::string& source, const std::string& fileName, const CompileOptions& options) {
  try {
    DiagnosticEngine diags(fileName, source);
    std::optional<nnc::Model> model = compileModel(source, diags);
    if (!model || diags.hasErrors()) return Status::failure(diags.renderToString());
    auto impl = std::make_shared<Impl>();
    impl->model = std::move(*model);
    ExecutorOptions eo;
    eo.backend = options.backend == Backend::Interpreter ? nnc::Backend::Interpreter : nnc::Backend::Jit;
    eo.threads = options.threads;
    eo.seed = options.seed.value_or(impl->model.train ? impl->model.train->seed : 0);
    auto exec = createExecutor(impl->model, eo);
    if (!exec) return fail(exec.error());
    impl->exec = std::move(*exec);
    impl->executorOptions = eo;
    impl->plan = trainingPlanFor(impl->model);
    impl->normalization = staticNormalization(*impl);
    impl->statisticsKnown = impl->plan.normalization != training::Normalization::Standardize;
    return Model(std::move(impl));
  } catch (const std::exception& e) {
    return Status::failure(std::string("nnc: internal error: ") + e.what());
  }
}

Expected<Model> Model::fromFile(const std::string& path, const CompileOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::failure(path + ": error: cannot open the model file");
  std::ostringstream text;
  text << in.rdbuf();
  return fromString(text.str(), path, options);
}

const std::string& Model::name() const { return impl_->model.name; }

std::vector<TensorInfo> Model::inputs() const {
  std::vector<TensorInfo> out;
  for (const auto& s : impl_->exec->inputs())
    out.push_back({s.name, s.shape, s.dtype == data::DType::I32 ? DataType::I32 : DataType::F32, false});
  return out;
}

std::vector<TensorInfo> Model::state() const {
  std::vector<TensorInfo> out;
  for (const auto& s : impl_->exec->stateTensors()) out.push_back({s.name, s.shape, DataType::F32, s.trainable});
  return out;
}

Expected<Tensor> Model::parameter(const std::string& name) const {
  for (const auto& s : impl_->exec->stateTensors()) {
    if (s.name != name) continue;
    std::span<float> v = impl_->exec->state(name);
    Tensor t;
    t.shape = s.shape;
    t.values.assign(v.begin(), v.end());
    return t;
  }
  return Status::failure("the model has no parameter or state named '" + name + "'");
}

Status Model::setParameter(const std::string& name, const float* values, size_t count) {
  std::span<float> v = impl_->exec->state(name);
  if (v.empty()) return Status::failure("the model has no parameter or state named '" + name + "'");
  if (count != v.size())
    return Status::failure("'" + name + "' has " + std::to_string(v.size()) + " elements; got " + std::to_string(count));
  std::copy(values, values + count, v.begin());
  return {};
}

Status Model::save(const std::string& path) const {
  CheckpointInfo info;
  info.model = impl_->model.name;
  info.optimizer = impl_->model.train ? std::string(impl_->model.train->optimizer.name()) : "";
  info.epochs = impl_->epochs;
  info.steps = impl_->steps;
  info.normalization = impl_->normalization;
  auto ok = saveModelCheckpoint(path, *impl_->exec, info);
  return ok ? Status() : fail(ok.error());
}

Status Model::load(const std::string& path) {
  auto info = loadModelCheckpoint(path, *impl_->exec);
  if (!info) return fail(info.error());
  impl_->epochs = info->epochs;
  impl_->steps = info->steps;
  if (!info->normalization.empty()) {
    impl_->normalization = info->normalization;
    impl_->statisticsKnown = true;
  }
  return {};
}

Expected<Tensor> Model::predict(const std::vector<TensorRef>& inputs) const {
  std::vector<const void*> ptrs;
  std::vector<std::vector<float>> scratch;
  auto batch = prepareBatch(*impl_, inputs, true, ptrs, scratch);
  if (!batch) return Status::failure(batch.error());
  training::TensorSpec out = impl_->exec->firstOutput();
  Tensor t;
  t.shape = {*batch};
  t.shape.insert(t.shape.end(), out.shape.begin(), out.shape.end());
  int64_t count = 1;
  for (int64_t d : t.shape) count *= d;
  t.values.resize(size_t(count));
  auto ok = impl_->exec->predict(ptrs, *batch, t.values);
  if (!ok) return fail(ok.error());
  return t;
}

Expected<Trainer> Trainer::create(Model& model, const TrainerOptions& options) {
  if (!model.impl().model.train || model.impl().model.train->loss == kNoNode)
    return Status::failure("model '" + model.name() + "' has no train block with a loss, so it cannot be trained");
  Trainer trainer(model);
  if (!options.mpiCommunicator) return trainer;
  Model::Impl& m = model.impl();
  auto* split = dynamic_cast<distributed::SplitStepExecutor*>(m.exec.get());
  if (!split || !split->isSplit()) {
    // Recompiled with the training step split in two, keeping the current weights.
    ExecutorOptions eo = m.executorOptions;
    eo.splitStep = true;
    auto exec = createExecutor(m.model, eo);
    if (!exec) return fail(exec.error());
    for (const training::TensorSpec& t : m.exec->stateTensors()) {
      std::span<float> from = m.exec->state(t.name), to = (*exec)->state(t.name);
      if (from.size() == to.size()) std::copy(from.begin(), from.end(), to.begin());
    }
    m.exec = std::move(*exec);
    m.executorOptions = eo;
    split = dynamic_cast<distributed::SplitStepExecutor*>(m.exec.get());
    if (!split) return Status::failure("the interpreter backend does not train data-parallel");
  }
  auto comm = distributed::useHostCommunicator(options.mpiCommunicator);
  if (!comm) return fail(comm.error());
  auto parallel = std::make_shared<Parallel>();
  parallel->job = std::make_unique<distributed::DataParallelJob>(std::move(*comm));
  if (auto ok = parallel->job->checkAgreement({{"the model", printGraph(m.model.graph)}}); !ok) return fail(ok.error());
  parallel->exec = std::make_unique<distributed::DataParallelExecutor>(
      *m.exec, *split, parallel->job->comm());
  trainer.parallel_ = std::move(parallel);
  return trainer;
}

Expected<StepResult> Trainer::step(const std::vector<TensorRef>& batch, std::optional<double> learningRate) {
  Model::Impl& m = model_.impl();
  std::vector<const void*> ptrs;
  std::vector<std::vector<float>> scratch;
  auto n = prepareBatch(m, batch, false, ptrs, scratch);
  if (!n) return Status::failure(n.error());
  double lr = learningRate.value_or(training::learningRateAt(m.plan.learningRate, m.plan.schedule, m.epochs, m.steps));
  training::Executor& exec = parallel_ ? *parallel_->exec : *m.exec;
  auto r = exec.trainStep(ptrs, *n, float(lr), float(m.steps));
  if (!r) return fail(r.error());
  ++m.steps;
  return StepResult{r->loss, ratio(r->correct, r->counted)};
}

Expected<Evaluation> Trainer::evaluate(const std::vector<TensorRef>& data, int64_t batchSize) {
  Model::Impl& m = model_.impl();
  std::vector<const void*> ptrs;
  std::vector<std::vector<float>> scratch;
  auto n = prepareBatch(m, data, false, ptrs, scratch);
  if (!n) return Status::failure(n.error());
  batchSize = std::max<int64_t>(1, batchSize);
  Evaluation e;
  int64_t correct = 0, counted = 0;
  double lossSum = 0;
  const auto& specs = m.exec->inputs();
  for (int64_t first = 0; first < *n; first += batchSize) {
    int64_t count = std::min(batchSize, *n - first);
    std::vector<const void*> rows(ptrs.size());
    for (size_t i = 0; i < ptrs.size(); ++i) {
      int64_t perSample = 1;
      for (size_t d = 1; d < specs[i].shape.size(); ++d) perSample *= specs[i].shape[d];
      rows[i] = static_cast<const char*>(ptrs[i]) + size_t(first * perSample) * 4;
    }
    auto r = (parallel_ ? *parallel_->exec : *m.exec).evaluate(rows, count, false);
    if (!r) return fail(r.error());
    lossSum += r->loss * double(count);
    correct += r->correct;
    counted += r->counted;
  }
  e.samples = *n;
  e.loss = lossSum / double(*n);
  e.accuracy = ratio(correct, counted);
  return e;
}

Expected<std::vector<EpochResult>> Trainer::fit(const std::vector<TensorRef>& data, const FitOptions& options) {
  Model::Impl& m = model_.impl();
  const auto& specs = m.exec->inputs();
  if (data.size() != specs.size())
    return Status::failure("fit needs every input (" + std::to_string(specs.size()) + "); got " +
                           std::to_string(data.size()));
  std::vector<const void*> ptrs;
  std::vector<std::vector<float>> scratch;
  // Checks shapes (normalisation happens below, on the copies, with statistics of this data).
  auto saved = m.normalization;
  m.normalization.clear();
  auto n = prepareBatch(m, data, false, ptrs, scratch);
  m.normalization = saved;
  if (!n) return Status::failure(n.error());
  std::vector<data::Array> arrays;
  std::vector<std::string> names;
  for (size_t i = 0; i < specs.size(); ++i) {
    int64_t count = 1;
    for (int64_t d : data[i].shape) count *= d;
    if (specs[i].dtype == data::DType::I32) {
      const int32_t* p = static_cast<const int32_t*>(data[i].data);
      arrays.push_back(data::Array::fromI32(data[i].shape, std::vector<int32_t>(p, p + count)));
    } else {
      const float* p = static_cast<const float*>(data[i].data);
      arrays.push_back(data::Array::fromF32(data[i].shape, std::vector<float>(p, p + count)));
    }
    names.push_back(specs[i].name);
  }
  training::TrainingPlan plan = m.plan;
  if (options.epochs) plan.epochs = *options.epochs;
  if (options.batch) plan.batch = *options.batch;
  if (options.learningRate) plan.learningRate = *options.learningRate;
  if (options.shuffle) plan.shuffle = *options.shuffle;
  training::Split split = training::splitForValidation(*n, plan.validation);
  if (!m.statisticsKnown) {
    m.normalization = training::computeNormalization(plan.normalization, plan.normalizeScale, names, arrays, split.trainCount);
    m.statisticsKnown = true;
  }
  training::applyNormalization(m.normalization, names, arrays);
  if (plan.numClasses > 0 && plan.labelInput >= 0)
    if (auto ok = data::checkLabels(arrays[size_t(plan.labelInput)], plan.numClasses, "the training data"); !ok)
      return fail(ok.error());
  if (auto ok = applyClassWeights(plan, arrays, split.trainCount, *m.exec); !ok) return fail(ok.error());
  plan.epochs += m.epochs;  // each fit() trains `epochs` more; the loop counts up to a total
  training::ProgressReporter progress(std::cout, false, plan.epochs);
  training::FitOptions fo;
  fo.progress = options.verbose && (!parallel_ || parallel_->job->isRoot()) ? &progress : nullptr;
  fo.firstEpoch = m.epochs;
  fo.firstStep = m.steps;
  auto outcome = training::fit(parallel_ ? *parallel_->exec : *m.exec, plan, arrays, fo);
  if (!outcome) return fail(outcome.error());
  m.epochs = outcome->epochsDone;
  m.steps = outcome->stepsDone;
  std::vector<EpochResult> out;
  for (const auto& s : outcome->history) out.push_back({s.epoch, s.loss, s.accuracy, s.valLoss, s.valAccuracy});
  return out;
}

TensorRef Tensor::ref(int64_t first, int64_t count) const {
  TensorRef r;
  r.dtype = dtype;
  r.shape = shape;
  if (shape.empty()) return r;
  int64_t perRow = 1;
  for (size_t d = 1; d < shape.size(); ++d) perRow *= shape[d];
  first = std::clamp<int64_t>(first, 0, shape[0]);
  count = count < 0 ? shape[0] - first : std::min(count, shape[0] - first);
  r.shape[0] = count;
  r.data = dtype == DataType::I32 ? static_cast<const void*>(ints.data() + first * perRow)
                                  : static_cast<const void*>(values.data() + first * perRow);
  return r;
}

Expected<std::vector<Tensor>> loadData(const Model& model, const std::string& source) {
  auto feed = loadModelData(model.impl().model, source, data::Split::Train);
  if (!feed) return fail(feed.error());
  std::vector<Tensor> out;
  for (data::Array& a : feed->arrays) {
    Tensor t;
    t.shape = a.shape();
    if (a.dtype() == data::DType::I32) {
      t.dtype = DataType::I32;
      t.ints.assign(a.i32().begin(), a.i32().end());
    } else {
      t.values.assign(a.f32().begin(), a.f32().end());
    }
    out.push_back(std::move(t));
  }
  return out;
}

int64_t Trainer::stepsDone() const { return model_.impl().steps; }
int64_t Trainer::epochsDone() const { return model_.impl().epochs; }

}  // namespace nnc::api
