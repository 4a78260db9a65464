#pragma once
// What the training loop drives: a compiled (or interpreted) model that runs a training step,
// an evaluation and a prediction on batches of host data, and exposes its parameters and
// state by name. The loop in Trainer.cpp knows nothing of graphs, LLVM or the interpreter.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "support/Result.h"
#include "runtime/data/Array.h"

namespace nnc::training {

struct TensorSpec {
  std::string name;
  data::DType dtype = data::DType::F32;
  std::vector<int64_t> shape;  // inputs: the first dimension is the batch (-1)
  bool trainable = false;      // state tensors: a parameter (else running statistics, optimizer slots, ...)
};

// What one batch produced. `correct` counts right predictions (argmax for categorical
// losses, a 0.5 threshold for binary ones); `predicted` holds each sample's predicted class
// when the caller asked for it (categorical losses only).
struct BatchResult {
  double loss = 0;
  int64_t correct = 0;
  int64_t counted = 0;  // predictions compared (samples, or elements for binary targets)
  std::vector<int32_t> predicted;
};

class Executor {
 public:
  virtual ~Executor() = default;

  // The model's inputs, in declaration order; batches are passed in this order.
  virtual const std::vector<TensorSpec>& inputs() const = 0;
  // Every persistent tensor: parameters, then non-trainable state (running statistics,
  // class weights, optimizer slots). This is what a checkpoint holds.
  virtual const std::vector<TensorSpec>& stateTensors() const = 0;
  // The values of one of stateTensors(), writable; empty for an unknown name.
  virtual std::span<float> state(const std::string& name) = 0;
  // The first output's per-sample shape (what `predict` writes).
  virtual TensorSpec firstOutput() const = 0;

  // One optimizer step on `batch` rows: inputs[i] points at `batch` contiguous samples of
  // input i. Updates parameters and state in place.
  virtual Result<BatchResult> trainStep(std::span<const void* const> inputs, int64_t batch, float lr, float step) = 0;
  // The loss and predictions in inference mode (dropout off, running statistics).
  virtual Result<BatchResult> evaluate(std::span<const void* const> inputs, int64_t batch, bool wantPredicted) = 0;
  // The first output for `batch` samples, written to `out`.
  virtual Result<void> predict(std::span<const void* const> inputs, int64_t batch, std::span<float> out) = 0;
};

}  // namespace nnc::training
