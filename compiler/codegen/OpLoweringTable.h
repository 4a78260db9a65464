#pragma once
// Which emitters OpLowerings.cpp has for an op, without LLVM's headers (for the test that
// checks the table against the registry's lowering kinds).
#include "compiler/ir/Op.h"

namespace nnc::codegen {

bool hasScalarEmitter(OpKind op);  // Fused ops: the scalar function of one element
bool hasKernelEmitter(OpKind op);  // Custom ops: a kernel emitter

}  // namespace nnc::codegen
