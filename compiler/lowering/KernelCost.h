#pragma once
// The work of each kernel of a lowered graph, for the rates of `bench --profile`: products
// and convolutions count two operations per multiply-add, other kernels one per element and
// op; bytes are the distinct tensors the kernel reads from and writes to memory, each once
// (a lower bound of its traffic).
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/lowering/Lowering.h"

namespace nnc {

// What one kernel does at a given batch, for the profile's rates: floating-point operations
// (2 per multiply-add in products and convolutions, one per element and op elsewhere) and the
// bytes of the tensors it reads from and writes to memory (each counted once).
struct KernelCost {
  std::string label;  // "k3 matmul %41 [epilogue: add relu]"
  double flopsFixed = 0, flopsPerSample = 0;
  double bytesFixed = 0, bytesPerSample = 0;
  double flops(int64_t batch) const { return flopsFixed + flopsPerSample * double(batch); }
  double bytes(int64_t batch) const { return bytesFixed + bytesPerSample * double(batch); }
};

std::vector<KernelCost> kernelCosts(const LoweredGraph& lowered);

}  // namespace nnc
