// Constant folding.
//
// Training graphs compute a good deal from constants alone: the optimizer's `1 - beta1`, the
// reciprocal of a mean's element count, `ones` broadcast to a shape and then negated or
// scaled, masks of constant zeros. Folding them at compile time removes kernels and exposes
// more algebraic simplification (`x * (1 - 0)` becomes `x * 1`, then `x`).
//
// Three ways a node becomes a Constant:
//  - element_count whose counted axes are all static: the product of the dimensions, known
//    from the operand's type alone (mean gradients use it on activations);
//  - every operand a fill (one value repeated): elementwise and broadcasting ops are
//    evaluated once on the scalar values, data movement keeps the value, and reductions
//    follow from the count. Fills of any size fold this way, as the result is one number;
//  - every operand a small Constant: the reference interpreter evaluates the op, and the
//    result is kept when it has at most `maxFoldedElements` elements.
// Evaluation is in f32 by default (PassOptions::foldPrecision): the value compiled code
// would have computed. Batched results are never folded (their size is a run-time value),
// nor the mode-dependent dropout and batchnorm. An op the interpreter refuses stays as is.
#include "compiler/passes/ConstantFolding.h"

#include <cmath>
#include <optional>

#include "compiler/interp/Interpreter.h"
#include "compiler/ir/ShapeRules.h"
#include "compiler/ir/TypedAttrs.h"
#include "compiler/passes/ConstantValues.h"
#include "compiler/passes/GraphRewriter.h"

namespace nnc {

namespace {

double roundTo(double v, DType t, Precision p) {
  return (t == DType::F32 && p == Precision::F32) ? static_cast<double>(static_cast<float>(v)) : v;
}

// Elements a reduction combines into each output element; nothing when an axis is batch.
// Also nothing for an empty axis list: the shape rules read it as "no axes" but the
// interpreter as "every axis", so such a node is left for them to agree on.
std::optional<int64_t> reducedCount(const Shape& s, const Attrs& attrs) {
  std::vector<int64_t> axes = AxesAttr::of(attrs).axes;
  if (axes.empty()) return std::nullopt;
  int64_t n = 1;
  for (int64_t ax : axes) {
    int64_t a = normalizeAxis(ax, s.rank());
    if (a < 0 || s[static_cast<size_t>(a)] == kBatch) return std::nullopt;
    n *= s[static_cast<size_t>(a)];
  }
  return n;
}

// About how many scalar operations the interpreter needs for `n`, so that folding stays
// cheap whatever the constants: linear in the sizes for most ops, M*N*K for matmul. Nothing
// for convolutions and pooling, whose constant-only forms do not occur in real models.
std::optional<int64_t> foldWork(const Node& n, const std::vector<const Node*>& operands) {
  int64_t sizes = n.type.shape.numElements();
  for (const Node* o : operands) sizes += o->type.shape.numElements();
  switch (opCategory(n.op)) {
    case OpCategory::Elementwise: case OpCategory::Broadcast: case OpCategory::Injective: case OpCategory::Reduction:
      return sizes;
    case OpCategory::Leaf: case OpCategory::OutFusable: case OpCategory::Opaque:
      break;
  }
  // Of the other categories only these ops are folded; any other is not, which is always safe.
  if (n.op == OpKind::MatMul) {
    const Shape& a = operands[0]->type.shape;
    int64_t k = a[a.rank() - (MatMulTransposeAttr::of(n).transA ? 2 : 1)];
    return sizes + n.type.shape.numElements() * k;
  }
  if (n.op == OpKind::Softmax || n.op == OpKind::LogSoftmax || n.op == OpKind::DropoutMask) return sizes;
  return std::nullopt;
}

class Folder {
 public:
  Folder(GraphRewriter& rw, const PassOptions& opts) : rw_(rw), opts_(opts) {}

  NodeId visit(NodeId id) {
    const Node& n = rw_.source().node(id);
    if (isLeaf(n.op) || n.op == OpKind::Dropout || n.op == OpKind::BatchNorm || n.op == OpKind::RandomFlip ||
        n.op == OpKind::RandomTranslation || n.type.shape.isBatched())
      return rw_.copy(id);
    std::optional<Attrs> folded = fold(id, n);
    return folded ? rw_.emitConstant(n.type, std::move(*folded)) : rw_.copy(id);
  }

 private:
  std::optional<Attrs> fold(NodeId id, const Node& n) {
    if (n.inputs.empty()) return std::nullopt;
    if (n.op == OpKind::ElementCount) {
      NodeId x = rw_.mapped(n.inputs[0]);
      if (x == kNoNode) return std::nullopt;
      std::optional<int64_t> count = reducedCount(rw_.newType(x).shape, n.attrs);
      if (!count) return std::nullopt;
      return fillAttrs(roundTo(static_cast<double>(*count), DType::F32, opts_.foldPrecision));
    }
    if (opCategory(n.op) == OpCategory::Reduction && n.op != OpKind::ArgMax && AxesAttr::of(n).axes.empty())
      return std::nullopt;  // see reducedCount
    std::vector<NodeId> ins = rw_.mappedInputs(id);
    std::vector<const Node*> operands;
    std::vector<TensorType> types;
    for (NodeId in : ins) {
      if (in == kNoNode || rw_.newNode(in).op != OpKind::Constant || rw_.newType(in).shape.isBatched())
        return std::nullopt;
      operands.push_back(&rw_.newNode(in));
      types.push_back(rw_.newType(in));
    }
    // Only well-typed nodes are evaluated: the shortcuts below rely on their shapes.
    Result<TensorType> t = inferType(n.op, types, n.attrs);
    if (!t || *t != n.type) return std::nullopt;
    if (std::optional<Attrs> a = foldFills(n, operands)) return a;
    return evaluate(n, operands);
  }

