#include "compiler/lowering/FusionRoles.h"

#include "compiler/ir/TypedAttrs.h"

namespace nnc::lowering {

namespace {

struct FusionRoleRow {
  OpKind op;
  FusionRole role;
  bool (*accepts)(const Node&) = nullptr;  // when the role holds for some nodes only
};

bool maxPoolGradHostsEpilogue(const Node& n) { return maxPoolGradGathers(WindowAttr::of(n).geometry()); }

// Every op not listed has FusionRole::None.
constexpr FusionRoleRow kFusionRoles[] = {
    {OpKind::MatMul, FusionRole::EpilogueHost},
    {OpKind::Conv2D, FusionRole::EpilogueHost},
    {OpKind::Softmax, FusionRole::RowNormalization},
    {OpKind::LogSoftmax, FusionRole::RowNormalization},
    {OpKind::OneHot, FusionRole::RowIndicator},
    {OpKind::ReduceSum, FusionRole::RowSum},
    // Pooling glue fused into its neighbours (issue 14): the ReLU gradient after it.
    {OpKind::MaxPoolGrad, FusionRole::EpilogueHost, maxPoolGradHostsEpilogue},
};

}  // namespace

FusionRole fusionRole(OpKind op) {
  for (const FusionRoleRow& r : kFusionRoles)
    if (r.op == op) return r.role;
  return FusionRole::None;
}

// The gathering emitter unrolls the window's taps: larger windows (a whole image) keep the
// loops of the scattering one, whose code does not grow with the window.
constexpr int64_t kMaxPoolGradGatherTaps = 16;

bool maxPoolGradGathers(const Window& g) {
  return !g.dilated() && g.sh >= g.kh && g.sw >= g.kw && g.kh * g.kw <= kMaxPoolGradGatherTaps;
}

FusionRole fusionRole(const Node& n) {
  for (const FusionRoleRow& r : kFusionRoles)
    if (r.op == n.op) return !r.accepts || r.accepts(n) ? r.role : FusionRole::None;
  return FusionRole::None;
}

}  // namespace nnc::lowering
