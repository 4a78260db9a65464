#pragma once
// Loads a data source for a model: binds its arrays to the model's inputs (those `needed`,
// all by default), checks labels against the classes, and applies normalisation.
#include <string>
#include <vector>

#include "compiler/ir/Model.h"
#include "runtime/data/DataSource.h"
#include "runtime/training/Normalizer.h"

namespace nnc {

struct ModelData {
  std::vector<std::string> names;     // the model's inputs, in declaration order
  std::vector<data::Array> arrays;    // aligned with names; empty arrays for inputs not needed
  int64_t samples = 0;
  std::string description;
};

// `needed` lists input names to bind (empty: every input).
Result<ModelData> loadModelData(const Model& model, const std::string& source, data::Split defaultSplit,
                                const std::vector<std::string>& needed = {});

// Pointers to the rows [first, ...) of every array (null for arrays not loaded).
std::vector<const void*> rowPointers(const ModelData& d, int64_t first);

void normalizeModelData(ModelData& d, const std::vector<training::InputNormalization>& norms);

}  // namespace nnc
