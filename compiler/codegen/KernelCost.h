#pragma once
// The work of each kernel of a lowered graph (CompiledModel.h's KernelCost), for the rates of
// `bench --profile`: products and convolutions count two operations per multiply-add, other
// kernels one per element and op; bytes are the distinct tensors the kernel reads from and
// writes to memory, each once (a lower bound of its traffic).
#include <vector>

#include "compiler/codegen/CompiledModel.h"
#include "compiler/codegen/Lowering.h"

namespace nnc::codegen {

std::vector<KernelCost> kernelCosts(const LoweredGraph& lowered);

}  // namespace nnc::codegen
