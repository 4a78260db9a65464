#pragma once
// The vector unit the convolution kernels are emitted for (ConvKernels.h). Free of LLVM
// headers so tests can select another one: LLVM legalises any vector width on any x86-64,
// so the AVX-512 and SSE blockings can be checked for correctness on an AVX2 machine.

namespace nnc::codegen {

// Floats per vector register and the number of vector registers: AVX-512 (16, 32), AVX2
// (8, 16) or SSE (4, 16).
struct VectorUnit {
  int lanes = 8;
  int registers = 16;
};

// The override when one is set, else the target CPU's (TargetCpu.h: the host unless
// `compile --cpu` names another).
VectorUnit convVectorUnit();

// Tests only: emit later convolutions for `unit` (lanes 4, 8 or 16); reset with
// clearConvVectorUnitOverride. Not thread-safe: call while nothing compiles.
void overrideConvVectorUnit(VectorUnit unit);
void clearConvVectorUnitOverride();

}  // namespace nnc::codegen
