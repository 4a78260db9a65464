#pragma once
// Number literals: 1, 0.5, 1e-3, .5, 5., 2E+10. A literal without '.', 'e' or 'E' is an
// integer and must fit in 64 bits; any other must be a finite double that is not so small
// that it would silently become 0 (1e-999).
#include <cstdint>
#include <string_view>

#include "support/Result.h"

namespace nnc::syntax {

struct NumberValue {
  double value = 0;
  bool isInteger = false;
  int64_t integer = 0;  // when isInteger
};

// The message of a failure is complete ("number '1e999' is out of range"); it has no position.
Result<NumberValue> readNumber(std::string_view text);

}  // namespace nnc::syntax
