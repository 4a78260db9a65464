#include "compiler/lowering/StateLayout.h"

#include "compiler/ir/ShapeRules.h"

namespace nnc {

namespace {
constexpr int64_t kStateAlign = 64;  // a cache line; also keeps AVX-512 loads aligned
int64_t alignStateOffset(int64_t v) { return (v + kStateAlign - 1) / kStateAlign * kStateAlign; }
}  // namespace

Result<StateLayout> StateLayout::build(const std::vector<const Graph*>& graphs) {
  StateLayout layout;
  for (const Graph* g : graphs) {
    if (!g) continue;
    for (const Node& n : g->nodes()) {
      if (n.op != OpKind::Param && n.op != OpKind::State) continue;
      bool trainable = n.op == OpKind::Param;
      if (n.name.empty()) return makeError(std::string("internal: a ") + opName(n.op) + " leaf has no name", n.loc);
      if (n.type.shape.isBatched())
        return makeError(std::string(opName(n.op)) + " '" + n.name + "' has a batch dimension; state must have a fixed shape",
                         n.loc);
      if (const StateEntry* e = layout.find(n.name)) {
        if (e->type != n.type || e->trainable != trainable)
          return makeError("internal: '" + n.name + "' is " + e->type.str() + " in one graph and " + n.type.str() +
                               " in another",
                           n.loc);
        continue;
      }
      NNC_TRY(checkShapeSize(n.type.shape));
      StateEntry e{n.name, trainable, n.type, layout.bytes_, n.type.shape.numElements() * 4, n.attrs};
      layout.bytes_ = alignStateOffset(layout.bytes_ + e.bytes);
      layout.entries_.push_back(std::move(e));
    }
  }
  return layout;
}

const StateEntry* StateLayout::find(const std::string& name) const {
  for (const StateEntry& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

}  // namespace nnc
