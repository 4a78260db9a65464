#pragma once
// A small emitter of IR nodes for code that builds many of them in a row: gradient rules,
// optimizer updates, mode lowering. Every method returns a NodeId and never fails loudly:
// the first error (a shape rule refusing an op, which would be a compiler bug here) is kept
// and every later call returns kNoNode, so rules read like the math they implement and the
// caller checks `error()` once at the end.
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "compiler/ir/Graph.h"
#include "support/Result.h"

namespace nnc {

class IRBuilder {
 public:
  explicit IRBuilder(Graph& g, SourceLoc loc = {}) : g_(g), loc_(loc) {}

  Graph& graph() { return g_; }
  // By value: emitting nodes may move the graph's storage, so references would dangle.
  TensorType type(NodeId id) const { return g_.type(id); }
  Shape shape(NodeId id) const { return g_.type(id).shape; }
  bool failed() const { return error_.has_value(); }
  const std::optional<Error>& error() const { return error_; }
  // Source position given to the nodes emitted from now on (the forward node a gradient
  // belongs to, so that printed IR and errors point at the model).
  void setLoc(SourceLoc loc) { loc_ = loc; }

  // Any operation; its type comes from the shape rule.
  NodeId op(OpKind kind, std::vector<NodeId> inputs, Attrs attrs = {});
  // A scalar f32 constant (broadcasts against anything); one node per value per builder.
  NodeId scalar(double value);
  // A constant fill of a static shape, or a broadcast of a scalar to a batched shape.
  NodeId fill(double value, Shape shape);

  NodeId add(NodeId a, NodeId b) { return op(OpKind::Add, {a, b}); }
  NodeId sub(NodeId a, NodeId b) { return op(OpKind::Sub, {a, b}); }
  NodeId mul(NodeId a, NodeId b) { return op(OpKind::Mul, {a, b}); }
  NodeId div(NodeId a, NodeId b) { return op(OpKind::Div, {a, b}); }
  NodeId mul(NodeId a, double c) { return mul(a, scalar(c)); }
  NodeId add(NodeId a, double c) { return add(a, scalar(c)); }
  NodeId neg(NodeId a) { return op(OpKind::Neg, {a}); }
  NodeId exp(NodeId a) { return op(OpKind::Exp, {a}); }
  NodeId log(NodeId a) { return op(OpKind::Log, {a}); }
  NodeId sqrt(NodeId a) { return op(OpKind::Sqrt, {a}); }
  NodeId square(NodeId a) { return op(OpKind::Square, {a}); }
  NodeId sigmoid(NodeId a) { return op(OpKind::Sigmoid, {a}); }
  NodeId greater(NodeId a, NodeId b) { return op(OpKind::Greater, {a, b}); }
  NodeId equal(NodeId a, NodeId b) { return op(OpKind::Equal, {a, b}); }
  NodeId select(NodeId c, NodeId a, NodeId b) { return op(OpKind::Select, {c, a, b}); }
  NodeId pow(NodeId a, NodeId b) { return op(OpKind::Pow, {a, b}); }

  NodeId reshape(NodeId x, Shape s);  // no node when the shape is already `s`
  NodeId broadcastTo(NodeId x, Shape s);  // no node when the shape is already `s`
  NodeId reduceSum(NodeId x, std::vector<int64_t> axes, bool keepdims);
  // A ReduceSum or ReduceMean. Per-channel statistics of a batch of images (over the batch
  // and other axes, few values kept: batch-norm statistics and their gradients, bias
  // gradients) become a reduction per sample and then one over the batch, reduce(x[N, H, W,
  // C], {0, 1, 2}) -> reduce(reduce(x, {1, 2}), {0}): a reduction runs in parallel over its
  // outermost kept axis, which was the few channels (every thread reading every row of x for
  // its share of them) and is now the samples (each thread a contiguous part of x). Each sum
  // still has one fixed order whatever the thread count (issue 14). Over a value that a
  // convolution's epilogue computes, the sums along its output rows come first
  // (EpilogueRowSums.h): reduce(x, {0, 1, 2}) -> reduce(reduce(x, {2}), {0, 1}), so that the
  // convolution can compute reduce(x, {2}) as it writes x (LoweringOptions::fuseRowSums); only
  // with NNC_FUSE_ROW_SUMS=1 (epilogueRowSumsWanted).
  NodeId reduce(OpKind sumOrMean, NodeId x, std::vector<int64_t> axes, bool keepdims);
  NodeId matmul(NodeId a, NodeId b, bool transposeA, bool transposeB);

  // The un-broadcast of a gradient: sums `g` over the axes along which a value of shape
  // `target` was broadcast to g's shape (leading axes it lacks, and its size-1 axes), then
  // reshapes to `target`. The batch axis is summed like any other when `target` lacks it.
  NodeId sumTo(NodeId g, Shape target);
  // The inverse of a reduction over `axes` (normalised) of a value of shape `full`: reshapes
  // `g` to the keepdims shape when `keepdims` was false, then broadcasts it to `full`.
  NodeId expandTo(NodeId g, const std::vector<int64_t>& axes, bool keepdims, Shape full);
  // The keepdims shape of reducing `full` over `axes`.
  static Shape keptShape(const Shape& full, const std::vector<int64_t>& axes);
  // The number of elements a reduction over `axes` of `x` combines: a constant, or an
  // ElementCount node when the batch axis is among them.
  NodeId reducedCount(NodeId x, const std::vector<int64_t>& axes);

 private:
  NodeId rowSumsFirst(OpKind sumOrMean, NodeId x, const std::vector<int64_t>& axes, bool keepdims);
  bool bad(const std::vector<NodeId>& ids) const;

  Graph& g_;
  SourceLoc loc_;
  std::optional<Error> error_;
  std::map<uint64_t, NodeId> scalars_;  // by the value's bits
};

}  // namespace nnc
