#pragma once
// After partitioning: the kernels in execution order, and what each reads from memory.
#include "compiler/lowering/Lowering.h"

namespace nnc::lowering {

// Sorts out.kernels by the last node each computes and renumbers out.kernelOf.
void orderKernels(LoweredGraph& out);
// Kernel::reads of every kernel: the operands of its members that another kernel computes
// (or that live outside any kernel), ascending.
void collectReads(LoweredGraph& out);

}  // namespace nnc::lowering
