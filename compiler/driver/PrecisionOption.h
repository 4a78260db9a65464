#pragma once
// `--precision f32|bf16`: overrides the train block's `precision` (LANGUAGE.md), for every
// command that loads a model (a global option, like --set). It applies to every graph the
// command builds: the training step, and the inference graphs of eval, predict, bench and
// compile, so that a model trained in bf16 is evaluated as it trained. gradcheck checks the
// exact gradients whatever the precision (train/GradCheck.h says why). loadModel() applies it.
#include <CLI/CLI.hpp>

#include "compiler/ir/Model.h"

namespace nnc::driver {

void addPrecisionOption(CLI::App& app);

// Sets model.precision when --precision was given.
void applyPrecisionOption(Model& model);

}  // namespace nnc::driver
