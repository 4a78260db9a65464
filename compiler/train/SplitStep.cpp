#include "compiler/train/SplitStep.h"

#include "compiler/autodiff/IRBuilder.h"
#include "compiler/ir/Verifier.h"

namespace nnc {

Result<SplitTrainingStep> buildSplitTrainingStep(const Model& model) {
  Result<TrainingGraph> tg = buildGradientGraph(model, /*shardedBatch=*/true);
  if (!tg) return tg.error();
  SplitTrainingStep out;
  out.gradient = std::move(*tg);
  Graph& g = out.gradient.graph;
  for (const Update& u : g.updates) out.statistics.push_back(g.node(u.target).name);

  Graph& up = out.update;
  up.name = g.name + "_update";
  TensorType scalar{DType::F32, Shape{}};
  NodeId lr = up.addLeaf(OpKind::Hyper, kLearningRateName, scalar);
  NodeId step = up.addLeaf(OpKind::Hyper, kStepName, scalar);
  std::vector<ParamGradient> grads;
  for (const ParamGradient& pg : out.gradient.gradients) {
    const Node& param = g.node(pg.param);
    std::string gradName = param.name + kGradientSuffix;
    NodeId slot = g.addLeaf(OpKind::State, gradName, param.type);
    g.updates.push_back({slot, pg.grad});
    out.gradientStates.push_back(gradName);
    grads.push_back({up.addLeaf(OpKind::Param, param.name, param.type, param.attrs, param.loc),
                     up.addLeaf(OpKind::State, gradName, param.type)});
  }
  const TrainConfig& cfg = *model.train;
  if (cfg.weightDecay != 0) {
    IRBuilder b(up);
    for (ParamGradient& pg : grads)
      if (weightDecayApplies(up.node(pg.param))) pg.grad = b.add(pg.grad, b.mul(pg.param, cfg.weightDecay));
    if (b.failed()) return *b.error();
  }
  NNC_TRY(emitOptimizerUpdates(up, cfg.optimizer, grads, lr, step));
  for (const Graph* graph : {&g, &up})
    if (auto ok = verifyGraph(*graph); !ok)
      return makeError("internal: the split training step is malformed: " + ok.error().message);
  return out;
}

}  // namespace nnc
