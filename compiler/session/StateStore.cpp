#include "compiler/session/StateStore.h"

#include "compiler/train/EmbeddingGradBuffers.h"
#include "compiler/train/Initializers.h"

namespace nnc {

namespace {
void collect(const Graph& g, OpKind kind, uint64_t seed, std::vector<training::TensorSpec>& specs,
             std::map<std::string, std::vector<float>>& values, Error& error, bool& failed) {
  for (NodeId id : g.leaves(kind)) {
    const Node& n = g.node(id);
    if (values.count(n.name)) continue;
    Result<Tensor> init = initialValue(n, seed);
    if (!init) {
      if (!failed) error = init.error(), failed = true;
      continue;
    }
    std::vector<float> v(init->data.begin(), init->data.end());
    values.emplace(n.name, std::move(v));
    if (isEmbeddingGradBuffer(n.name)) continue;  // scratch, zero between steps: not checkpointed
    specs.push_back({n.name, data::DType::F32, n.type.shape.dims, kind == OpKind::Param});
  }
}
}  // namespace

Result<StateStore> StateStore::create(const StepGraphs& graphs, uint64_t seed) {
  StateStore s;
  Error error;
  bool failed = false;
  std::vector<const Graph*> all;
  if (graphs.train) all.push_back(&graphs.train->graph);
  if (graphs.eval) all.push_back(&graphs.eval->graph);
  all.push_back(&graphs.predict.graph);
  for (OpKind kind : {OpKind::Param, OpKind::State})
    for (const Graph* g : all) collect(*g, kind, seed, s.specs_, s.values_, error, failed);
  if (failed) return error;
  return s;
}

std::span<float> StateStore::values(const std::string& name) {
  auto it = values_.find(name);
  return it == values_.end() ? std::span<float>() : std::span<float>(it->second);
}

}  // namespace nnc
