#include "compiler/codegen/ModuleSplit.h"

#include <algorithm>
#include <map>

#include <llvm/ADT/SmallVector.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/Utils/Cloning.h>

namespace nnc::codegen {

std::vector<std::string> splitModule(llvm::Module& module, int parts, size_t minInstructions) {
  std::vector<std::pair<size_t, llvm::Function*>> functions;  // (instructions, function)
  size_t total = 0;
  for (llvm::Function& f : module) {
    if (f.isDeclaration()) continue;
    functions.push_back({f.getInstructionCount(), &f});
    total += f.getInstructionCount();
  }
  parts = std::min<int>(parts, static_cast<int>(functions.size()));
  if (parts < 2 || total < minInstructions) return {};

  // Greedy balance; ties keep module order, so the split (and the code) is deterministic.
  std::stable_sort(functions.begin(), functions.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<size_t> load(static_cast<size_t>(parts), 0);
  std::map<const llvm::GlobalValue*, int> partOf;
  for (const auto& [size, f] : functions) {
    int lightest = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    load[static_cast<size_t>(lightest)] += size;
    partOf[f] = lightest;
  }
  // Functions name each other across parts (names are unique: the emitters make them so).
  for (const auto& [size, f] : functions) {
    if (!f->hasName()) f->setName("nnc_unnamed");
    if (f->hasLocalLinkage()) {
      f->setLinkage(llvm::GlobalValue::ExternalLinkage);
      f->setVisibility(llvm::GlobalValue::HiddenVisibility);
    }
  }

  std::vector<std::string> bitcode;
  for (int p = 0; p < parts; ++p) {
    llvm::ValueToValueMapTy map;
    std::unique_ptr<llvm::Module> part = llvm::CloneModule(module, map, [&](const llvm::GlobalValue* gv) {
      auto it = partOf.find(gv);
      // Functions in their part; constant arrays (private) in every part, so the optimiser
      // still sees their values; the parts that do not use them drop them.
      return it != partOf.end() ? it->second == p : true;
    });
    std::string text;
    llvm::raw_string_ostream os(text);
    llvm::WriteBitcodeToFile(*part, os);
    os.flush();
    bitcode.push_back(std::move(text));
  }
  return bitcode;
}

}  // namespace nnc::codegen
