#include "compiler/ir/Op.h"

#include <array>

namespace nnc {

namespace {
constexpr OpInfo kOps[] = {
#define NNC_OP(Kind, name, cat) {OpKind::Kind, name, OpCategory::cat},
#include "compiler/ir/Ops.def"
};
}  // namespace

const OpInfo& opInfo(OpKind k) { return kOps[static_cast<int>(k)]; }

int numOpKinds() { return static_cast<int>(std::size(kOps)); }

std::optional<OpKind> opFromName(std::string_view name) {
  for (const OpInfo& info : kOps)
    if (name == info.name) return info.kind;
  return std::nullopt;
}

}  // namespace nnc
