// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss as composites: the target's one-hot
// rows pick the log-probabilities (and the class weights). A target outside [0, C) gives an
// all-zero row, so such a sample (ignore_index = -1, say) weighs nothing, as ONNX wants.
#include "compiler/ir/TypedAttrs.h"
#include "compiler/onnx/OnnxContext.h"

namespace nnc::onnximport {
namespace {

std::vector<int64_t> iota(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t i = from; i < to; ++i) v.push_back(i);
  return v;
}

// The loss of log-probabilities `logp` [N, C, d...] for integer `target` [N, d...].
Result<NodeId> nllLoss(ImportContext& ctx, NodeId logp, NodeId target, std::optional<NodeId> weight) {
  Shape s = ctx.shape(logp);
  if (s.rank() < 2) return ctx.error("the input needs a class axis");
  if (ctx.g.type(target).dtype != DType::I32) return ctx.error("the target must be integers");
  int64_t classes = s[1];
  int64_t r = static_cast<int64_t>(s.rank());
  TRY_NODE(hot, ctx.op(OpKind::OneHot, {target}, DepthAttr{classes}.attrs()));  // [N, d..., C]
  std::vector<int64_t> perm = {0, r - 1};
  for (int64_t i = 1; i < r - 1; ++i) perm.push_back(i);
  TRY_NODE(hotT, ctx.transpose(hot, perm));  // [N, C, d...]
  Attrs overClasses = AxesAttr{{1}}.attrs();
  TRY_NODE(prod, ctx.op(OpKind::Mul, {logp, hotT}));
  TRY_NODE(picked, ctx.op(OpKind::ReduceSum, {prod}, overClasses));
  NodeId w = hotT;
  if (weight) {
    std::vector<int64_t> dims = {classes};
    dims.insert(dims.end(), size_t(r - 2), 1);
    TRY_NODE(wr, ctx.reshape(*weight, dims));
    TRY_NODE(ww, ctx.op(OpKind::Mul, {hotT, wr}));
    w = ww;
  }
  TRY_NODE(wsel0, ctx.op(OpKind::ReduceSum, {w}, overClasses));  // each sample's weight
  NodeId wsel = wsel0;
  if (const auto* a = ctx.attr("ignore_index")) {
    int64_t ignore = a->i();
    if (ignore >= 0 && ignore < classes) {
      TRY_NODE(ii, ctx.materialize(ConstTensor{7, {}, {double(ignore)}}));
      TRY_NODE(eq, ctx.op(OpKind::Equal, {target, ii}));
      TRY_NODE(keep, ctx.op(OpKind::Sub, {ctx.scalar(1), eq}));
      TRY_NODE(m, ctx.op(OpKind::Mul, {wsel, keep}));
      wsel = m;
    }
  }
  TRY_NODE(pw, ctx.op(OpKind::Mul, {picked, wsel}));
  TRY_NODE(loss, ctx.op(OpKind::Neg, {pw}));
  std::string reduction = ctx.attrString("reduction", "mean");
  if (reduction == "none") return loss;
  Attrs all = AxesAttr{iota(0, int64_t(ctx.rank(loss)))}.attrs();
  TRY_NODE(total, ctx.op(OpKind::ReduceSum, {loss}, all));
  if (reduction == "sum") return total;
  if (reduction != "mean") return ctx.error("reduction '" + reduction + "' is not one of none, sum, mean");
  TRY_NODE(wtotal, ctx.op(OpKind::ReduceSum, {wsel}, all));
  return ctx.op(OpKind::Div, {total, wtotal});
}

Result<void> mapNll(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  TRY_NODE(t, ctx.in(1));
  std::optional<NodeId> w;
  if (ctx.hasInput(2)) {
    TRY_NODE(wv, ctx.in(2));
    w = wv;
  }
  TRY_NODE(loss, nllLoss(ctx, x, t, w));
  ctx.setOutput(0, loss, ctx.elemType(0));
  return {};
}

Result<void> mapSoftmaxCrossEntropy(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  TRY_NODE(t, ctx.in(1));
  std::optional<NodeId> w;
  if (ctx.hasInput(2)) {
    TRY_NODE(wv, ctx.in(2));
    w = wv;
  }
  TRY_NODE(logp, ctx.op(OpKind::LogSoftmax, {x}, AxisAttr{int64_t(1)}.attrs()));
  TRY_NODE(loss, nllLoss(ctx, logp, t, w));
  ctx.setOutput(0, loss, ctx.elemType(0));
  ctx.setOutput(1, logp, ctx.elemType(0));
  return {};
}

}  // namespace

void addLossOps(OpTable& t) {
  t["NegativeLogLikelihoodLoss"] = mapNll;
  t["SoftmaxCrossEntropyLoss"] = mapSoftmaxCrossEntropy;
}

}  // namespace nnc::onnximport
