// ai.onnx.preview.training's Gradient: the gradient of the value named by `y` with respect to
// each value named in `xs`, answered by nnc's reverse-mode autodiff (compiler/autodiff) on the
// graph imported so far. A non-scalar y is summed first (ONNX seeds every element with 1).
#include "compiler/autodiff/Differentiate.h"
#include "compiler/ir/TypedAttrs.h"
#include "compiler/onnx/OnnxContext.h"

namespace nnc::onnximport {
namespace {

Result<NodeId> onnxGradientNodeOf(ImportContext& ctx, const std::string& name, const std::string& role) {
  auto it = ctx.values.find(name);
  if (it == ctx.values.end()) return ctx.error(role + " '" + name + "' is not defined before the node");
  if (it->second.node == kNoNode)
    return ctx.error(role + " '" + name + "' is known when the model is imported; its gradient is not defined here");
  if (ctx.g.type(it->second.node).dtype != DType::F32) return ctx.error(role + " '" + name + "' is not a float tensor");
  return it->second.node;
}

Result<void> mapOnnxGradient(ImportContext& ctx) {
  const auto* xs = ctx.attr("xs");
  if (!xs || xs->strings_size() == 0) return ctx.error("attribute xs (the values to differentiate by) is missing");
  const std::string yName = ctx.attrString("y", "");
  if (yName.empty()) return ctx.error("attribute y (the value to differentiate) is missing");
  if (ctx.attr("zs")) return ctx.error("attribute zs is not supported");
  if (static_cast<int>(ctx.numOutputs()) != xs->strings_size())
    return ctx.error("it has " + std::to_string(ctx.numOutputs()) + " outputs for " + std::to_string(xs->strings_size()) +
                     " values in xs");
  TRY_NODE(y, onnxGradientNodeOf(ctx, yName, "y"));
  NodeId loss = y;
  if (ctx.rank(y) > 0) {
    std::vector<int64_t> axes;
    for (size_t i = 0; i < ctx.rank(y); ++i) axes.push_back(static_cast<int64_t>(i));
    TRY_NODE(sum, ctx.op(OpKind::ReduceSum, {y}, AxesAttr{axes, false}.attrs()));
    loss = sum;
  }
  std::vector<NodeId> wrt;
  for (const auto& name : xs->strings()) {
    TRY_NODE(x, onnxGradientNodeOf(ctx, name, "xs"));
    wrt.push_back(x);
  }
  auto grads = differentiate(ctx.g, loss, wrt);
  if (!grads) return ctx.error(grads.error().message);
  for (size_t i = 0; i < wrt.size(); ++i) ctx.setOutput(i, grads->grads[i]);
  return {};
}

}  // namespace

void addGradientOps(OpTable& t) { t["Gradient"] = mapOnnxGradient; }

}  // namespace nnc::onnximport
