#pragma once
// Operation kinds and their static properties, generated from Ops.def.
#include <optional>
#include <string>
#include <string_view>

namespace nnc {

enum class OpKind {
#define NNC_OP(Kind, name, cat) Kind,
#include "compiler/ir/Ops.def"
};

enum class OpCategory { Leaf, Elementwise, Broadcast, Injective, Reduction, OutFusable, Opaque };

struct OpInfo {
  OpKind kind;
  const char* name;
  OpCategory category;
};

const OpInfo& opInfo(OpKind k);
inline const char* opName(OpKind k) { return opInfo(k).name; }
inline OpCategory opCategory(OpKind k) { return opInfo(k).category; }
inline bool isLeaf(OpKind k) { return opCategory(k) == OpCategory::Leaf; }
// Elementwise or broadcasting: one loop over the output, no data movement.
inline bool isElementwiseLike(OpKind k) {
  return opCategory(k) == OpCategory::Elementwise || opCategory(k) == OpCategory::Broadcast;
}
std::optional<OpKind> opFromName(std::string_view name);
int numOpKinds();

}  // namespace nnc
