#pragma once
// Ahead of time: the same LLVM module jitCompile builds (lowering, entry points, the O3
// pipeline with the host TargetMachine), written as a relocatable object file instead of
// linked in process. `nnc FILE compile` turns the result into NAME.o and NAME.h (AotHeader.h);
// `nnc FILE ir --stage llvm` prints the optimised module.
//
// The object defines, with C linkage and every other symbol internal (so several models link
// into one program):
//   int32_t PREFIX_nnc_forward(state, inputs, outputs, batch, hypers, workspace);  + PREFIX_nnc_forward_workspace
//   int32_t PREFIX_nnc_train_step(...);                                           + PREFIX_nnc_train_step_workspace
//   const unsigned char PREFIX_nnc_initial_values[];  the non-zero initial state, 64-byte aligned pieces
// (the entry ABI of compiler/codegen/README.md). It calls nnc_parallel_for (libnnc_rt) and
// erff, erfcf, powf (libm).
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "compiler/codegen/CompiledModel.h"

namespace nnc {

struct AotCompileOptions {
  std::string prefix = "nnc";  // a C identifier
  int optLevel = 3;
  int64_t chunkWork = 32768;   // CompileOptions::chunkWork
  std::string cpu;             // an LLVM CPU name ("x86-64-v2", "znver4"); empty: this machine's
  LoweringOptions lowering = loweringOptionsFromEnvironment();  // CompileOptions::lowering
};

// A state tensor's initial values (its element count of f32), or an empty span for zeros.
using InitialValues = std::function<std::span<const float>(const StateEntry&)>;

struct AotModel {
  std::string object;                  // the object file's bytes (ELF for the host)
  std::string target;                  // the CPU and features it is compiled for
  std::string cpu;                     // the LLVM CPU name
  std::vector<std::string> features;   // the x86 features it may use that create checks (runtime/aot/CpuFeatures.h)
  StateLayout layout;
  std::vector<int64_t> initialOffset;  // per layout entry: byte offset in PREFIX_nnc_initial_values, -1 for zeros
  EntryInfo forward;                   // symbol PREFIX_nnc_forward
  std::optional<EntryInfo> train;      // symbol PREFIX_nnc_train_step, when compiled with a training graph
};

// Compiles `inference` (and `training`, when given) to an object file for options.cpu (this
// CPU by default); an unknown CPU name is an error.
Result<AotModel> aotCompile(const Graph& inference, const Graph* training, const InitialValues& initialValues,
                            const AotCompileOptions& options);

// The optimised LLVM IR of the module jitCompile builds for these graphs (entries nnc_forward,
// nnc_train_step), without compiling it to machine code.
Result<std::string> optimizedLLVMIR(const Graph& inference, const Graph* training, const CompileOptions& options = {});

}  // namespace nnc
