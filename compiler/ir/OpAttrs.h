#pragma once
// Typed reads that combine an op's attributes with its registry row or its operands, on top of
// the attribute families of TypedAttrs.h.
#include <cstdint>

#include "compiler/ir/Graph.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc {

// `alpha` of an AttrFamily::Alpha op (leaky_relu, elu): the node's, or the row's default.
inline double alphaAttr(OpKind op, const Attrs& attrs) { return AlphaAttr::of(attrs).value(op); }
inline double alphaAttr(const Node& n) { return alphaAttr(n.op, n.attrs); }

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
  if (!DropoutMaskAttr::of(a).rate) o.rate = next++;
  if (operands > static_cast<size_t>(next)) o.firstRow = next;
  return o;
}
inline DropoutMaskOperands dropoutMaskOperands(const Node& n) { return dropoutMaskOperands(n.attrs, n.inputs.size()); }

}  // namespace nnc
