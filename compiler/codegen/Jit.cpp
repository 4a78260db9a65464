#include "compiler/codegen/Jit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <sstream>

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/PassManager.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include "runtime/include/nnc/runtime.h"

namespace nnc::codegen {

namespace {

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Error fromLLVM(llvm::Error e, const std::string& what) {
  return makeError("internal: " + what + ": " + llvm::toString(std::move(e)));
}

void initializeLLVM() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    // NNC_LLVM_ARGS="-opt1 -opt2": LLVM's own options, for experiments (like JULIA_LLVM_ARGS).
    if (const char* args = std::getenv("NNC_LLVM_ARGS")) {
      std::vector<std::string> words{"nnc"};
      std::istringstream in(args);
      for (std::string w; in >> w;) words.push_back(w);
      std::vector<const char*> argv;
      for (const std::string& w : words) argv.push_back(w.c_str());
      llvm::cl::ParseCommandLineOptions(static_cast<int>(argv.size()), argv.data(), "", &llvm::nulls());
    }
  });
}

llvm::OptimizationLevel optLevelOf(int level) {
  switch (level) {
    case 0: return llvm::OptimizationLevel::O0;
    case 1: return llvm::OptimizationLevel::O1;
    case 2: return llvm::OptimizationLevel::O2;
    default: return llvm::OptimizationLevel::O3;
  }
}

void optimize(llvm::Module& m, llvm::TargetMachine& tm, int level) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions pto;
  pto.LoopVectorization = level >= 2;
  pto.SLPVectorization = level >= 2;
  // The generic unroller roughly doubles optimisation time for little gain here: the
  // vectoriser interleaves, and kernels that need unrolling are emitted unrolled.
  pto.LoopUnrolling = false;
  llvm::PassBuilder pb(&tm, pto);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm = level == 0 ? pb.buildO0DefaultPipeline(llvm::OptimizationLevel::O0)
                                           : pb.buildPerModuleDefaultPipeline(optLevelOf(level));
  mpm.run(m, mam);
}

}  // namespace

void* JitCode::symbol(const std::string& name) const {
  auto it = symbols_.find(name);
  return it == symbols_.end() ? nullptr : it->second;
}

std::string hostTargetDescription() {
  std::string s = llvm::sys::getHostCPUName().str();
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  std::vector<std::string> on;
  for (const auto& f : features)
    if (f.second) on.push_back(f.first().str());
  std::sort(on.begin(), on.end());
  for (size_t i = 0; i < on.size(); ++i) s += (i ? ",+" : " +") + on[i];
  return s;
}

Result<std::shared_ptr<JitCode>> jitCompile(std::unique_ptr<llvm::Module> module, std::unique_ptr<llvm::LLVMContext> ctx,
                                            const std::vector<std::string>& symbols, int optLevel, JitTimes* times,
                                            std::string* optimizedIR) {
  initializeLLVM();
  {
    std::string msg;
    llvm::raw_string_ostream os(msg);
    if (llvm::verifyModule(*module, &os)) return makeError("internal: the generated LLVM IR is invalid: " + os.str());
  }
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) return fromLLVM(jtmb.takeError(), "cannot describe the host CPU");
  jtmb->setCodeGenOptLevel(optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive
                           : optLevel == 0 ? llvm::CodeGenOptLevel::None
                                           : llvm::CodeGenOptLevel::Default);
  auto tm = jtmb->createTargetMachine();
  if (!tm) return fromLLVM(tm.takeError(), "cannot create a target machine for the host");

  auto t0 = std::chrono::steady_clock::now();
  module->setDataLayout((*tm)->createDataLayout());
  module->setTargetTriple((*tm)->getTargetTriple().str());
  std::string cpu = (*tm)->getTargetCPU().str(), features = (*tm)->getTargetFeatureString().str();
  for (llvm::Function& f : *module) {
    if (f.isDeclaration()) continue;
    f.addFnAttr("target-cpu", cpu);
    f.addFnAttr("target-features", features);
  }
  optimize(*module, **tm, optLevel);
  if (optimizedIR) {
    llvm::raw_string_ostream os(*optimizedIR);
    module->print(os, nullptr);
  }
  if (times) times->optimizeSeconds = secondsSince(t0);

  t0 = std::chrono::steady_clock::now();
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
  if (!jit) return fromLLVM(jit.takeError(), "cannot start the JIT");
  llvm::orc::JITDylib& main = (*jit)->getMainJITDylib();
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess((*jit)->getDataLayout().getGlobalPrefix());
  if (!process) return fromLLVM(process.takeError(), "cannot search the process for symbols");
  main.addGenerator(std::move(*process));
  llvm::orc::SymbolMap runtime;
  auto define = [&](const char* name, void* addr) {
    runtime[(*jit)->mangleAndIntern(name)] = {llvm::orc::ExecutorAddr::fromPtr(addr), llvm::JITSymbolFlags::Exported};
  };
  define("nnc_parallel_for", reinterpret_cast<void*>(&nnc_parallel_for));
  define("erff", reinterpret_cast<void*>(static_cast<float (*)(float)>(&::erff)));
  define("erfcf", reinterpret_cast<void*>(static_cast<float (*)(float)>(&::erfcf)));
  define("powf", reinterpret_cast<void*>(static_cast<float (*)(float, float)>(&::powf)));
  if (llvm::Error e = main.define(llvm::orc::absoluteSymbols(std::move(runtime))))
    return fromLLVM(std::move(e), "cannot define runtime symbols");
  if (llvm::Error e = (*jit)->addIRModule(llvm::orc::ThreadSafeModule(std::move(module), std::move(ctx))))
    return fromLLVM(std::move(e), "cannot add the module to the JIT");

  std::map<std::string, void*> addresses;
  for (const std::string& name : symbols) {
    auto addr = (*jit)->lookup(name);  // the first lookup compiles the module
    if (!addr) return fromLLVM(addr.takeError(), "cannot find '" + name + "' in the compiled code");
    addresses[name] = addr->toPtr<void*>();
  }
  if (times) times->codegenSeconds = secondsSince(t0);
  return std::make_shared<JitCode>(std::move(*jit), std::move(addresses));
}

}  // namespace nnc::codegen
