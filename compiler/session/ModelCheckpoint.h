#pragma once
// A model's checkpoint: a safetensors file with one f32 tensor per parameter under its
// parameter name (dense [in, out], conv [kh, kw, in, out]), the non-trainable state under its
// name (running statistics "bn.running_mean", class weights, optimizer slots such as
// "h1.weight/adam.m"), and string metadata:
//   nnc.format     "1"
//   nnc.model      the model's name
//   nnc.epochs     epochs trained so far        nnc.steps  optimizer steps so far
//                  (those of the weights saved: the last completed epoch, or the best one
//                  that early stopping kept)
//   nnc.optimizer  sgd | adam | adadelta | rmsprop | adagrad
//   nnc.normalize  JSON list of {"input", "shift", "multiplier"}: x' = (x - shift) * multiplier
// Written atomically (temporary file, flush, rename): a failed save leaves the previous file.
#include <string>
#include <vector>

#include "runtime/training/Executor.h"
#include "runtime/training/Normalizer.h"

namespace nnc {

struct CheckpointInfo {
  std::string model;
  std::string optimizer;
  int64_t epochs = 0;
  int64_t steps = 0;
  std::vector<training::InputNormalization> normalization;
  std::vector<std::string> missingState;  // non-trainable state the file lacked (left at its initial value)
};

Result<void> saveModelCheckpoint(const std::string& path, training::Executor& exec, const CheckpointInfo& info);

// The metadata of an existing checkpoint (model, optimizer, epochs, steps), without an
// executor; an Error when `path` is missing or not a readable checkpoint. Lets an interrupted
// run see whether the file it would replace holds more training than it has to save.
Result<CheckpointInfo> readCheckpointInfo(const std::string& path);

// Checks the whole file against the executor first (every parameter present, names known,
// shapes and dtypes equal), then loads it; on an error nothing is changed.
Result<CheckpointInfo> loadModelCheckpoint(const std::string& path, training::Executor& exec);

}  // namespace nnc
