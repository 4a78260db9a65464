#include "compiler/codegen/aot/AotCompile.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <set>

#include <llvm/ADT/SmallVector.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/SubtargetFeature.h>

#include "compiler/codegen/jit/Jit.h"
#include "compiler/lowering/Lowering.h"
#include "compiler/codegen/ModuleEmitter.h"
#include "compiler/codegen/TargetCpu.h"

namespace nnc {

namespace {

// The graphs lowered against one state layout, as jitCompile lowers them.
struct LoweredModel {
  StateLayout layout;
  std::optional<LoweredGraph> inference, training;
};

Result<LoweredModel> lowerModel(const Graph& inference, const Graph* training, const LoweringOptions& lowering) {
  LoweredModel m;
  auto layout = StateLayout::build({training, &inference});
  if (!layout) return layout.error();
  m.layout = std::move(*layout);
  auto li = lowerGraph(inference, m.layout, lowering);
  if (!li) return li.error();
  m.inference = std::move(*li);
  if (training) {
    auto lt = lowerGraph(*training, m.layout, lowering);
    if (!lt) return lt.error();
    m.training = std::move(*lt);
  }
  return m;
}

Error fromLLVM(llvm::Error e, const std::string& what) {
  return makeError("internal: " + what + ": " + llvm::toString(std::move(e)));
}

// The TargetMachine for `cpu` (empty: the host's, as the JIT creates it), position-independent:
// the object links into PIE executables and shared libraries.
Result<std::unique_ptr<llvm::TargetMachine>> targetMachineFor(const std::string& cpu, int optLevel) {
  codegen::initializeNativeLLVM();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) return fromLLVM(jtmb.takeError(), "cannot describe the host CPU");
  if (!cpu.empty()) {
    jtmb->setCPU(cpu);
    jtmb->getFeatures() = llvm::SubtargetFeatures();  // the named CPU's own features, not the host's
  }
  jtmb->setCodeGenOptLevel(optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive
                           : optLevel == 0 ? llvm::CodeGenOptLevel::None
                                           : llvm::CodeGenOptLevel::Default);
  jtmb->setRelocationModel(llvm::Reloc::PIC_);
  jtmb->setCodeModel(llvm::CodeModel::Small);
  auto tm = jtmb->createTargetMachine();
  if (!tm) return fromLLVM(tm.takeError(), "cannot create a target machine for the host");
  return std::move(*tm);
}

// Verifies, targets and optimises `module` exactly as the JIT does before linking it.
Result<void> optimizeForHost(llvm::Module& module, llvm::TargetMachine& tm, int optLevel) {
  {
    std::string msg;
    llvm::raw_string_ostream os(msg);
    if (llvm::verifyModule(module, &os)) return makeError("internal: the generated LLVM IR is invalid: " + os.str());
  }
  codegen::targetHost(module, tm);
  return codegen::runOptimizationPipeline(module, tm, optLevel);
}

// PREFIX_initial_values: every state tensor with a non-zero initial value, each at a 64-byte
// aligned offset; `offsets` receives each layout entry's offset (-1: zeros, not stored).
void emitInitialValues(llvm::Module& module, const StateLayout& layout, const InitialValues& initialValues,
                       const std::string& symbol, std::vector<int64_t>& offsets) {
  std::string blob;
  offsets.assign(layout.entries().size(), -1);
  for (size_t i = 0; i < layout.entries().size(); ++i) {
    const StateEntry& e = layout.entries()[i];
    std::span<const float> values = initialValues ? initialValues(e) : std::span<const float>{};
    if (values.empty() || int64_t(values.size_bytes()) != e.bytes) continue;
    if (std::all_of(values.begin(), values.end(), [](float v) { return v == 0.0f && !std::signbit(v); })) continue;
    blob.resize((blob.size() + 63) / 64 * 64, '\0');
    offsets[i] = int64_t(blob.size());
    blob.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
  }
  if (blob.empty()) blob.push_back('\0');  // a C array is never empty
  llvm::LLVMContext& ctx = module.getContext();
  llvm::Constant* init = llvm::ConstantDataArray::getRaw(blob, blob.size(), llvm::Type::getInt8Ty(ctx));
  auto* gv = new llvm::GlobalVariable(module, init->getType(), true, llvm::GlobalValue::ExternalLinkage, init, symbol);
  gv->setAlignment(llvm::Align(64));
}

// Everything but the exported symbols becomes internal: two models' objects link together,
// and the optimiser sees the whole program of each.
void internalizeAllBut(llvm::Module& module, const std::set<std::string>& exported) {
  for (llvm::GlobalValue& gv : module.global_values()) {
    if (gv.isDeclaration() || exported.count(gv.getName().str())) continue;
    gv.setLinkage(llvm::GlobalValue::InternalLinkage);
  }
}

}  // namespace

