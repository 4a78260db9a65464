#pragma once
// A tiny classification problem for end-to-end runs of `nnc train/eval/predict` that take
// milliseconds per epoch on the interpreter: a model file and matching .npy data written
// into a temporary directory.
#include <string>
#include <vector>

#include "NncProcess.h"

namespace nnc::hostile {

struct TinyProblemOptions {
  int samples = 64;
  int hidden = 8;  // units of the hidden layer: a larger one makes a larger checkpoint
  std::string optimizer = "sgd(lr = 0.1)";
};

inline TinyProblemOptions withHidden(int units) {
  TinyProblemOptions o;
  o.hidden = units;
  return o;
}

class TinyProblem {
 public:
  explicit TinyProblem(const TinyProblemOptions& options = {});

  const TempDir& dir() const { return dir_; }
  const std::string& model() const { return model_; }
  // "npy:x=...,label=..."
  const std::string& data() const { return data_; }

  // `nnc MODEL train --data DATA --backend interpreter --threads 1 ARGS...`
  std::vector<std::string> trainArgs(const std::vector<std::string>& extra) const;
  // `nnc MODEL eval --data DATA --backend interpreter --weights CKPT ARGS...`
  std::vector<std::string> evalArgs(const std::string& weights, const std::vector<std::string>& extra = {}) const;

 private:
  TempDir dir_;
  std::string model_, data_;
};

}  // namespace nnc::hostile
