#pragma once
// The `train { KEY = EXPR ... }` block -> TrainConfig of the model.
#include "dsl/ast/AST.h"
#include "dsl/sema/Sema.h"

namespace nnc::sema {

// Checks every key (through the generic binder: the block is a callable whose keyword
// arguments are its keys), lowers the loss in the model's scope and fills model.train.
void lowerTrainBlock(Sema& s, const ast::Decl& train);

}  // namespace nnc::sema
