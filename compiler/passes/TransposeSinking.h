#pragma once
// Transpose sinking: moves transposes towards the graph's outputs, through elementwise and
// broadcasting ops, so that a transpose meets its inverse and both disappear.
//
// The ONNX importer keeps the file's NCHW layout at the boundary and wraps each
// channels-last op (Conv2D, pooling, BatchNorm) in transposes to NHWC and back; between two
// such ops sit only elementwise ops (bias, activation), so after sinking the activations run
// in NHWC and the back-and-forth pairs cancel. An imported CNN then transposes once at its
// input and once before its flatten, not around every layer.
#include "compiler/ir/Graph.h"
#include "support/Result.h"

namespace nnc {

// One sweep in topological order:
//  - transpose(transpose(x, p), q) -> transpose(x, p then q), dropped when the identity;
//  - u(transpose(x, p)) -> transpose(u(x), p) for a one-operand elementwise u;
//  - f(transpose(x, p), c, ...) -> transpose(f(x, c', ...), p) for a broadcasting f, when every
//    operand of the full output shape is a transpose by the same p and the others are
//    broadcast operands (c' is c brought to full rank and transposed by p's inverse: a small
//    tensor, such as a bias) or scalars;
//  - reshape(transpose(x, p)) -> reshape(x) when the transpose only moves axes of size 1.
// Values keep their types; dead nodes are left for dead code elimination.
Result<Graph> sinkTransposes(const Graph& g);

}  // namespace nnc
