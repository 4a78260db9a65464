#include "compiler/session/InterpreterExecutor.h"

#include "compiler/interp/Interpreter.h"
#include "compiler/session/ModelPlan.h"
#include "compiler/session/Scoring.h"
#include "compiler/train/TrainingGraph.h"

namespace nnc {

Result<std::unique_ptr<InterpreterExecutor>> InterpreterExecutor::create(const Model& model, uint64_t seed) {
  std::unique_ptr<InterpreterExecutor> e(new InterpreterExecutor());
  Result<StepGraphs> graphs = buildStepGraphs(model);
  if (!graphs) return graphs.error();
  e->graphs_ = std::move(*graphs);
  Result<StateStore> state = StateStore::create(e->graphs_, seed);
  if (!state) return state.error();
  e->state_ = std::move(*state);
  e->inputs_ = inputTensorSpecsFor(model);
  e->labelInput_ = trainingPlanFor(model).labelInput;
  for (const auto& [name, rate] : dropoutRates(model)) e->dropoutRates_[name] = rate;
  const Graph& p = e->graphs_.predict.graph;
  if (!p.outputs.empty()) {
    const TensorType& t = p.type(p.outputs[0].node);
    std::vector<int64_t> sample = t.shape.dims;
    if (t.shape.isBatched()) sample.erase(sample.begin());
    e->firstOutput_ = {p.outputs[0].name, t.dtype == DType::I32 ? data::DType::I32 : data::DType::F32, sample};
  }
  return e;
}

Result<LeafValues> InterpreterExecutor::bind(const Graph& g, std::span<const void* const> inputs, int64_t batch,
                                             float lr, float step) {
  LeafValues leaves;
  for (size_t id = 0; id < g.size(); ++id) {
    const Node& n = g.nodes()[id];
    // The leaves the caller provides; the interpreter evaluates every other node (constants
    // included) itself.
    if (n.op == OpKind::Input) {
      size_t k = 0;
      while (k < inputs_.size() && inputs_[k].name != n.name) ++k;
      if (k >= inputs_.size()) return makeError("no data for input '" + n.name + "'");
      // Inputs given no data (labels, when predicting) are left out: the interpreter
      // reports them only if the values asked for need them.
      if (k >= inputs.size() || !inputs[k]) continue;
      std::vector<int64_t> shape = n.type.shape.dims;
      if (n.type.shape.isBatched()) shape[0] = batch;
      Tensor t(n.type.dtype, shape);
      if (n.type.dtype == DType::I32) {
        const int32_t* src = static_cast<const int32_t*>(inputs[k]);
        for (int64_t i = 0; i < t.size(); ++i) t.data[size_t(i)] = src[i];
      } else {
        const float* src = static_cast<const float*>(inputs[k]);
        for (int64_t i = 0; i < t.size(); ++i) t.data[size_t(i)] = src[i];
      }
      leaves.emplace(NodeId(id), std::move(t));
    } else if (n.op == OpKind::Param || n.op == OpKind::State) {
      std::span<float> v = state_.values(n.name);
      leaves.emplace(NodeId(id), Tensor(n.type.dtype, n.type.shape.dims, std::vector<double>(v.begin(), v.end())));
    } else if (n.op == OpKind::Hyper) {
      leaves.emplace(NodeId(id), Tensor::scalar(n.name == kLearningRateName ? lr
                                                : n.name == kStepName  ? step
                                                                       : dropoutRates_[n.name]));
    }
  }
  return leaves;
}

training::BatchResult InterpreterExecutor::score(double loss, const Tensor* prediction,
                                                 std::span<const void* const> inputs, int64_t batch,
                                                 bool wantPredicted) const {
  // The interpreter holds values as doubles: narrow the prediction to what compiled code
  // produces, then score it the one shared way.
  std::vector<int32_t> ints;
  std::vector<float> floats;
  PredictionView view;
  if (prediction) {
    view.count = prediction->size();
    view.isInteger = prediction->dtype == DType::I32;
    if (view.isInteger) {
      ints.assign(prediction->data.begin(), prediction->data.end());
      view.data = ints.data();
    } else {
      floats.assign(prediction->data.begin(), prediction->data.end());
      view.data = floats.data();
    }
  }
  return scoreBatch(loss, view, inputs_, labelInput_, inputs, batch, wantPredicted);
}

Result<training::BatchResult> InterpreterExecutor::trainStep(std::span<const void* const> inputs, int64_t batch,
                                                             float lr, float step) {
  if (!graphs_.train) return makeError("the model has no train block with a loss, so it cannot be trained");
  const StepGraph& s = *graphs_.train;
  Result<LeafValues> leaves = bind(s.graph, inputs, batch, lr, step);
  if (!leaves) return leaves.error();
  std::vector<NodeId> wanted = {s.loss};
  if (s.prediction != kNoNode) wanted.push_back(s.prediction);
  for (const Update& u : s.graph.updates) wanted.push_back(u.value);
  Result<std::vector<Tensor>> values = interpret(s.graph, *leaves, wanted, Precision::F32);
  if (!values) return values.error();
  size_t first = s.prediction != kNoNode ? 2 : 1;
  for (size_t i = 0; i < s.graph.updates.size(); ++i) {
    std::span<float> dst = state_.values(s.graph.node(s.graph.updates[i].target).name);
    const Tensor& src = (*values)[first + i];
    for (size_t k = 0; k < dst.size() && k < src.data.size(); ++k) dst[k] = float(src.data[k]);
  }
  return score((*values)[0].data[0], s.prediction != kNoNode ? &(*values)[1] : nullptr, inputs, batch, false);
}

Result<training::BatchResult> InterpreterExecutor::evaluate(std::span<const void* const> inputs, int64_t batch,
                                                            bool wantPredicted) {
  if (!graphs_.eval) return makeError("the model has no loss to evaluate (add a train block with a loss)");
  const StepGraph& s = *graphs_.eval;
  Result<LeafValues> leaves = bind(s.graph, inputs, batch, 0, 0);
  if (!leaves) return leaves.error();
  std::vector<NodeId> wanted = {s.loss};
  if (s.prediction != kNoNode) wanted.push_back(s.prediction);
  Result<std::vector<Tensor>> values = interpret(s.graph, *leaves, wanted, Precision::F32);
  if (!values) return values.error();
  return score((*values)[0].data[0], s.prediction != kNoNode ? &(*values)[1] : nullptr, inputs, batch, wantPredicted);
}

Result<void> InterpreterExecutor::predict(std::span<const void* const> inputs, int64_t batch, std::span<float> out) {
  const Graph& g = graphs_.predict.graph;
  if (g.outputs.empty()) return makeError("the model declares no output, so there is nothing to predict");
  Result<LeafValues> leaves = bind(g, inputs, batch, 0, 0);
  if (!leaves) return leaves.error();
  Result<std::vector<Tensor>> values = interpret(g, *leaves, {g.outputs[0].node}, Precision::F32);
  if (!values) return values.error();
  const Tensor& t = (*values)[0];
  if (out.size() < t.data.size()) return makeError("internal: the prediction buffer is too small");
  for (size_t i = 0; i < t.data.size(); ++i) out[i] = float(t.data[i]);
  return {};
}

}  // namespace nnc
