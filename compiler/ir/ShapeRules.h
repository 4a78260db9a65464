#pragma once
// Shape and dtype inference: one rule per op (ShapeRules.cpp), checking operand counts,
// dtypes, attributes and shapes, and saying what it expected and what it found.
#include <vector>

#include "compiler/ir/Attrs.h"
#include "compiler/ir/Op.h"
#include "compiler/ir/Type.h"
#include "support/Result.h"

namespace nnc {

Result<TensorType> inferType(OpKind op, const std::vector<TensorType>& inputs, const Attrs& attrs);

// NumPy broadcasting of two shapes, with `batch` broadcasting only against itself or 1 and
// staying the leading dimension.
Result<Shape> broadcastShapes(const Shape& a, const Shape& b);

// Output length of a sliding window (conv, pooling) along one axis.
int64_t windowOutput(int64_t in, int64_t window, int64_t stride, int64_t padBefore, int64_t padAfter);

// TensorFlow's `same` padding along one axis: ceil(in / stride) outputs; when the total
// padding is odd the extra cell goes after (bottom or right). Returns {before, after}.
std::pair<int64_t, int64_t> samePadding(int64_t in, int64_t window, int64_t stride);

// Checks that a shape's element count stays within kMaxElements (overflow-safe).
Result<void> checkShapeSize(const Shape& s);

}  // namespace nnc
