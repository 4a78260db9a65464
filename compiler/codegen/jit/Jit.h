#pragma once
// Internal: optimises an LLVM module with the host's TargetMachine (the kernel pipeline of
// OptimizationPipeline.h) and links it in process with ORC LLJIT. Runtime entries
// (nnc_parallel_for) and the libm functions generated code calls are defined as absolute
// symbols; anything else resolves in the process. Errors (llvm::Error / Expected) come back as nnc Errors.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/Module.h>

#include "support/Result.h"

namespace nnc::codegen {

// Compiled code, kept alive as long as anything holds it.
class JitCode {
 public:
  JitCode(std::unique_ptr<llvm::orc::LLJIT> jit, std::map<std::string, void*> symbols)
      : jit_(std::move(jit)), symbols_(std::move(symbols)) {}
  // The address of a function the module defines, or nullptr.
  void* symbol(const std::string& name) const;

 private:
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::map<std::string, void*> symbols_;
};

struct JitOptions {
  int optLevel = 3;          // 0-3
  int threads = 0;           // compile threads for a large module (0: one per core)
  std::string diskCacheKey;  // not empty: reuse or store the objects on disk (ObjectCache.h)
};

struct JitTimes {
  double optimizeSeconds = 0;
  double codegenSeconds = 0;  // instruction selection, register allocation, linking
  int parts = 1;              // pieces of the module compiled in parallel
  bool diskHit = false;       // the objects came from the disk cache: nothing was compiled
};

// "znver4 +avx512f,+avx2,..." : what the code is compiled for; part of the cache key.
std::string hostTargetDescription();

// Merges identical tasks (TaskMerge.h), optimises and compiles `module`, resolving
// `symbols`. A large module is split and its parts optimised and compiled on up to
// options.threads threads (ModuleSplit.h). `optimizedIR`, when given, receives the optimised
// module's text (one module per part; empty after a disk cache hit).
Result<std::shared_ptr<JitCode>> jitCompile(std::unique_ptr<llvm::Module> module, std::unique_ptr<llvm::LLVMContext> ctx,
                                            const std::vector<std::string>& symbols, const JitOptions& options,
                                            JitTimes* times, std::string* optimizedIR);

// For the ahead-of-time path (AotCompile.cpp): the JIT's one-time LLVM setup (native target,
// NNC_LLVM_ARGS) and its optimisation pipeline, so an object file gets exactly the code the
// JIT would run (identical tasks merged, then the pass pipeline).
void initializeNativeLLVM();
// Target attributes (CPU, features, data layout, triple) on every function of `module`, so the
// optimiser's cost models and the code generator see the host CPU (the JIT and AOT alike).
void targetHost(llvm::Module& module, llvm::TargetMachine& tm);
Result<void> runOptimizationPipeline(llvm::Module& module, llvm::TargetMachine& tm, int optLevel);

}  // namespace nnc::codegen
