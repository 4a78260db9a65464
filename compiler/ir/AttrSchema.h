#pragma once
// Attributes checked against the op: each op's registry row names its family (Ops.def), whose
// struct in TypedAttrs.h lists the keys it takes. The verifier and the shape rules reject a
// node that carries a key its op does not take, lacks a required one, or holds a value of the
// wrong type, length or range.
#include <string>
#include <vector>

#include "compiler/ir/AttrFields.h"
#include "compiler/ir/Attrs.h"
#include "compiler/ir/Op.h"
#include "support/Result.h"

namespace nnc {

// The first problem of `attrs` for an op of kind `op` ("attribute 'x' ..."), as an error.
Result<void> checkOpAttrs(OpKind op, const Attrs& attrs);

// The keys family `f` takes, in declaration order (tests enumerate them).
std::vector<AttrFieldInfo> attrFamilyFields(AttrFamily f);

}  // namespace nnc
