#include "compiler/train/SplitStep.h"

#include "compiler/autodiff/IRBuilder.h"
#include "compiler/ir/TypedAttrs.h"
#include "compiler/ir/Verifier.h"

namespace nnc {

namespace {

// A gradient A^T B summed over the batch's rows (A [batch, m], B [batch, n]) whose factors
// for `batch` rows take fewer floats than the gradient itself: worth gathering instead of
// reducing (docs/distributed.md, "Sufficient factors").
bool worthFactoring(const Graph& g, NodeId grad, int64_t batch) {
  const Node& n = g.node(grad);
  if (n.op != OpKind::MatMul || n.inputs.size() != 2) return false;
  const MatMulTransposeAttr t = MatMulTransposeAttr::of(n);
  if (!t.transA || t.transB) return false;
  const Shape& a = g.type(n.inputs[0]).shape;
  const Shape& b = g.type(n.inputs[1]).shape;
  if (a.rank() != 2 || b.rank() != 2 || !a.isBatched() || !b.isBatched() || g.type(grad).shape.isBatched()) return false;
  if (g.type(n.inputs[0]).dtype != DType::F32 || g.type(n.inputs[1]).dtype != DType::F32) return false;
  int64_t m = a[1], k = b[1];
  return m > 0 && k > 0 && batch > 0 && batch * (m + k) < m * k;
}

}  // namespace

Result<SplitTrainingStep> buildSplitTrainingStep(const Model& model, const SplitStepOptions& options) {
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
  const TrainConfig& cfg = *model.train;
  const int64_t batch = options.batch > 0 ? options.batch : cfg.batch;
  std::vector<ParamGradient> grads;
  for (const ParamGradient& pg : out.gradient.gradients) {
    const Node& param = g.node(pg.param);
    NodeId paramLeaf = up.addLeaf(OpKind::Param, param.name, param.type, param.attrs, param.loc);
    if (options.gradientFactors && worthFactoring(g, pg.grad, batch)) {
      // The gradient graph hands out the product's operands; the update graph multiplies
      // every process's rows of them, with the same op.
      const Node product = g.node(pg.grad);
      GradientFactors f{param.name, param.name + kFactorSuffixA, param.name + kFactorSuffixB,
                        g.type(product.inputs[0]).shape[1], g.type(product.inputs[1]).shape[1]};
      g.outputs.push_back({f.a, product.inputs[0]});
      g.outputs.push_back({f.b, product.inputs[1]});
      NodeId a = up.addLeaf(OpKind::Input, f.a, g.type(product.inputs[0]));
      NodeId b = up.addLeaf(OpKind::Input, f.b, g.type(product.inputs[1]));
      IRBuilder builder(up, product.loc);
      NodeId grad = builder.op(OpKind::MatMul, {a, b}, product.attrs);
      if (builder.failed()) return *builder.error();
      grads.push_back({paramLeaf, grad});
      out.factors.push_back(std::move(f));
      continue;
    }
    std::string gradName = param.name + kGradientSuffix;
    NodeId slot = g.addLeaf(OpKind::State, gradName, param.type);
    g.updates.push_back({slot, pg.grad});
    out.gradientStates.push_back(gradName);
    grads.push_back({paramLeaf, up.addLeaf(OpKind::State, gradName, param.type)});
  }
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
