// nnc host API: compile a `.nn` model and train, evaluate and predict with it from C++.
//
//   #include <nnc/nnc.h>
//
//   auto model = nnc::api::Model::fromFile("fashion_mlp.nn");
//   if (!model) { std::cerr << model.error(); return 1; }
//   auto trainer = nnc::api::Trainer::create(*model);
//   nnc::api::TensorRef images{pixels, {64, 28, 28}, nnc::api::DataType::F32};  // read in place
//   nnc::api::TensorRef labels{classes, {64}, nnc::api::DataType::I32};
//   auto step = trainer->step({images, labels});                        // one optimizer step
//   model->save("weights.safetensors");
//
// Errors are values: every call that can fail returns a Status or an Expected<T> carrying
// the diagnostic text (for model errors, `FILE:LINE:COL: error: ...` with the source line).
// Nothing throws across this API. A Model is cheap to copy (copies share the compiled code
// and the weights); use one Model from one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace nnc::api {

// Success, or an error message.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status failure(std::string message) { return Status(std::move(message)); }
  bool ok() const { return !message_.has_value(); }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { static const std::string none; return message_ ? *message_ : none; }

 private:
  explicit Status(std::string m) : message_(std::move(m)) {}
  std::optional<std::string> message_;
};

// A value, or an error message.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Status failure) : v_(failure.error()) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const std::string& error() const { static const std::string none; return ok() ? none : std::get<1>(v_); }

 private:
  std::variant<T, std::string> v_;
};

enum class DataType { F32, I32 };

// A view of host memory: `data` holds the product of `shape` elements of `dtype`, row-major.
// The first dimension is the batch. nnc reads it in place.
struct TensorRef {
  const void* data = nullptr;
  std::vector<int64_t> shape;
  DataType dtype = DataType::F32;
};

// An owned tensor: results, and data loaded by loadData. `values` holds f32 elements,
// `ints` i32 ones, as `dtype` says.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
  DataType dtype = DataType::F32;
  std::vector<int32_t> ints;
  // A view of rows [first, first + count) (all rows by default), for step/evaluate/predict.
  TensorRef ref(int64_t first = 0, int64_t count = -1) const;
};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // inputs: the first dimension is the batch, -1
  DataType dtype = DataType::F32;
  bool trainable = false;      // parameters (the rest of the state: running statistics, optimizer slots)
};

enum class Backend { Jit, Interpreter };

struct CompileOptions {
  Backend backend = Backend::Jit;
  int threads = 0;  // 0: every core
  std::optional<uint64_t> seed;  // parameter initialisation (default: the train block's seed)
};

class Model {
 public:
  static Expected<Model> fromFile(const std::string& path, const CompileOptions& options = {});
  // `fileName` is used in diagnostics.
  static Expected<Model> fromString(const std::string& source, const std::string& fileName = "<string>",
                                    const CompileOptions& options = {});

  const std::string& name() const;
  std::vector<TensorInfo> inputs() const;
  // Parameters, then the rest of the persistent state (what a checkpoint holds).
  std::vector<TensorInfo> state() const;

  // Reading and writing parameters (and state) by name.
  Expected<Tensor> parameter(const std::string& name) const;
  Status setParameter(const std::string& name, const float* values, size_t count);

  // Checkpoints (safetensors; written atomically).
  Status save(const std::string& path) const;
  Status load(const std::string& path);

  // The first output for a batch; `inputs` in the model's input order (inputs the output does
  // not depend on, such as labels, may be omitted from the end or given as empty refs).
  Expected<Tensor> predict(const std::vector<TensorRef>& inputs) const;

  struct Impl;
  explicit Model(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<Impl> impl_;
};

// Loads a data source as `nnc train --data` names it (fashion-mnist[:train|:test],
// idx:IMAGES,LABELS, npy:NAME=FILE,..., csv:FILE), bound to `model`'s inputs: one Tensor per
// input, in the model's input order, the first dimension being the samples.
Expected<std::vector<Tensor>> loadData(const Model& model, const std::string& source);

struct StepResult {
  double loss = 0;
  std::optional<double> accuracy;  // when the loss has a notion of accuracy
};

struct Evaluation {
  double loss = 0;
  std::optional<double> accuracy;
  int64_t samples = 0;
};

struct FitOptions {
  std::optional<int64_t> epochs, batch;
  std::optional<double> learningRate;
  std::optional<bool> shuffle;
  bool verbose = false;  // a progress line per epoch on standard output
};

struct EpochResult {
  int64_t epoch = 0;
  double loss = 0;
  std::optional<double> accuracy, valLoss, valAccuracy;
};

struct TrainerOptions {
  // Data-parallel training over an MPI communicator the host program owns (it has called
  // MPI_Init and finalises MPI itself): the address of its MPI_Comm, e.g. `&comm` for
  // `MPI_Comm comm = MPI_COMM_WORLD;`. Every process of the communicator creates its Trainer
  // (a collective that checks they all train the same model) and then calls step / evaluate /
  // fit with the same arguments and the same data: each process computes its share of every
  // batch, and the gradients are averaged across processes before each update, so every
  // process ends with the weights one process would have (docs/distributed.md). Null: alone.
  const void* mpiCommunicator = nullptr;
};

// Trains a Model with its `train` block: the optimizer, learning rate and schedule, and the
// step counter live here.
class Trainer {
 public:
  static Expected<Trainer> create(Model& model, const TrainerOptions& options = {});

  // One optimizer step on one batch, read in place. `learningRate` overrides the schedule.
  Expected<StepResult> step(const std::vector<TensorRef>& batch, std::optional<double> learningRate = {});
  // Loss and accuracy in inference mode (no dropout, running statistics).
  Expected<Evaluation> evaluate(const std::vector<TensorRef>& data, int64_t batchSize = 256);
  // Whole epochs over a data set, as `nnc train` runs them (shuffling, validation split,
  // normalisation, schedules, early stopping from the train block). Each call trains
  // `options.epochs` (default: the train block's) more epochs, numbered after epochsDone().
  Expected<std::vector<EpochResult>> fit(const std::vector<TensorRef>& data, const FitOptions& options = {});

  int64_t stepsDone() const;
  int64_t epochsDone() const;

 private:
  explicit Trainer(Model model) : model_(std::move(model)) {}
  Model model_;
  struct Parallel;  // with TrainerOptions::mpiCommunicator
  std::shared_ptr<Parallel> parallel_;
};

}  // namespace nnc::api
