#pragma once
// Internal: splits a module into parts that compile in parallel. Optimisation and instruction
// selection work function by function, so a model's kernels divide among threads; each part
// goes to its own LLVMContext (a context is single-threaded) as bitcode, the way ORC's
// CompileOnDemand layer moves code between contexts. The parts' objects link together in
// one JITDylib.
#include <string>
#include <vector>

#include <llvm/IR/Module.h>

namespace nnc::codegen {

// Bitcode of up to `parts` modules that together define everything `module` defines, with
// about equal instruction counts (largest functions first, each to the lightest part). Every
// function becomes external with hidden visibility so the parts can name each other; each
// part keeps its own copy of the module's (private, constant) global arrays. Returns an empty vector
// (and leaves `module` untouched) when splitting would not pay: parts < 2, or a module
// smaller than `minInstructions`.
std::vector<std::string> splitModule(llvm::Module& module, int parts, size_t minInstructions);

}  // namespace nnc::codegen
