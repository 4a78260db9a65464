#include "compiler/session/DataFeed.h"

#include <algorithm>

#include "compiler/ir/EmbeddingIds.h"
#include "compiler/session/ModelPlan.h"
#include "runtime/data/Binding.h"
#include "runtime/support/Interrupt.h"

namespace nnc {

namespace {

// Embedding ids read straight from an input (issue 13) must lie in the vocabulary: checked
// once when the data is loaded, so the error names the sample in the data. (Compiled steps
// check every batch again, for callers that bypass this loader.)
Result<void> checkEmbeddingIdsInData(const Model& model, const ModelData& d) {
  const Graph& g = model.graph;
  for (size_t i = 0; i < g.size(); ++i) {
    const Node& n = g.nodes()[i];
    if (n.op != OpKind::Embedding) continue;
    NodeId ids = n.inputs[1];
    while (g.node(ids).op == OpKind::Reshape) ids = g.node(ids).inputs[0];
    if (g.node(ids).op != OpKind::Input) continue;
    auto at = std::find(d.names.begin(), d.names.end(), g.node(ids).name);
    if (at == d.names.end()) continue;
    const data::Array& a = d.arrays[size_t(at - d.names.begin())];
    if (a.shape().empty() || a.dtype() != data::DType::I32) continue;
    auto values = a.i32();
    const int64_t vocab = g.type(n.inputs[0]).shape[0];
    auto bad = findBadEmbeddingId(int64_t(values.size()), vocab, [&](int64_t k) { return values[size_t(k)]; });
    if (bad)
      return makeError(d.description + ": " +
                       embeddingIdMessage("input '" + g.node(ids).name + "'", a.shape(), *bad, vocab, embeddingLayerName(g, n)));
  }
  return {};
}

}  // namespace

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
  NNC_TRY(checkEmbeddingIdsInData(model, out));
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
