#include "dsl/sema/Registry.h"

namespace nnc::sema {

const Registry& Registry::instance() {
  static const Registry registry = [] {
    Registry r;
    addActivations(r);
    addMathOps(r);
    addReductions(r);
    addShapeOps(r);
    addPoolingOps(r);
    addLayers(r);
    addConvLayers(r);
    addEmbeddingLayer(r);
    addAugmentations(r);
    addRecurrentLayers(r);
    addOnnxLayer(r);
    addAttentionLayers(r);
    addLosses(r);
    addInitializers(r);
    addOptimizers(r);
    addTrainBlock(r);
    addTransposedConvLayers(r);
    addImageOps(r);
    return r;
  }();
  return registry;
}

void Registry::add(Callable c) {
  if (c.createsParams) c.params.push_back(spec::string("name", spec::unset()));
  callables_.push_back(std::move(c));
}

const Callable* Registry::find(Family family, std::string_view name) const {
  for (const Callable& c : callables_)
    if (c.family == family && c.name == name) return &c;
  return nullptr;
}

const Callable* Registry::findElsewhere(Family notThis, std::string_view name) const {
  for (const Callable& c : callables_)
    if (c.family != notThis && c.family != Family::TrainBlock && c.name == name) return &c;
  return nullptr;
}

std::vector<std::string> Registry::names(Family family) const {
  std::vector<std::string> out;
  for (const Callable& c : callables_)
    if (c.family == family) out.push_back(c.name);
  return out;
}

}  // namespace nnc::sema
