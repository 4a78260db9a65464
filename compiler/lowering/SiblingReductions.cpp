#include "compiler/lowering/SiblingReductions.h"

#include <algorithm>

#include "compiler/ir/TypedAttrs.h"

namespace nnc::lowering {

namespace {

// The reductions whose accumulators a sibling loop keeps: f32 sums, and means (a sum divided
// once at the end). Maxima and i32 sums stay kernels of their own.
constexpr OpKind kSiblingReductions[] = {OpKind::ReduceSum, OpKind::ReduceMean};

// The sorted, normalised reduced axes, or false for an axis out of range.
bool reducedAxes(const Node& n, size_t rank, std::vector<int64_t>* axes) {
  for (int64_t a : AxesAttr::of(n).axes) {
    int64_t d = normalizeAxis(a, rank);
    if (d < 0) return false;
    axes->push_back(d);
  }
  std::sort(axes->begin(), axes->end());
  axes->erase(std::unique(axes->begin(), axes->end()), axes->end());
  return true;
}

}  // namespace

bool mayBeSiblingReduction(OpKind op) {
  return std::find(std::begin(kSiblingReductions), std::end(kSiblingReductions), op) != std::end(kSiblingReductions);
}

bool SiblingReductions::keyOf(const Graph& g, NodeId id, Key* key) {
  const Node& n = g.node(id);
  if (!mayBeSiblingReduction(n.op) || n.type.dtype != DType::F32 || n.inputs.size() != 1) return false;
  const TensorType& operand = g.type(n.inputs[0]);
  if (operand.dtype != DType::F32) return false;
  std::vector<int64_t> axes;
  if (!reducedAxes(n, operand.shape.rank(), &axes)) return false;
  *key = Key{operand.shape.dims, axes, AxesAttr::of(n).keepdims};
  return true;
}

SiblingReductions::SiblingReductions(const Graph& g, const std::vector<bool>& live) : g_(g) {
  for (size_t i = g.size(); i-- > 0;) {
    Key key;
    if (live[i] && keyOf(g, static_cast<NodeId>(i), &key)) groups_[key].push_back(static_cast<NodeId>(i));
  }
}

const std::vector<NodeId>& SiblingReductions::of(NodeId root) const {
  Key key;
  if (!keyOf(g_, root, &key)) return none_;
  auto it = groups_.find(key);
  return it == groups_.end() ? none_ : it->second;
}

bool reductionMayStore(const Graph& g, NodeId root) {
  const Node& n = g.node(root);
  if (!mayBeSiblingReduction(n.op) || n.type.dtype != DType::F32) return false;
  const Shape& s = g.type(n.inputs[0]).shape;
  if (s.rank() < 2 || (s[0] != kBatch && s[0] < 2)) return false;
  std::vector<int64_t> axes;
  if (AxesAttr::of(n).axes.empty() || !reducedAxes(n, s.rank(), &axes)) return false;
  return axes.front() > 0;
}

}  // namespace nnc::lowering
