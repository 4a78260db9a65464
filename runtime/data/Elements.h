#pragma once
// Decoding the element types found in data and checkpoint files (IDX, NPY, safetensors) into
// the two types nnc computes with. Float kinds become f32 and integer kinds i32 by default;
// every narrowing is range-checked, so a value that does not fit is an error naming the
// element, never a silent wrap-around.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "runtime/data/Array.h"

namespace nnc::data {

enum class ElemKind { Bool, U8, I8, I16, U16, I32, U32, I64, U64, F16, BF16, F32, F64 };

size_t elemSize(ElemKind k);
bool isFloatKind(ElemKind k);
// "uint8", "float64", ... (NumPy's names).
const char* elemKindName(ElemKind k);
// f32 for float kinds, i32 for integer kinds and bool.
DType naturalDType(ElemKind k);

// Decodes bytes.size() / elemSize(kind) elements (stored big- or little-endian) into an array
// of the given shape and dtype. The caller has checked that the shape matches the byte count.
// Errors (a value out of i32 or f32 range, a non-integer into i32) name `what` and the element.
Result<Array> decodeElements(std::span<const uint8_t> bytes, ElemKind kind, bool bigEndian,
                             std::vector<int64_t> shape, DType to, const std::string& what);

}  // namespace nnc::data
