#pragma once
// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a magic
// number 00 00 TYPE RANK, RANK big-endian uint32 dimensions, then the elements, big-endian,
// row-major. gzip-compressed or plain, detected from the content.
#include <optional>
#include <string>

#include "runtime/data/Array.h"

namespace nnc::data {

// Loads an IDX file. Element types: 0x08 ubyte, 0x09 sbyte, 0x0B short, 0x0C int, 0x0D float,
// 0x0E double. By default images (rank >= 2) and float data become f32, with raw values
// (0..255 for ubyte images: normalisation is the model's `normalize`), and integer data of
// rank 1 (labels) becomes i32; `as` forces one dtype (i32 from float data then requires
// integer values). Errors name the path: wrong magic, unknown type, rank 0, truncated header
// or data, trailing garbage, dimensions too large to be real.
Result<Array> loadIdx(const std::string& path, std::optional<DType> as = std::nullopt);

}  // namespace nnc::data
