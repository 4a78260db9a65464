#pragma once
// The CPU generated code is for: the host (the JIT, and `compile` by default) or an LLVM CPU
// name (`compile --cpu x86-64-v2`). The kernels take their vector width and register count
// from it, never from the host directly, so an object built for an older CPU uses only that
// CPU's registers; the AOT header lists its features for the runtime check (runtime/aot/).
#include <string>
#include <vector>

#include "support/Result.h"

namespace nnc::codegen {

struct TargetCpu {
  std::string cpu;                   // LLVM CPU name ("znver3", "x86-64-v2")
  std::vector<std::string> features; // of runtime/aot/CpuFeatures.h's table, the ones this CPU has
  int lanes = 8;                     // floats per vector register: 4 (SSE), 8 (AVX), 16 (AVX-512)
  int registers = 16;                // vector registers: 32 with AVX-512

  bool has(const std::string& feature) const;
};

// This machine's CPU and features.
const TargetCpu& hostTargetCpu();

// The CPU LLVM knows by `name`; an error naming some valid ones for an unknown name.
Result<TargetCpu> namedTargetCpu(const std::string& name);

// The CPU kernels emitted on this thread are for: the host, unless a ScopedTargetCpu says
// otherwise.
const TargetCpu& emissionTargetCpu();

class ScopedTargetCpu {
 public:
  explicit ScopedTargetCpu(const TargetCpu& cpu);
  ~ScopedTargetCpu();
  ScopedTargetCpu(const ScopedTargetCpu&) = delete;
  ScopedTargetCpu& operator=(const ScopedTargetCpu&) = delete;

 private:
  const TargetCpu* previous_;
};

}  // namespace nnc::codegen
