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

// DropoutMask's operands: (x, step[, rate][, first_row]).
//  - rate: a run-time f32 scalar (Model::runtimeDropoutRates, used by `tune`), present exactly
//    when the node has no `rate` attribute;
//  - first_row: the global index of x's first row (data-parallel training), which keys the
//    mask so that every process draws its share of the one-process mask.
struct DropoutMaskOperands {
  int rate = -1;      // operand index, or -1 (the `rate` attribute holds it)
  int firstRow = -1;  // operand index, or -1 (x is the whole batch)
};
inline DropoutMaskOperands dropoutMaskOperands(const Attrs& a, size_t operands) {
  DropoutMaskOperands o;
  int next = 2;
  if (!a.has("rate")) o.rate = next++;
  if (operands > static_cast<size_t>(next)) o.firstRow = next;
  return o;
}
inline DropoutMaskOperands dropoutMaskOperands(const Node& n) { return dropoutMaskOperands(n.attrs, n.inputs.size()); }

// Grouped convolutions (Conv2D, Conv2DGradInput, Conv2DGradFilter): `groups` splits the input
// channels C and the filters F into that many equal runs, run g of the filters reading only
// run g of the channels (filter [kh, kw, C / groups, F]). 1 when absent. Dilations live in
// Window (compiler/ir/Window.h).
inline int64_t convGroupsAttr(const Attrs& a) { return a.getInt("groups", 1); }

}  // namespace nnc
