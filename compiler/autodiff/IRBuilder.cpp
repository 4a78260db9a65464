#include "compiler/autodiff/IRBuilder.h"

#include <algorithm>
#include <cstring>

#include "compiler/ir/EpilogueRowSums.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc {

bool IRBuilder::bad(const std::vector<NodeId>& ids) const {
  if (error_) return true;
  return std::any_of(ids.begin(), ids.end(), [](NodeId id) { return id == kNoNode; });
}

NodeId IRBuilder::op(OpKind kind, std::vector<NodeId> inputs, Attrs attrs) {
  if (bad(inputs)) return kNoNode;
  Result<NodeId> r = g_.add(kind, std::move(inputs), std::move(attrs), loc_);
  if (!r) {
    error_ = makeError("internal: cannot build " + std::string(opName(kind)) + ": " + r.error().message, loc_);
    return kNoNode;
  }
  return *r;
}

NodeId IRBuilder::scalar(double value) {
  if (error_) return kNoNode;
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  auto [it, added] = scalars_.emplace(bits, kNoNode);
  if (added) it->second = g_.addScalar(value);
  return it->second;
}

NodeId IRBuilder::fill(double value, Shape shape) {
  if (error_) return kNoNode;
  if (shape.isBatched()) return broadcastTo(scalar(value), shape);
  return g_.addLeaf(OpKind::Constant, "", TensorType{DType::F32, shape}, ConstantAttr{value, std::nullopt}.attrs(), loc_);
}

NodeId IRBuilder::reshape(NodeId x, Shape s) {
  if (bad({x})) return kNoNode;
  if (shape(x) == s) return x;
  return op(OpKind::Reshape, {x}, ShapeAttr{s.dims}.attrs());
}

NodeId IRBuilder::broadcastTo(NodeId x, Shape s) {
  if (bad({x})) return kNoNode;
  if (shape(x) == s) return x;
  return op(OpKind::BroadcastTo, {x}, ShapeAttr{s.dims}.attrs());
}

NodeId IRBuilder::reduceSum(NodeId x, std::vector<int64_t> axes, bool keepdims) {
  if (bad({x})) return kNoNode;
  if (axes.empty()) return x;
  return reduce(OpKind::ReduceSum, x, std::move(axes), keepdims);
}

namespace {

// Split batch reductions (IRBuilder::reduce): at most this many values kept (more already
// give every thread enough independent sums), and at least this many summed per sample
// (fewer: the split only adds a kernel; tiny_transformer's [batch, 12, 32] bias gradients
// were 2.5% slower split).
constexpr int64_t kSplitMaxKept = 4096;
constexpr int64_t kSplitMinPerSample = 32;

// The axes of the per-sample reduction, or nothing when a reduction of `s` over `axes` is
// not worth splitting.
std::vector<int64_t> perSampleAxesOfSplit(const Shape& s, const std::vector<int64_t>& axes, bool keepdims) {
  if (keepdims || s.rank() < 3 || (s[0] != kBatch && s[0] < 2)) return {};
  std::vector<bool> reduced(s.rank(), false);
  for (int64_t ax : axes) {
    int64_t d = normalizeAxis(ax, s.rank());
    if (d < 0) return {};
    reduced[static_cast<size_t>(d)] = true;
  }
  if (!reduced[0]) return {};
  std::vector<int64_t> rest;
  int64_t kept = 1, perSample = 1;
  for (size_t d = 1; d < s.rank(); ++d) {
    if (s[d] == kBatch) return {};
    if (reduced[d]) {
      rest.push_back(static_cast<int64_t>(d));
      perSample *= s[d];
    } else {
      kept *= s[d];
    }
  }
  if (rest.empty() || kept > kSplitMaxKept || perSample < kSplitMinPerSample) return {};
  return rest;
}

}  // namespace

