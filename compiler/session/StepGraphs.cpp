#include "compiler/session/StepGraphs.h"

#include "compiler/train/TrainingGraph.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc {

namespace {

// Adds the "prediction" output for the loss's logits (a model node, mapped into `g`).
Result<NodeId> addPrediction(Graph& g, const Model& model, const std::vector<NodeId>& fromModel) {
  if (!model.train || model.train->accuracy == AccuracyKind::None) return kNoNode;
  NodeId logits = model.train->accuracyLogits;
  if (logits == kNoNode || size_t(logits) >= fromModel.size() || fromModel[size_t(logits)] == kNoNode) return kNoNode;
  NodeId x = fromModel[size_t(logits)];
  Result<NodeId> p = model.train->accuracy == AccuracyKind::Categorical
                         ? g.add(OpKind::ArgMax, {x}, AxisAttr{int64_t(-1)}.attrs(), {}, "prediction")
                         : g.add(OpKind::Greater, {x, g.addScalar(0)}, {}, {}, "prediction");
  if (!p) return p.error();
  g.outputs.push_back({"prediction", *p});
  return *p;
}

}  // namespace

Result<NodeId> addPredictionOutput(Graph& g, const Model& model, const std::vector<NodeId>& fromModel) {
  return addPrediction(g, model, fromModel);
}

Result<StepGraphs> buildStepGraphs(const Model& model) {
  StepGraphs out;
  bool hasLoss = model.train && model.train->loss != kNoNode;
  if (hasLoss) {
    Result<TrainingGraph> t = buildTrainingStep(model);
    if (!t) return t.error();
    StepGraph s{std::move(t->graph), kNoNode, kNoNode};
    s.loss = s.graph.loss;
    Result<NodeId> p = addPrediction(s.graph, model, t->fromModel);
    if (!p) return p.error();
    s.prediction = *p;
    out.train = std::move(s);

    Result<InferenceGraph> e = buildInferenceStep(model, true);
    if (!e) return e.error();
    StepGraph ev{std::move(e->graph), kNoNode, kNoNode};
    ev.loss = ev.graph.loss;
    Result<NodeId> ep = addPrediction(ev.graph, model, e->fromModel);
    if (!ep) return ep.error();
    ev.prediction = *ep;
    out.eval = std::move(ev);
  }
  Result<Graph> p = buildInferenceGraph(model, false);
  if (!p) return p.error();
  out.predict.graph = std::move(*p);
  return out;
}

}  // namespace nnc