  // Every operand a fill: the result is a fill too for these ops, whatever the sizes.
  std::optional<Attrs> foldFills(const Node& n, const std::vector<const Node*>& operands) {
    std::vector<double> fills;
    for (const Node* o : operands) {
      std::optional<double> f = constantFill(*o);
      if (!f) return std::nullopt;
      fills.push_back(*f);
    }
    // The ops named here move or reduce their operand; an op not named (one_hot, argmax, ...)
    // is not folded this way, which is always safe.
    OpKind op = n.op;
    if (op == OpKind::BroadcastTo || op == OpKind::Reshape || op == OpKind::Transpose || op == OpKind::Slice)
      return fillAttrs(fills[0]);
    if (op == OpKind::Concat) {
      for (double f : fills)
        if (!(f == fills[0] && std::signbit(f) == std::signbit(fills[0]))) return std::nullopt;
      return fillAttrs(fills[0]);
    }
    if (op == OpKind::ReduceMean || op == OpKind::ReduceMax) {
      std::optional<int64_t> count = reducedCount(operands[0]->type.shape, n.attrs);
      if (!count || *count == 0) return std::nullopt;
      return fillAttrs(fills[0]);
    }
    if (op == OpKind::ReduceSum) {
      std::optional<int64_t> count = reducedCount(operands[0]->type.shape, n.attrs);
      if (!count) return std::nullopt;
      double sum = fills[0] * static_cast<double>(*count);
      if (n.type.dtype == DType::I32 && !(std::fabs(sum) < 2147483648.0)) return std::nullopt;
      return fillAttrs(roundTo(sum, n.type.dtype, opts_.foldPrecision));
    }
    if (!isElementwiseLike(n.op)) return std::nullopt;
    // Evaluate the op once on scalars holding the fill values.
    std::vector<Node> scalars;
    for (size_t i = 0; i < operands.size(); ++i)
      scalars.push_back(Node{OpKind::Constant, {}, fillAttrs(fills[i]), TensorType{operands[i]->type.dtype, Shape{}}, "", {}});
    std::optional<std::vector<double>> r = interpretOne(n.op, n.attrs, TensorType{n.type.dtype, Shape{}}, scalars);
    if (!r || r->size() != 1) return std::nullopt;
    return fillAttrs((*r)[0]);
  }

  // Small operands and result: run the reference interpreter on the op alone.
  std::optional<Attrs> evaluate(const Node& n, const std::vector<const Node*>& operands) {
    if (n.type.shape.numElements() > opts_.maxFoldedElements) return std::nullopt;
    std::vector<Node> leaves;
    for (const Node* o : operands) {
      if (o->type.shape.numElements() > opts_.maxFoldOperandElements) return std::nullopt;
      leaves.push_back(Node{OpKind::Constant, {}, o->attrs, o->type, "", {}});
    }
    std::optional<int64_t> work = foldWork(n, operands);
    if (!work || *work > opts_.maxFoldWork) return std::nullopt;
    std::optional<std::vector<double>> r = interpretOne(n.op, n.attrs, n.type, leaves);
    if (!r || static_cast<int64_t>(r->size()) != n.type.shape.numElements()) return std::nullopt;
    return constantAttrs(*r);
  }

  std::optional<std::vector<double>> interpretOne(OpKind op, const Attrs& attrs, const TensorType& type,
                                                  const std::vector<Node>& constants) {
    Graph mini;
    std::vector<NodeId> ins;
    for (const Node& c : constants) ins.push_back(mini.addLeaf(OpKind::Constant, "", c.type, c.attrs));
    NodeId id = mini.addWithType(op, ins, attrs, type);
    Result<std::vector<Tensor>> r = interpret(mini, {}, {id}, opts_.foldPrecision);
    if (!r || r->size() != 1) return std::nullopt;
    std::vector<double> values = std::move((*r)[0].data);
    for (double& v : values) v = roundTo(v, type.dtype, opts_.foldPrecision);
    return values;
  }

  GraphRewriter& rw_;
  const PassOptions& opts_;
};

}  // namespace

Result<Graph> foldConstants(const Graph& g, const PassOptions& options) {
  GraphRewriter rw(g, "constant-folding");
  Folder folder(rw, options);
  return rw.run([&](GraphRewriter&, NodeId id) { return folder.visit(id); });
}

}  // namespace nnc
