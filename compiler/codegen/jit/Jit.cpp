#include "compiler/codegen/jit/Jit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <sstream>
#include <system_error>
#include <thread>

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include "compiler/codegen/ModuleSplit.h"
#include "compiler/codegen/jit/ObjectCache.h"
#include "compiler/codegen/OptimizationPipeline.h"
#include "compiler/codegen/TaskMerge.h"
#include "runtime/include/nnc/runtime.h"
#include "runtime/distributed/UpdateSignal.h"
#include "runtime/profile/KernelProfile.h"
#include "support/Stopwatch.h"

namespace nnc::codegen {

namespace {


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

// Developer aid: NNC_DEBUG_RAW_IR=FILE writes the module as it enters the optimiser (after
// merging identical tasks), to replay the pipeline with `opt -time-passes` and `llc`.
void dumpRawIR(const llvm::Module& module) {
  const char* path = std::getenv("NNC_DEBUG_RAW_IR");
  if (!path || !*path) return;
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (!ec) module.print(os, nullptr);
}

// Parallel compilation: more threads than this rarely pay (few models have that many large
// kernels). Optimising and compiling takes roughly 0.1 ms per (unoptimised) instruction and
// splitting about 10 ms, so below this many instructions a module compiles whole.
constexpr int kMaxCompileThreads = 8;
constexpr size_t kMinSplitInstructions = 2000;

// One part of a module on its way to machine code.
// A module lives in its context and must be freed first. Parameters are destroyed in an
// order the compiler chooses (Clang frees a later parameter first), so a function that takes
// both frees the module itself on every path: a local is destroyed before the parameters.
struct FreeModuleFirst {
  std::unique_ptr<llvm::Module>& module;
  ~FreeModuleFirst() { module.reset(); }
};

struct CompilePart {
  std::unique_ptr<llvm::LLVMContext> ctx;
  std::unique_ptr<llvm::Module> module;
  std::unique_ptr<llvm::TargetMachine> tm;
  std::unique_ptr<llvm::MemoryBuffer> object;
  std::string ir;     // the optimised IR, when asked for
  std::string error;  // empty: fine
  double optimizeSeconds = 0;
};

// job(0) .. job(n - 1), each on its own thread (job(0) on the caller's). Runs a job on the
// caller's thread when the system refuses another thread.
void runParallel(size_t n, const std::function<void(size_t)>& job) {
  std::vector<std::thread> workers;
  std::vector<size_t> inline_;
  for (size_t i = 1; i < n; ++i) {
    try {
      workers.emplace_back(job, i);
    } catch (const std::system_error&) {
      inline_.push_back(i);
    }
  }
  job(0);
  for (size_t i : inline_) job(i);
  for (std::thread& w : workers) w.join();
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

namespace {

// Optimises and compiles `module` (split into parts on up to `threads` threads) to objects.
Result<std::vector<std::unique_ptr<llvm::MemoryBuffer>>> compileObjects(
    std::unique_ptr<llvm::Module> module, std::unique_ptr<llvm::LLVMContext> ctx, llvm::orc::JITTargetMachineBuilder& jtmb,
    int optLevel, int threads, JitTimes* times, std::string* optimizedIR) {
  FreeModuleFirst moduleFirst{module};
  auto tm = jtmb.createTargetMachine();
  if (!tm) return fromLLVM(tm.takeError(), "cannot create a target machine for the host");

  auto t0 = std::chrono::steady_clock::now();
  targetHost(*module, **tm);
  mergeIdenticalTasks(*module);
  dumpRawIR(*module);

  // Parts compiled in parallel, each in its own context with its own TargetMachine (neither
  // may be shared between threads). A small module stays whole: splitting costs more than
  // it saves.
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::string> bitcode = splitModule(*module, std::min(threads, kMaxCompileThreads), kMinSplitInstructions);
  std::vector<CompilePart> parts(std::max<size_t>(bitcode.size(), 1));
  if (bitcode.empty()) {
    parts[0].ctx = std::move(ctx);
    parts[0].module = std::move(module);
    parts[0].tm = std::move(*tm);
  } else {
    module.reset();
    ctx.reset();
    for (CompilePart& part : parts) {
      auto partTM = jtmb.createTargetMachine();
      if (!partTM) return fromLLVM(partTM.takeError(), "cannot create a target machine for the host");
      part.tm = std::move(*partTM);
    }
  }
  double beforeParts = secondsSince(t0);
  // Each part goes from IR to object on its own thread without waiting for the others (the
  // parts are balanced by instruction count, but a part's optimisation and code generation
  // times need not be in the same proportion as another's).
  runParallel(parts.size(), [&](size_t i) {
    CompilePart& part = parts[i];
    auto start = std::chrono::steady_clock::now();
    if (!part.module) {
      part.ctx = std::make_unique<llvm::LLVMContext>();
      auto parsed = llvm::parseBitcodeFile(llvm::MemoryBufferRef(bitcode[i], "nnc_part"), *part.ctx);
      if (!parsed) {
        part.error = "internal: cannot read back a part of the module: " + llvm::toString(parsed.takeError());
        return;
      }
      part.module = std::move(*parsed);
    }
    if (auto ok = optimizeModule(*part.module, *part.tm, optLevel); !ok) {
      part.error = ok.error().message;
      return;
    }
    if (optimizedIR) {
      llvm::raw_string_ostream os(part.ir);
      part.module->print(os, nullptr);
    }
    part.optimizeSeconds = secondsSince(start);
    llvm::orc::SimpleCompiler compile(*part.tm);
    auto object = compile(*part.module);
    if (!object)
      part.error = "internal: cannot compile the module to machine code: " + llvm::toString(object.takeError());
    else
      part.object = std::move(*object);
    part.module.reset();  // freeing a large module takes a while too: do it here, in parallel
    part.ctx.reset();
  });
  // Stage times that add up to the wall time: optimisation is the merging and splitting and
  // then the slowest part's optimisation, code generation the rest.
  double wall = secondsSince(t0);
  double slowestOptimize = 0;
  for (const CompilePart& part : parts) slowestOptimize = std::max(slowestOptimize, part.optimizeSeconds);
  if (times) {
    times->optimizeSeconds = std::min(wall, beforeParts + slowestOptimize);
    times->codegenSeconds = wall - times->optimizeSeconds;
    times->parts = static_cast<int>(parts.size());
  }
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> objects;
  for (CompilePart& part : parts) {
    if (!part.error.empty()) return makeError(part.error);
    if (optimizedIR) *optimizedIR += part.ir;
    objects.push_back(std::move(part.object));
  }
  return objects;
}

// Links `objects` in a new LLJIT with the runtime's symbols and finds `symbols`.
Result<std::shared_ptr<JitCode>> link(llvm::orc::JITTargetMachineBuilder jtmb,
                                      std::vector<std::unique_ptr<llvm::MemoryBuffer>> objects,
                                      const std::vector<std::string>& symbols) {
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(jtmb)).create();
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
  define("nnc_profile_mark", reinterpret_cast<void*>(&nnc_profile_mark));  // profiling builds only
  define("nnc_update_ready", reinterpret_cast<void*>(&nnc_update_ready));  // data-parallel gradient entries only
  define("erff", reinterpret_cast<void*>(static_cast<float (*)(float)>(&::erff)));
  define("erfcf", reinterpret_cast<void*>(static_cast<float (*)(float)>(&::erfcf)));
  define("powf", reinterpret_cast<void*>(static_cast<float (*)(float, float)>(&::powf)));
  if (llvm::Error e = main.define(llvm::orc::absoluteSymbols(std::move(runtime))))
    return fromLLVM(std::move(e), "cannot define runtime symbols");
  for (auto& object : objects)
    if (llvm::Error e = (*jit)->addObjectFile(std::move(object)))
      return fromLLVM(std::move(e), "cannot add the compiled code to the JIT");
  std::map<std::string, void*> addresses;
  for (const std::string& name : symbols) {
    auto addr = (*jit)->lookup(name);  // the first lookup links the objects
    if (!addr) return fromLLVM(addr.takeError(), "cannot find '" + name + "' in the compiled code");
    addresses[name] = addr->toPtr<void*>();
  }
  return std::make_shared<JitCode>(std::move(*jit), std::move(addresses));
}

std::vector<std::unique_ptr<llvm::MemoryBuffer>> buffersOf(const std::vector<std::string>& objects) {
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> buffers;
  for (const std::string& o : objects) buffers.push_back(llvm::MemoryBuffer::getMemBufferCopy(o, "nnc_object"));
  return buffers;
}

}  // namespace

Result<std::shared_ptr<JitCode>> jitCompile(std::unique_ptr<llvm::Module> module, std::unique_ptr<llvm::LLVMContext> ctx,
                                            const std::vector<std::string>& symbols, const JitOptions& options,
                                            JitTimes* times, std::string* optimizedIR) {
  FreeModuleFirst moduleFirst{module};
  initializeLLVM();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) return fromLLVM(jtmb.takeError(), "cannot describe the host CPU");
  jtmb->setCodeGenOptLevel(options.optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive
                           : options.optLevel == 0 ? llvm::CodeGenOptLevel::None
                                                   : llvm::CodeGenOptLevel::Default);

