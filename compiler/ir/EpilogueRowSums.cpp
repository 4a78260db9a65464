#include "compiler/ir/EpilogueRowSums.h"

#include <cstdlib>
#include <cstring>
#include <set>

#include "compiler/ir/TypedAttrs.h"

namespace nnc {

namespace {

struct RowSumHostRow {
  OpKind op;
  bool (*accepts)(const Node&);
};

// The direct forward convolution's emitter (kernels/conv/EmitConv.cpp); grouped, depthwise
// and dilated ones have emitters of their own without row sums.
bool directConvHostsRowSums(const Node& n) {
  const ConvAttr c = ConvAttr::of(n);
  return c.groups == 1 && !c.window(1, 1).dilated();
}

constexpr RowSumHostRow kRowSumHosts[] = {
    {OpKind::Conv2D, directConvHostsRowSums},
};

// How far epilogueRowSumHostOf looks back: an epilogue is a few ops long.
constexpr size_t kMaxEpilogueOps = 32;

}  // namespace

bool epilogueRowSumsWanted() {
  const char* v = std::getenv("NNC_FUSE_ROW_SUMS");
  return v && std::strcmp(v, "1") == 0;
}

bool hostsEpilogueRowSums(const Node& n) {
  for (const RowSumHostRow& r : kRowSumHosts)
    if (r.op == n.op) return n.type.dtype == DType::F32 && n.type.shape.rank() >= 3 && r.accepts(n);
  return false;
}

bool isEpilogueRowSum(const Graph& g, const Node& n, const Shape& space) {
  if ((n.op != OpKind::ReduceSum && n.op != OpKind::ReduceMean) || n.type.dtype != DType::F32) return false;
  const TensorType& operand = g.type(n.inputs[0]);
  if (!(operand.shape == space) || operand.dtype != DType::F32 || space.rank() < 3) return false;
  const AxesAttr a = AxesAttr::of(n);
  return !a.keepdims && a.axes.size() == 1 &&
         normalizeAxis(a.axes[0], space.rank()) == static_cast<int64_t>(space.rank()) - 2;
}

NodeId epilogueRowSumHostOf(const Graph& g, NodeId x) {
  const Shape& space = g.type(x).shape;
  NodeId host = kNoNode;
  std::set<NodeId> seen;
  std::vector<NodeId> work{x};
  while (!work.empty()) {
    NodeId q = work.back();
    work.pop_back();
    if (!seen.insert(q).second) continue;
    if (seen.size() > kMaxEpilogueOps) return kNoNode;
    const Node& qn = g.node(q);
    if (!(qn.type.shape == space)) continue;  // a smaller operand, broadcast
    if (hostsEpilogueRowSums(qn)) {
      if (host != kNoNode && host != q) return kNoNode;
      host = q;
      continue;
    }
    // A full-size value from anywhere else (an input, another tensor) is not the host's.
    if (loweringKind(qn.op) != LoweringKind::Fused || !isElementwiseLike(qn.op)) return kNoNode;
    work.insert(work.end(), qn.inputs.begin(), qn.inputs.end());
  }
  return host;
}

}  // namespace nnc
