#pragma once
// Internal: optimises an LLVM module with the host's TargetMachine (new pass manager, O3 by
// default) and links it in process with ORC LLJIT. Runtime entries (nnc_parallel_for) and the
// libm functions generated code calls are defined as absolute symbols; anything else resolves
// in the process. Errors (llvm::Error / Expected) come back as nnc Errors.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/Module.h>

#include "compiler/support/Result.h"

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

struct JitTimes {
  double optimizeSeconds = 0;
  double codegenSeconds = 0;  // instruction selection, register allocation, linking
};

// "znver4 +avx512f,+avx2,..." : what the code is compiled for; part of the cache key.
std::string hostTargetDescription();

// Optimises (optLevel 0-3) and compiles `module`, resolving `symbols`. `optimizedIR`, when
// given, receives the optimised module's text.
Result<std::shared_ptr<JitCode>> jitCompile(std::unique_ptr<llvm::Module> module, std::unique_ptr<llvm::LLVMContext> ctx,
                                            const std::vector<std::string>& symbols, int optLevel, JitTimes* times,
                                            std::string* optimizedIR);

}  // namespace nnc::codegen