  // Compiled by an earlier process? An entry that does not link is compiled afresh.
  std::string cacheDir = options.diskCacheKey.empty() ? "" : objectCacheDirectory();
  if (!cacheDir.empty()) {
    auto t0 = std::chrono::steady_clock::now();
    if (auto stored = loadObjects(cacheDir, options.diskCacheKey)) {
      auto code = link(*jtmb, buffersOf(*stored), symbols);
      if (code) {
        if (times) {
          times->diskHit = true;
          times->codegenSeconds = secondsSince(t0);
        }
        return code;
      }
    }
  }

  {
    std::string msg;
    llvm::raw_string_ostream os(msg);
    if (llvm::verifyModule(*module, &os)) return makeError("internal: the generated LLVM IR is invalid: " + os.str());
  }
  auto objects = compileObjects(std::move(module), std::move(ctx), *jtmb, options.optLevel, options.threads, times,
                                optimizedIR);
  if (!objects) return objects.error();
  auto t0 = std::chrono::steady_clock::now();
  if (!cacheDir.empty()) {
    std::vector<std::string> bytes;
    for (const auto& o : *objects) bytes.emplace_back(o->getBufferStart(), o->getBufferSize());
    storeObjects(cacheDir, options.diskCacheKey, bytes);
  }
  auto code = link(std::move(*jtmb), std::move(*objects), symbols);
  if (times) times->codegenSeconds += secondsSince(t0);
  return code;
}

void initializeNativeLLVM() { initializeLLVM(); }

// Target attributes on every function, so the optimiser's cost models and the code
// generator see the host CPU.
void targetHost(llvm::Module& module, llvm::TargetMachine& tm) {
  module.setDataLayout(tm.createDataLayout());
  module.setTargetTriple(tm.getTargetTriple().str());
  std::string cpu = tm.getTargetCPU().str(), features = tm.getTargetFeatureString().str();
  for (llvm::Function& f : module) {
    if (f.isDeclaration()) continue;
    f.addFnAttr("target-cpu", cpu);
    f.addFnAttr("target-features", features);
  }
}

Result<void> runOptimizationPipeline(llvm::Module& module, llvm::TargetMachine& tm, int optLevel) {
  mergeIdenticalTasks(module);
  return optimizeModule(module, tm, optLevel);
}

}  // namespace nnc::codegen
