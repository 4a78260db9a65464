#pragma once
// The `tune` block of a model: its hyperparameters (each a name with a distribution) and the
// search settings. Plain data: the front end fills it (dsl/sema/TuneBlock.cpp), `nnc tune`
// samples from it (compiler/tune/), and every other command takes each name's value from
// `--set`, `--hparams` or its fallback().
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/SourceLoc.h"

namespace nnc {

struct Hyperparameter {
  enum class Kind { Choice, Uniform, LogUniform, IntUniform };
  std::string name;
  SourceLoc loc;  // the name in the tune block
  Kind kind = Kind::Choice;
  std::vector<double> choices;  // Choice
  double lo = 0, hi = 0;        // the ranges (inclusive)
  std::optional<double> defaultValue;
  bool integral = false;  // every value is a whole number (int_uniform, a choice of integers)

  // The value outside `tune`: `default =`, else the first choice or the middle of the range
  // (the geometric middle for log_uniform; rounded down for int_uniform).
  double fallback() const {
    if (defaultValue) return *defaultValue;
    switch (kind) {
      case Kind::Choice: return choices.empty() ? 0 : choices.front();
      case Kind::Uniform: return (lo + hi) / 2;
      case Kind::LogUniform: return std::sqrt(lo * hi);
      case Kind::IntUniform: return std::floor((lo + hi) / 2);
    }
    return 0;
  }
};

enum class TuneObjective { ValLoss, ValAccuracy };

struct TuneSpace {
  SourceLoc loc;  // the `tune` keyword
  std::vector<Hyperparameter> params;  // in the block's order
  TuneObjective objective = TuneObjective::ValLoss;
  int64_t trials = 10;
  int64_t maxEpochs = 0;  // 0: the train block's epochs

  const Hyperparameter* find(const std::string& name) const {
    for (const Hyperparameter& p : params)
      if (p.name == name) return &p;
    return nullptr;
  }
};

// Values given to tune names from outside the model (`--set`, `--hparams`, a trial).
using HyperparameterValues = std::map<std::string, double>;

}  // namespace nnc
