#pragma once
// Internal: compiles each distinct task once. An unrolled recurrence (an LSTM over 20 time
// steps) lowers to hundreds of kernels of a handful of structures; since a task reaches its
// buffers only through its own frame (Emit.h), kernels of one structure emit identical
// functions. Merging them before optimisation divides the optimiser's and the code
// generator's work, which dominate compile time, by the repetition count.
#include <llvm/IR/Module.h>

namespace nnc::codegen {

// Replaces every internal function that is structurally identical to an earlier one
// (llvm::FunctionComparator, the comparison LLVM's MergeFunctions pass trusts) by that one,
// and deletes it. Returns the number of functions removed.
int mergeIdenticalTasks(llvm::Module& module);

}  // namespace nnc::codegen
