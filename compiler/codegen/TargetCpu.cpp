#include "compiler/codegen/TargetCpu.h"

#include <algorithm>
#include <memory>

#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>

#include "compiler/codegen/jit/Jit.h"
#include "runtime/aot/CpuFeatures.h"

namespace nnc::codegen {

namespace {

thread_local const TargetCpu* current = nullptr;

// Vector width and register count from the features, as the kernels' blockings need them.
void setVectorUnit(TargetCpu& t) {
  if (t.has("avx512f")) {
    t.lanes = 16;
    t.registers = 32;
  } else {
    t.lanes = t.has("avx") ? 8 : 4;
    t.registers = 16;
  }
}

}  // namespace

bool TargetCpu::has(const std::string& feature) const {
  return std::find(features.begin(), features.end(), feature) != features.end();
}

const TargetCpu& hostTargetCpu() {
  static const TargetCpu host = [] {
    TargetCpu t;
    t.cpu = llvm::sys::getHostCPUName().str();
    llvm::StringMap<bool> f = llvm::sys::getHostCPUFeatures();
    for (const aot::CpuFeature& c : aot::kCpuFeatures) {
      auto it = f.find(c.name);
      if (it != f.end() && it->second) t.features.push_back(c.name);
    }
    setVectorUnit(t);
    return t;
  }();
  return host;
}

Result<TargetCpu> namedTargetCpu(const std::string& name) {
  initializeNativeLLVM();
  const std::string triple = llvm::sys::getProcessTriple();
  std::string error;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) return makeError("internal: no LLVM target for " + triple + ": " + error);
  // Asked of a generic subtarget first: LLVM warns on stderr when it creates one for an unknown CPU.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(target->createMCSubtargetInfo(triple, "", ""));
  std::unique_ptr<llvm::MCSubtargetInfo> sti;
  if (generic && !name.empty() && generic->isCPUStringValid(name))
    sti.reset(target->createMCSubtargetInfo(triple, name, ""));
  if (!sti)
    return makeError("unknown CPU '" + name + "': give an LLVM CPU name such as x86-64, x86-64-v2, x86-64-v3, "
                     "x86-64-v4, haswell, skylake-avx512, znver3 or znver4 (`llc -mcpu=help` lists them all)");
  TargetCpu t;
  t.cpu = name;
  for (const aot::CpuFeature& c : aot::kCpuFeatures)
    if (sti->checkFeatures(std::string("+") + c.name)) t.features.push_back(c.name);
  setVectorUnit(t);
  return t;
}

std::string bf16PathDescription(const TargetCpu& cpu) {
  return cpu.has("avx512bf16") ? "emulated (f32 products of operands rounded to bf16; this CPU has AVX512_BF16, "
                                 "whose vdpbf16ps kernels nnc does not have yet)"
                               : "emulated (f32 products of operands rounded to bf16; this CPU has no AVX512_BF16)";
}

const TargetCpu& emissionTargetCpu() { return current ? *current : hostTargetCpu(); }

ScopedTargetCpu::ScopedTargetCpu(const TargetCpu& cpu) : previous_(current) { current = &cpu; }
ScopedTargetCpu::~ScopedTargetCpu() { current = previous_; }

}  // namespace nnc::codegen
