#pragma once
// Typed reads of attribute families whose defaults live in the op registry (Ops.def), so
// that no reader writes a default of its own.
#include <cstdint>
#include <variant>

#include "compiler/ir/Graph.h"
#include "support/Philox.h"

namespace nnc {

// `alpha` of an AttrFamily::Alpha op (leaky_relu, elu): the node's, or the row's default.
inline double alphaAttr(OpKind op, const Attrs& attrs) { return attrs.getFloat("alpha", opInfo(op).alphaDefault); }
inline double alphaAttr(const Node& n) { return alphaAttr(n.op, n.attrs); }

// `seed` or `salt` of a DropoutMask: an integer, or a float made one (a `seed = 7` key may
// arrive as a number), 0 when absent. The interpreter and the JIT read it alike.
inline uint64_t seedAttr(const Attrs& a, const char* name) {
  const AttrValue* v = a.find(name);
  if (v && std::holds_alternative<int64_t>(*v)) return static_cast<uint64_t>(std::get<int64_t>(*v));
  if (v && std::holds_alternative<double>(*v)) return philox::stepFromFloat(std::get<double>(*v));
  return 0;
}

}  // namespace nnc
