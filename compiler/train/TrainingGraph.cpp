#include "compiler/train/TrainingGraph.h"

#include "compiler/autodiff/Differentiate.h"
#include "compiler/autodiff/IRBuilder.h"
#include "compiler/ir/Verifier.h"
#include "compiler/passes/RoundProductOperands.h"
#include "compiler/train/EmbeddingGradBuffers.h"
#include "compiler/train/ModeLowering.h"

namespace nnc {

namespace {

Result<void> verified(const Graph& g, const char* what) {
  Result<void> ok = verifyGraph(g);
  if (!ok) return makeError(std::string("internal: the ") + what + " graph is malformed: " + ok.error().message, ok.error().loc);
  return {};
}

// The model's outputs and loss must name nodes of its graph (a front-end bug otherwise,
// reported rather than crashed on).
Result<void> checkModelRefs(const Model& model) {
  auto inGraph = [&](NodeId id) { return id >= 0 && static_cast<size_t>(id) < model.graph.size(); };
  for (const Output& o : model.graph.outputs)
    if (!inGraph(o.node)) return makeError("internal: output '" + o.name + "' of the model refers to no node");
  if (model.train && model.train->loss != kNoNode && !inGraph(model.train->loss))
    return makeError("internal: the model's loss refers to no node", model.train->loc);
  return {};
}

std::vector<NodeId> outputRoots(const Model& model) {
  std::vector<NodeId> roots;
  for (const Output& o : model.graph.outputs) roots.push_back(o.node);
  return roots;
}

void addOutputs(Graph& g, const Model& model, const std::vector<NodeId>& fromModel) {
  for (const Output& o : model.graph.outputs) g.outputs.push_back({o.name, fromModel[static_cast<size_t>(o.node)]});
}

// Plain SGD (no momentum) leaves a row whose gradient is zero as it is. So a table whose whole
// gradient is one embedding_grad, without weight decay, takes a sparse step: only the rows the
// batch's ids name are read and written (issue 13). Every other optimizer changes every row
// (its state decays), and takes the dense gradient.
bool takesSparseEmbeddingStep(const Graph& g, const TrainConfig& cfg, const ParamGradient& pg) {
  const SgdHyper* sgd = std::get_if<SgdHyper>(&cfg.optimizer.hyper);
  if (!sgd || sgd->momentum != 0) return false;
  if (cfg.weightDecay != 0 && weightDecayApplies(g.node(pg.param))) return false;
  return g.node(pg.grad).op == OpKind::EmbeddingGrad;
}

// bf16 mixed precision: rounds the products' operands of a finished graph (differentiated,
// so that the gradients' products are rounded too), and maps the ids its users hold.
Result<void> applyPrecision(const Model& model, Graph& g, std::vector<NodeId>& fromModel,
                            std::vector<NodeId*> ids = {}) {
  if (model.precision == ProductPrecision::F32) return {};
  Result<RoundedGraph> r = roundProductOperandsToBf16(g);
  if (!r) return r.error();
  auto remap = [&](NodeId id) { return id == kNoNode ? kNoNode : r->fromOld[static_cast<size_t>(id)]; };
  for (NodeId& id : fromModel) id = remap(id);
  for (NodeId* id : ids) *id = remap(*id);
  g = std::move(r->graph);
  return {};
}

}  // namespace

bool weightDecayApplies(const Node& param) {
  if (param.op != OpKind::Param) return false;
  const std::string& n = param.name;
  const std::string suffix = ".weight";
  if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
  bool layerParam = n.find('.') != std::string::npos;
  return !layerParam && param.type.shape.rank() >= 2;
}

Result<TrainingGraph> buildGradientGraph(const Model& model, bool shardedBatch) {
  if (!model.train) return makeError("the model has no train block");
  const TrainConfig& cfg = *model.train;
  if (cfg.loss == kNoNode) return makeError("the train block has no loss", cfg.loc);
  NNC_TRY(checkModelRefs(model));

  std::vector<NodeId> roots = outputRoots(model);
  roots.push_back(cfg.loss);
  Result<ModeLoweredGraph> lowered = lowerModes(model, GraphMode::Training, roots, shardedBatch);
  if (!lowered) return lowered.error();

  TrainingGraph tg;
  tg.graph = std::move(lowered->graph);
  tg.fromModel = std::move(lowered->fromModel);
  tg.lr = lowered->lr;
  tg.step = lowered->step;
  Graph& g = tg.graph;
  g.loss = tg.fromModel[static_cast<size_t>(cfg.loss)];
  g.outputs.push_back({"loss", g.loss});
  addOutputs(g, model, tg.fromModel);

  std::vector<NodeId> params = g.leaves(OpKind::Param);
  Result<Gradients> grads = differentiate(g, g.loss, params);
  if (!grads) return grads.error();
  for (size_t i = 0; i < params.size(); ++i) {
    bool unreached = false;
    for (NodeId u : grads->unreached) unreached = unreached || u == params[i];
    if (unreached)
      tg.unreachedParams.push_back(g.node(params[i]).name);
    else
      tg.gradients.push_back({params[i], grads->grads[i]});
  }
  std::vector<NodeId*> ids{&tg.lr, &tg.step};
  for (ParamGradient& pg : tg.gradients) {
    ids.push_back(&pg.param);
    ids.push_back(&pg.grad);
  }
  NNC_TRY(applyPrecision(model, g, tg.fromModel, ids));
  NNC_TRY(verified(g, "gradient"));
  return tg;
}

Result<TrainingGraph> buildTrainingStep(const Model& model, bool embeddingGradBuffers) {
  Result<TrainingGraph> tg = buildGradientGraph(model);
  if (!tg) return tg;
  Graph& g = tg->graph;
  const TrainConfig& cfg = *model.train;

  std::vector<ParamGradient> decayed;
  for (const ParamGradient& pg : tg->gradients) {
    if (!takesSparseEmbeddingStep(g, cfg, pg)) {
      decayed.push_back(pg);
      continue;
    }
    const Node grad = g.node(pg.grad);
    IRBuilder b(g, grad.loc);
    NodeId step = b.op(OpKind::EmbeddingSgdUpdate, {pg.param, grad.inputs[0], grad.inputs[1], tg->lr});
    if (b.failed()) return *b.error();
    g.updates.push_back({pg.param, step});
  }
  std::vector<EmbeddingGradBuffer> buffers;
  if (embeddingGradBuffers) {
    Result<std::vector<EmbeddingGradBuffer>> added = accumulateEmbeddingGradients(g, decayed);
    if (!added) return added.error();
    buffers = std::move(*added);
  }
  if (cfg.weightDecay != 0) {
    IRBuilder b(g);
    for (ParamGradient& pg : decayed)
      if (weightDecayApplies(g.node(pg.param))) pg.grad = b.add(pg.grad, b.mul(pg.param, cfg.weightDecay));
    if (b.failed()) return *b.error();
  }
  NNC_TRY(emitOptimizerUpdates(g, cfg.optimizer, decayed, tg->lr, tg->step));
  NNC_TRY(clearEmbeddingGradBuffers(g, buffers));
  NNC_TRY(verified(g, "training"));
  return tg;
}

Result<Graph> buildTrainingGraph(const Model& model, bool embeddingGradBuffers) {
  Result<TrainingGraph> tg = buildTrainingStep(model, embeddingGradBuffers);
  if (!tg) return tg.error();
  return std::move(tg->graph);
}

Result<InferenceGraph> buildInferenceStep(const Model& model, bool withLoss) {
  NNC_TRY(checkModelRefs(model));
  bool loss = withLoss && model.train && model.train->loss != kNoNode;
  std::vector<NodeId> roots = outputRoots(model);
  if (loss) roots.push_back(model.train->loss);
  Result<ModeLoweredGraph> lowered = lowerModes(model, GraphMode::Inference, roots);
  if (!lowered) return lowered.error();
  Graph g = std::move(lowered->graph);
  if (loss) {
    g.loss = lowered->fromModel[static_cast<size_t>(model.train->loss)];
    g.outputs.push_back({"loss", g.loss});
  }
  addOutputs(g, model, lowered->fromModel);
  NNC_TRY(applyPrecision(model, g, lowered->fromModel));
  NNC_TRY(verified(g, "inference"));
  return InferenceGraph{std::move(g), std::move(lowered->fromModel)};
}

Result<Graph> buildInferenceGraph(const Model& model, bool withLoss) {
  Result<InferenceGraph> step = buildInferenceStep(model, withLoss);
  if (!step) return step.error();
  return std::move(step->graph);
}

}  // namespace nnc