NodeId IRBuilder::reduce(OpKind sumOrMean, NodeId x, std::vector<int64_t> axes, bool keepdims) {
  if (bad({x})) return kNoNode;
  if (NodeId rows = rowSumsFirst(sumOrMean, x, axes, keepdims); rows != kNoNode) return rows;
  std::vector<int64_t> perSample = type(x).dtype == DType::F32 ? perSampleAxesOfSplit(shape(x), axes, keepdims)
                                                                 : std::vector<int64_t>{};
  if (perSample.empty()) return op(sumOrMean, {x}, AxesAttr{std::move(axes), keepdims}.attrs());
  // A mean of per-sample means is the mean: every sample has the same count.
  NodeId each = op(sumOrMean, {x}, AxesAttr{std::move(perSample), false}.attrs());
  return op(sumOrMean, {each}, AxesAttr{{0}, false}.attrs());
}

// A reduction over a row axis of a value its producer's epilogue can sum along rows
// (EpilogueRowSums.h): the row sums first, then the rest over them (a mean of row means is
// the mean: every row has the same count). Nothing when that does not apply.
NodeId IRBuilder::rowSumsFirst(OpKind sumOrMean, NodeId x, const std::vector<int64_t>& axes, bool keepdims) {
  const Shape& s = shape(x);
  if (!epilogueRowSumsWanted() || keepdims || type(x).dtype != DType::F32 || s.rank() < 3 || epilogueRowSumHostOf(g_, x) == kNoNode) return kNoNode;
  const int64_t row = static_cast<int64_t>(s.rank()) - 2;
  std::vector<int64_t> rest;
  bool sumsRows = false;
  for (int64_t ax : axes) {
    int64_t d = normalizeAxis(ax, s.rank());
    if (d < 0 || d == row + 1) return kNoNode;  // invalid, or over the channels
    if (d == row)
      sumsRows = true;
    else
      rest.push_back(d);
  }
  if (!sumsRows || rest.empty()) return kNoNode;
  NodeId rowSums = op(sumOrMean, {x}, AxesAttr{{row}, false}.attrs());
  return reduce(sumOrMean, rowSums, std::move(rest), false);
}

NodeId IRBuilder::matmul(NodeId a, NodeId b, bool transposeA, bool transposeB) {
  return op(OpKind::MatMul, {a, b}, MatMulTransposeAttr{transposeA, transposeB}.attrs());
}

NodeId IRBuilder::sumTo(NodeId g, Shape target) {
  if (bad({g})) return kNoNode;
  const Shape from = shape(g);
  if (from == target) return g;
  size_t lead = from.rank() >= target.rank() ? from.rank() - target.rank() : 0;
  std::vector<int64_t> axes;
  for (size_t i = 0; i < from.rank(); ++i)
    if (i < lead || (target[i - lead] == 1 && from[i] != 1)) axes.push_back(static_cast<int64_t>(i));
  return reshape(reduceSum(g, axes, false), target);
}

Shape IRBuilder::keptShape(const Shape& full, const std::vector<int64_t>& axes) {
  Shape kept = full;
  for (int64_t a : axes) kept[static_cast<size_t>(a)] = 1;
  return kept;
}

NodeId IRBuilder::expandTo(NodeId g, const std::vector<int64_t>& axes, bool keepdims, Shape full) {
  if (bad({g})) return kNoNode;
  NodeId kept = keepdims ? g : reshape(g, keptShape(full, axes));
  return broadcastTo(kept, full);
}

NodeId IRBuilder::reducedCount(NodeId x, const std::vector<int64_t>& axes) {
  if (bad({x})) return kNoNode;
  const Shape& s = shape(x);
  double n = 1;
  for (int64_t a : axes) {
    int64_t d = s[static_cast<size_t>(a)];
    if (d == kBatch) return op(OpKind::ElementCount, {x}, AxesAttr{axes}.attrs());
    n *= static_cast<double>(d);
  }
  return scalar(n);
}

}  // namespace nnc
