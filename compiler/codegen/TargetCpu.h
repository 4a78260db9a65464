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

// bf16 mixed precision (`precision = bf16`): how this CPU's code computes products of bf16
// operands. Every CPU runs the emulation today: the operands are rounded to bf16 by
// round_bf16 nodes and the f32 kernels multiply them exactly, accumulating in f32. A CPU
// with AVX512_BF16 could run vdpbf16ps on packed pairs instead (twice the products per
// instruction); docs/architecture.md ("bf16 mixed precision") says what that path needs.
// "emulated (...)", saying whether the CPU has AVX512_BF16: what `bench` reports.
std::string bf16PathDescription(const TargetCpu& cpu);

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
