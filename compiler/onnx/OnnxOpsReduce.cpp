// The Reduce* family over nnc's sum, mean and max (min, L1, L2, log-sum-exp as composites),
// and ArgMax/ArgMin.
#include <algorithm>

#include "compiler/ir/TypedAttrs.h"
#include "compiler/onnx/OnnxContext.h"

namespace nnc::onnximport {
namespace {

enum class Pre { None, Neg, Abs, Square, Exp };
enum class Post { None, Neg, Sqrt, Log };

OpMapper reduce(OpKind k, Pre pre, Post post) {
  return [=](ImportContext& ctx) -> Result<void> {
    TRY_NODE(x, ctx.in(0));
    int64_t rank = static_cast<int64_t>(ctx.rank(x));
    std::vector<int64_t> axes;
    if (ctx.hasInput(1)) {
      auto a = ctx.ints(1, "axes");
      if (!a) return a.error();
      axes = *a;
    } else if (auto a = ctx.attrInts("axes")) {
      axes = *a;
    }
    if (axes.empty()) {
      if (ctx.attrInt("noop_with_empty_axes", 0)) {
        ctx.setOutput(0, x, ctx.elemType(0));
        return {};
      }
      for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
    }
    for (int64_t& a : axes) {
      if (a < 0) a += rank;
      if (a < 0 || a >= rank) return ctx.error("axis out of range");
    }
    std::sort(axes.begin(), axes.end());
    axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
    NodeId v = x;
    static const OpKind preOp[] = {OpKind::Neg, OpKind::Neg, OpKind::Abs, OpKind::Square, OpKind::Exp};
    if (pre != Pre::None) {
      TRY_NODE(p, ctx.op(preOp[int(pre)], {v}));
      v = p;
    }
    TRY_NODE(r, ctx.op(k, {v}, AxesAttr{axes, ctx.attrInt("keepdims", 1) != 0}.attrs()));
    NodeId out = r;
    static const OpKind postOp[] = {OpKind::Neg, OpKind::Neg, OpKind::Sqrt, OpKind::Log};
    if (post != Post::None) {
      TRY_NODE(p, ctx.op(postOp[int(post)], {out}));
      out = p;
    }
    ctx.setOutput(0, out, ctx.elemType(0));
    return {};
  };
}

// ReduceProd = sign * exp(sum(log|x|)): the sign from the parity of the negative count (a
// zero gives log 0 = -inf, and exp(-inf) = 0).
Result<void> mapReduceProd(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  if (ctx.g.type(x).dtype != DType::F32) return ctx.error("only float data is supported");
  int64_t rank = static_cast<int64_t>(ctx.rank(x));
  std::vector<int64_t> axes;
  if (ctx.hasInput(1)) {
    auto a = ctx.ints(1, "axes");
    if (!a) return a.error();
    axes = *a;
  } else if (auto a = ctx.attrInts("axes")) {
    axes = *a;
  }
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  for (int64_t& a : axes) {
    if (a < 0) a += rank;
    if (a < 0 || a >= rank) return ctx.error("axis out of range");
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  Attrs red = AxesAttr{axes, ctx.attrInt("keepdims", 1) != 0}.attrs();
  TRY_NODE(ab, ctx.op(OpKind::Abs, {x}));
  TRY_NODE(lg, ctx.op(OpKind::Log, {ab}));
  TRY_NODE(sl, ctx.op(OpKind::ReduceSum, {lg}, red));
  TRY_NODE(mag, ctx.op(OpKind::Exp, {sl}));
  TRY_NODE(neg, ctx.op(OpKind::Greater, {ctx.scalar(0), x}));
  TRY_NODE(count, ctx.op(OpKind::ReduceSum, {neg}, red));
  TRY_NODE(half, ctx.op(OpKind::Mul, {count, ctx.scalar(0.5)}));
  TRY_NODE(hi, ctx.op(OpKind::Cast, {half}, DTypeAttr{"i32"}.attrs()));
  TRY_NODE(hf, ctx.op(OpKind::Cast, {hi}, DTypeAttr{"f32"}.attrs()));
  TRY_NODE(odd, ctx.op(OpKind::Sub, {half, hf}));        // 0.5 when the count is odd
  TRY_NODE(twice, ctx.op(OpKind::Mul, {odd, ctx.scalar(-4)}));
  TRY_NODE(sign, ctx.op(OpKind::Add, {twice, ctx.scalar(1)}));  // 1 or -1
  TRY_NODE(r, ctx.op(OpKind::Mul, {mag, sign}));
  ctx.setOutput(0, r, ctx.elemType(0));
  return {};
}

OpMapper argExtreme(bool min) {
  return [=](ImportContext& ctx) -> Result<void> {
    TRY_NODE(x, ctx.in(0));
    int64_t rank = static_cast<int64_t>(ctx.rank(x));
    int64_t axis = ctx.attrInt("axis", 0);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) return ctx.error("axis out of range");
    NodeId v = x;
    if (min) {
      TRY_NODE(n, ctx.op(OpKind::Neg, {x}));
      v = n;
    }
    bool last = ctx.attrInt("select_last_index", 0) != 0;
    if (last) {
      // The first extreme of the reversed axis is the last one: index n - 1 - i.
      TRY_NODE(rev, reverseAxis(ctx, v, axis));
      v = rev;
    }
    TRY_NODE(r, ctx.op(OpKind::ArgMax, {v}, AxisAttr{axis}.attrs()));
    NodeId out = r;
    if (last) {
      TRY_NODE(top, ctx.materialize(ConstTensor{7, {}, {double(ctx.shape(x)[size_t(axis)] - 1)}}));
      TRY_NODE(flip, ctx.op(OpKind::Sub, {top, r}));
      out = flip;
    }
    if (ctx.attrInt("keepdims", 1)) {
      std::vector<int64_t> dims = ctx.shape(x).dims;
      dims[size_t(axis)] = 1;
      TRY_NODE(k, ctx.reshape(out, dims));
      out = k;
    }
    ctx.setOutput(0, out, 7);
    return {};
  };
}

}  // namespace

void addReduceOps(OpTable& t) {
  t["ReduceSum"] = reduce(OpKind::ReduceSum, Pre::None, Post::None);
  t["ReduceMean"] = reduce(OpKind::ReduceMean, Pre::None, Post::None);
  t["ReduceMax"] = reduce(OpKind::ReduceMax, Pre::None, Post::None);
  t["ReduceMin"] = reduce(OpKind::ReduceMax, Pre::Neg, Post::Neg);
  t["ReduceL1"] = reduce(OpKind::ReduceSum, Pre::Abs, Post::None);
  t["ReduceL2"] = reduce(OpKind::ReduceSum, Pre::Square, Post::Sqrt);
  t["ReduceSumSquare"] = reduce(OpKind::ReduceSum, Pre::Square, Post::None);
  t["ReduceLogSum"] = reduce(OpKind::ReduceSum, Pre::None, Post::Log);
  t["ReduceLogSumExp"] = reduce(OpKind::ReduceSum, Pre::Exp, Post::Log);
  t["ReduceProd"] = mapReduceProd;
  t["ArgMax"] = argExtreme(false);
  t["ArgMin"] = argExtreme(true);
}

}  // namespace nnc::onnximport
