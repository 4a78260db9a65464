#pragma once
// `nnc FILE summary`: the Keras-style table of a model's layers.
#include <iosfwd>
#include <string>

#include "compiler/ir/Model.h"

namespace nnc::driver {

// 1234567 -> "1,234,567"
std::string withThousands(int64_t n);

void printSummary(const Model& model, std::ostream& os);

}  // namespace nnc::driver
