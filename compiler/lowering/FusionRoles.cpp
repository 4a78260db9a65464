#include "compiler/lowering/FusionRoles.h"

namespace nnc::lowering {

namespace {

struct FusionRoleRow {
  OpKind op;
  FusionRole role;
};

// Every op not listed has FusionRole::None.
constexpr FusionRoleRow kFusionRoles[] = {
    {OpKind::MatMul, FusionRole::EpilogueHost},
    {OpKind::Conv2D, FusionRole::EpilogueHost},
    {OpKind::Softmax, FusionRole::RowNormalization},
    {OpKind::LogSoftmax, FusionRole::RowNormalization},
    {OpKind::OneHot, FusionRole::RowIndicator},
    {OpKind::ReduceSum, FusionRole::RowSum},
};

}  // namespace

FusionRole fusionRole(OpKind op) {
  for (const FusionRoleRow& r : kFusionRoles)
    if (r.op == op) return r.role;
  return FusionRole::None;
}

}  // namespace nnc::lowering