Result<AotModel> aotCompile(const Graph& inference, const Graph* training, const InitialValues& initialValues,
                            const AotCompileOptions& options) {
  codegen::TargetCpu cpu = codegen::hostTargetCpu();
  if (!options.cpu.empty()) {
    auto named = codegen::namedTargetCpu(options.cpu);
    if (!named) return named.error();
    cpu = std::move(*named);
  }
  // The kernels' vector widths and blockings follow the target, not the host.
  codegen::ScopedTargetCpu scopedCpu(cpu);
  auto lowered = lowerModel(inference, training, options.lowering);
  if (!lowered) return lowered.error();
  AotModel out;
  const std::string forward = options.prefix + "_nnc_forward", train = options.prefix + "_nnc_train_step",
                    initial = options.prefix + "_nnc_initial_values";

  llvm::LLVMContext ctx;
  llvm::Module module(options.prefix, ctx);
  NNC_TRY(codegen::emitEntryPoint(module, *lowered->inference, forward, options.chunkWork));
  std::set<std::string> exported{forward, forward + "_workspace", initial};
  if (lowered->training) {
    NNC_TRY(codegen::emitEntryPoint(module, *lowered->training, train, options.chunkWork));
    exported.insert({train, train + "_workspace"});
  }
  emitInitialValues(module, lowered->layout, initialValues, initial, out.initialOffset);
  internalizeAllBut(module, exported);

  auto tm = targetMachineFor(options.cpu, options.optLevel);
  if (!tm) return tm.error();
  NNC_TRY(optimizeForHost(module, **tm, options.optLevel));
  {
    llvm::SmallVector<char, 0> bytes;
    llvm::raw_svector_ostream os(bytes);
    llvm::legacy::PassManager pm;
    if ((*tm)->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
      return makeError("internal: this LLVM cannot write object files for the host");
    pm.run(module);
    out.object.assign(bytes.begin(), bytes.end());
  }
  out.target = options.cpu.empty() ? codegen::hostTargetDescription() : options.cpu;
  out.cpu = cpu.cpu;
  out.features = cpu.features;
  out.forward = describeEntry(*lowered->inference, forward);
  if (lowered->training) out.train = describeEntry(*lowered->training, train);
  out.layout = std::move(lowered->layout);
  return out;
}

Result<std::string> optimizedLLVMIR(const Graph& inference, const Graph* training, const CompileOptions& options) {
  auto lowered = lowerModel(inference, training, options.lowering);
  if (!lowered) return lowered.error();
  llvm::LLVMContext ctx;
  llvm::Module module("nnc_model", ctx);
  // The entry names jitCompile uses (CompiledModel.cpp).
  NNC_TRY(codegen::emitEntryPoint(module, *lowered->inference, "nnc_forward", options.chunkWork));
  if (lowered->training)
    NNC_TRY(codegen::emitEntryPoint(module, *lowered->training, "nnc_train_step", options.chunkWork));
  auto tm = targetMachineFor("", options.optLevel);
  if (!tm) return tm.error();
  NNC_TRY(optimizeForHost(module, **tm, options.optLevel));
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os, nullptr);
  os.flush();
  return text;
}

}  // namespace nnc
