#pragma once
// What the kernel emitters fuse beyond the category lattice. The lattice (Ops.def) decides
// which producers join a kernel's loop: Fused ops of category Elementwise and Broadcast read
// their operands at the position they write, Injective ones (transpose, slice) at remapped
// positions. A few emitters do more, and this table names the ops they do it for; the
// partitioner (Fusion.cpp) asks it and names no op itself.
#include "compiler/ir/Graph.h"
#include "compiler/ir/Op.h"
#include "compiler/ir/Window.h"

namespace nnc::lowering {

enum class FusionRole {
  None,
  // Takes its elementwise consumers as an epilogue on each finished output tile
  // (kernels/gemm, kernels/conv). Only matmul and the forward convolution: the other
  // OutFusable ops (the convolutions' gradients) have emitters without one. Also
  // maxpool_grad over disjoint windows, on each cell it writes (kernels/EmitMaxPoolGrad.cpp).
  EpilogueHost,
  // Recomputed along the last axis inside a row kernel (kernels/EmitSoftmaxCrossEntropy.cpp)
  // from its operand, with the row's statistics (softmax, log_softmax) ...
  RowNormalization,
  // ... or from the row's i32 label (one_hot).
  RowIndicator,
  // A sum over the last axis: one value per row of a row kernel.
  RowSum,
};

FusionRole fusionRole(OpKind op);
// The role of one node: its op's, unless the row holds for some attributes only
// (maxpool_grad hosts an epilogue over disjoint windows only).
FusionRole fusionRole(const Node& n);

// maxpool_grad's emitter gathers, and so takes an epilogue, only when no two windows share
// a cell (stride >= window; kernels/EmitMaxPoolGrad.cpp) and the window has at most 16
// cells; other windows scatter.
bool maxPoolGradGathers(const Window& g);

// A row kernel recomputes it rather than reading it (RowNormalization or RowIndicator).
inline bool recomputedInRows(OpKind op) {
  FusionRole r = fusionRole(op);
  return r == FusionRole::RowNormalization || r == FusionRole::RowIndicator;
}

}  // namespace nnc::lowering
