#include "compiler/session/DataFeed.h"

#include <algorithm>

#include "compiler/session/ModelPlan.h"
#include "runtime/data/Binding.h"
#include "runtime/support/Interrupt.h"

namespace nnc {

Result<ModelData> loadModelData(const Model& model, const std::string& source, data::Split defaultSplit,
                                const std::vector<std::string>& needed) {
  interrupt::testPoint("load");
  std::vector<data::InputSpec> all = inputSpecsFor(model), specs;
  for (const auto& s : all)
    if (needed.empty() || std::find(needed.begin(), needed.end(), s.name) != needed.end()) specs.push_back(s);
  // `needed` comes from prediction: those inputs are features, and a csv needs no label.
  Result<data::Dataset> ds = data::loadData(source, defaultSplit, specs, !needed.empty());
  if (!ds) return ds.error();
  ModelData out;
  out.description = ds->description;
  data::BindOptions opts;
  opts.ignoreUnusedArrays = !needed.empty();
  Result<std::vector<data::Array>> bound = data::bindInputs(std::move(*ds), specs, opts);
  if (!bound) return bound.error();
  for (const auto& s : all) {
    out.names.push_back(s.name);
    auto it = std::find_if(specs.begin(), specs.end(), [&](const data::InputSpec& x) { return x.name == s.name; });
    out.arrays.push_back(it == specs.end() ? data::Array() : std::move((*bound)[size_t(it - specs.begin())]));
  }
  for (const auto& a : out.arrays) out.samples = std::max(out.samples, a.numSamples());
  training::TrainingPlan plan = trainingPlanFor(model);
  if (plan.numClasses > 0 && plan.labelInput >= 0 && !out.arrays[size_t(plan.labelInput)].shape().empty())
    NNC_TRY(data::checkLabels(out.arrays[size_t(plan.labelInput)], plan.numClasses, out.description));
  return out;
}

std::vector<const void*> rowPointers(const ModelData& d, int64_t first) {
  std::vector<const void*> p;
  for (const auto& a : d.arrays)
    p.push_back(a.shape().empty() ? nullptr
                                  : static_cast<const char*>(a.data()) + size_t(first) * size_t(a.sampleNumel()) * 4);
  return p;
}

void normalizeModelData(ModelData& d, const std::vector<training::InputNormalization>& norms) {
  training::applyNormalization(norms, d.names, d.arrays);
}

}  // namespace nnc
