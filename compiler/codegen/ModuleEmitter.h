#pragma once
// Internal: emits an entry point of a lowered graph into an LLVM module.
//
// Entry ABI (C calling convention, also what an AOT header declares):
//   int32_t NAME(void* state, const void* const* inputs, void* const* outputs, int64_t batch,
//                const float* hypers, void* workspace);
//   int64_t NAME_workspace(int64_t batch);   // bytes `workspace` must hold, 64-byte aligned
// inputs[i] is the i-th Input leaf (node order), outputs[i] receives graph.outputs[i] (a null
// pointer skips it), hypers[i] is the i-th Hyper leaf. The entry returns 0. Updates are
// written into `state` after every kernel has run, so a step reads only old values.
#include <string>

#include <llvm/IR/Module.h>

#include "compiler/codegen/UpdateSignals.h"
#include "compiler/lowering/Lowering.h"
#include "support/Result.h"

namespace nnc::codegen {

// `chunkWork`: the least work worth a parallel chunk (CompileOptions::chunkWork).
// `profile`: the entry calls nnc_profile_mark around each kernel's tasks
// (runtime/profile/KernelProfile.h; CompileOptions::profile).
// `signals` (per kernel, UpdateSignals.h): the entry calls nnc_update_ready for each once that
// kernel's tasks have run (CompileOptions::signalUpdates).
Result<void> emitEntryPoint(llvm::Module& module, const LoweredGraph& lowered, const std::string& name,
                            int64_t chunkWork, bool profile = false,
                            const std::vector<std::vector<UpdateSignal>>* signals = nullptr);

}  // namespace nnc::codegen
