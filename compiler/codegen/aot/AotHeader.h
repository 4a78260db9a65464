#pragma once
// The C header of an ahead-of-time model (`nnc FILE compile`): the documented interface of
// NAME.o. It describes the model as a constant nnc_aot_model_desc (runtime/include/nnc/aot.h)
// and defines NAME_-prefixed functions (create, free, forward, train_step, get/set a tensor by
// name, list tensors, normalise an input) that call the runtime library with it. Only the
// object's symbols are shared between files, and they carry the prefix, so several models
// link into one program.
#include <optional>
#include <string>
#include <vector>

#include "compiler/codegen/aot/AotCompile.h"

namespace nnc {

struct AotInputNormalization {
  std::string input;
  float shift = 0;
  float multiplier = 1;
};

struct AotHeaderInfo {
  std::string prefix;      // NAME: a C identifier
  std::string modelName;   // `model NAME` of the file
  std::string sourceFile;  // for the comment
  std::string weightsFile; // the checkpoint the initial values came from, or empty (initialisers)
  // Known normalisation per input; `normalizationUnknown` names inputs whose statistics only a
  // checkpoint holds (standardize without --weights).
  std::vector<AotInputNormalization> normalization;
  std::vector<std::string> normalizationUnknown;
  int64_t initialStep = 0;
  std::optional<double> defaultLearningRate;
};

// The header's text.
std::string writeAotHeader(const AotModel& model, const AotHeaderInfo& info);

// Whether `name` can be a C identifier prefix (letters, digits, '_', not starting with a digit).
bool isCIdentifier(const std::string& name);

}  // namespace nnc
