#pragma once
// Internal: the LLVM pass pipeline every module of generated kernels goes through (the JIT's
// and the ahead-of-time object's alike). Free of LLVM headers, so tests can read it.
#include <string>

#include "support/Result.h"

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace nnc::codegen {

// The pipeline at `level` (0-3) in LLVM's textual form (`opt -passes=...`): a default
// pipeline's name at 0, nnc's kernel pipeline above (OptimizationPipeline.cpp says why).
// NNC_LLVM_PIPELINE, when set, replaces it (for experiments: "default<O3>" is LLVM's own).
std::string optimizationPipeline(int level);

// Runs optimizationPipeline(level) on `module` with `tm`'s cost models. Functions marked
// `optnone` (the entry functions) are left alone.
Result<void> optimizeModule(llvm::Module& module, llvm::TargetMachine& tm, int level);

}  // namespace nnc::codegen
