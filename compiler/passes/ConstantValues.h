#pragma once
// Reading and writing the values of Constant nodes, shared by the passes that look at them.
// A Constant holds either `value` (a fill: every element equal) or `values` (row-major).
#include <optional>
#include <vector>

#include "compiler/ir/Graph.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc {

// The element every position of a Constant holds, when they are all equal; else nothing
// (also for any non-Constant node).
std::optional<double> constantFill(const Node& n);


// The attributes of a Constant holding `values`: a fill when they are all equal (bitwise).
Attrs constantAttrs(const std::vector<double>& values);
inline Attrs fillAttrs(double v) { return ConstantAttr{v, std::nullopt}.attrs(); }

}  // namespace nnc
