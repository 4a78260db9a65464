// The kernel pipeline. LLVM's O3 module pipeline is built for arbitrary C++: an inliner walk
// over the call graph, interprocedural passes, and a function simplification pipeline that
// runs instcombine eight times. Generated kernels need a fraction of that: they call nothing
// worth inlining, their loops are already in the shape they should run in (register blocks
// and microkernels are emitted unrolled), and their accumulators are allocas that SROA
// promotes. So the pipeline below is the part of O3 that changes such code: promotion and
// cleanup, loop rotation and invariant hoisting, induction-variable simplification and GVN
// (which merge the index arithmetic of unrolled blocks), then the loop and SLP vectorisers
// with a cleanup after each. On the example models it optimises 2.2 to 3.7 times faster than
// default<O3> with the same kernels' speed (README, compile time), and the smaller output
// also shortens code generation.
//
// instcombine runs with no-verify-fixpoint: verifying the fixpoint is a debugging aid, and a
// failed check is a fatal error (an abort) rather than a diagnostic.
#include "compiler/codegen/OptimizationPipeline.h"

#include <cstdlib>

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/IR/PassManager.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Passes/StandardInstrumentations.h>
#include <llvm/Target/TargetMachine.h>

namespace nnc::codegen {

namespace {

// One pipeline string, in `opt -passes=` syntax; the vectorisers and their cleanups at O2 and up.
std::string kernelPipeline(bool vectorize) {
  const std::string cleanup = "instcombine<no-verify-fixpoint>,simplifycfg";
  std::string p = "function(sroa,early-cse<memssa>," + cleanup + ",loop-mssa(loop-rotate,licm)," + cleanup +
                  ",loop(indvars),gvn,loop-mssa(licm)";
  if (vectorize) p += ",loop-vectorize," + cleanup + ",slp-vectorizer,vector-combine," + cleanup + ",loop-mssa(licm)";
  return p + ")";
}

}  // namespace

std::string optimizationPipeline(int level) {
  if (const char* custom = std::getenv("NNC_LLVM_PIPELINE"); custom && *custom) return custom;
  if (level <= 0) return "default<O0>";
  return kernelPipeline(level >= 2);
}

// Changing what this pipeline or the code generator's settings produce? Bump
// kPipelineVersion (ObjectCache.h), or the disk cache serves code from the old one.
Result<void> optimizeModule(llvm::Module& module, llvm::TargetMachine& tm, int level) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // Tuning options matter only to a default<On> pipeline (NNC_LLVM_PIPELINE experiments).
  llvm::PipelineTuningOptions pto;
  pto.LoopVectorization = level >= 2;
  pto.SLPVectorization = level >= 2;
  // The generic unroller roughly doubles optimisation time for little gain here: the
  // vectoriser interleaves, and kernels that need unrolling are emitted unrolled.
  pto.LoopUnrolling = false;
  // Honour `optnone` (the entry functions, ModuleEmitter.cpp): the new pass manager skips
  // such functions only through this instrumentation.
  llvm::PassInstrumentationCallbacks pic;
  llvm::OptNoneInstrumentation optNone(/*DebugLogging=*/false);
  optNone.registerCallbacks(pic);
  llvm::PassBuilder pb(&tm, pto, std::nullopt, &pic);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm;
  std::string text = optimizationPipeline(level);
  if (llvm::Error e = pb.parsePassPipeline(mpm, text))
    return makeError("the LLVM pass pipeline '" + text + "' is not valid: " + llvm::toString(std::move(e)));
  mpm.run(module, mam);
  return {};
}

}  // namespace nnc::codegen
