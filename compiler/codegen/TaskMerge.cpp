#include "compiler/codegen/TaskMerge.h"

#include <unordered_map>
#include <vector>

#include <llvm/IR/StructuralHash.h>
#include <llvm/Transforms/Utils/FunctionComparator.h>

namespace nnc::codegen {

int mergeIdenticalTasks(llvm::Module& module) {
  // Candidates by structural hash; equal hashes are confirmed by a full comparison.
  llvm::GlobalNumberState globalNumbers;
  std::unordered_map<uint64_t, std::vector<llvm::Function*>> kept;
  std::vector<llvm::Function*> duplicates;
  for (llvm::Function& f : module) {
    // Only functions nothing outside the module can name: replacing them is invisible.
    if (f.isDeclaration() || !f.hasLocalLinkage()) continue;
    std::vector<llvm::Function*>& bucket = kept[llvm::StructuralHash(f, /*DetailedHash=*/true)];
    llvm::Function* same = nullptr;
    for (llvm::Function* k : bucket)
      if (llvm::FunctionComparator(k, &f, &globalNumbers).compare() == 0) {
        same = k;
        break;
      }
    if (!same) {
      bucket.push_back(&f);
      continue;
    }
    f.replaceAllUsesWith(same);
    duplicates.push_back(&f);
  }
  for (llvm::Function* f : duplicates) f->eraseFromParent();
  return static_cast<int>(duplicates.size());
}

}  // namespace nnc::codegen
