#pragma once
// Tensor types of the graph IR: an element type and a static shape whose first dimension may
// be the run-time `batch`.
#include <cstdint>
#include <string>
#include <vector>

namespace nnc {

enum class DType { F32, I32 };

const char* dtypeName(DType t);

// The run-time batch dimension. It may only appear as the first dimension.
inline constexpr int64_t kBatch = -1;

struct Shape {
  std::vector<int64_t> dims;

  Shape() = default;
  Shape(std::initializer_list<int64_t> d) : dims(d) {}
  explicit Shape(std::vector<int64_t> d) : dims(std::move(d)) {}

  size_t rank() const { return dims.size(); }
  bool isScalar() const { return dims.empty(); }
  bool isBatched() const { return !dims.empty() && dims[0] == kBatch; }
  int64_t operator[](size_t i) const { return dims[i]; }
  int64_t& operator[](size_t i) { return dims[i]; }

  // Number of elements with `batch` taken as `batchSize`.
  int64_t numElements(int64_t batchSize = 1) const;
  // Number of elements of one sample: the product of every dimension but `batch`.
  int64_t numElementsPerBatchRow() const;
  // "[batch, 28, 28]"; "[]" for a scalar.
  std::string str() const;

  friend bool operator==(const Shape&, const Shape&) = default;
};

struct TensorType {
  DType dtype = DType::F32;
  Shape shape;

  bool isFloat() const { return dtype == DType::F32; }
  // "f32[batch, 28, 28]"
  std::string str() const;
  friend bool operator==(const TensorType&, const TensorType&) = default;
};

// Normalises a possibly negative axis against a rank; returns -1 when out of range.
int64_t normalizeAxis(int64_t axis, size_t rank);

// Largest tensor the compiler accepts, in elements; checked wherever shapes are formed so
// that absurd dimensions are refused instead of overflowing. (2^40 elements = 4 TiB of f32.)
inline constexpr int64_t kMaxElements = int64_t(1) << 40;

}  // namespace nnc
