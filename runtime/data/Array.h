#pragma once
// An in-memory array of samples as the data loaders produce it: f32 or i32 elements, a shape
// whose first dimension is the number of samples, contiguous row-major storage. Checkpoint
// tensors use the same type (their first dimension is then just a dimension).
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "support/Result.h"

namespace nnc::data {

enum class DType { F32, I32 };

// "f32" / "i32", as the .nn language writes them.
const char* dtypeName(DType t);

// "[60000, 28, 28]"
std::string shapeString(const std::vector<int64_t>& shape);

class Array {
 public:
  Array() = default;

  // A zero-filled array. The shape must already be validated (non-negative dims whose product
  // is a size the caller has checked against real data): this allocates what it is told.
  static Array zeros(DType dtype, std::vector<int64_t> shape);
  static Array fromF32(std::vector<int64_t> shape, std::vector<float> values);
  static Array fromI32(std::vector<int64_t> shape, std::vector<int32_t> values);

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t rank() const { return int64_t(shape_.size()); }
  int64_t numel() const { return dtype_ == DType::F32 ? int64_t(f32_.size()) : int64_t(i32_.size()); }
  // The first dimension (0 for a rank-0 array, which holds no samples).
  int64_t numSamples() const { return shape_.empty() ? 0 : shape_[0]; }
  // The shape of one sample: the shape without its first dimension.
  std::vector<int64_t> sampleShape() const;
  // Elements per sample (1 for a rank-1 array).
  int64_t sampleNumel() const;

  // Typed views of the storage. view<T>() must match dtype(): a mismatch is a programming
  // error and yields an empty span (never a reinterpretation of the bytes).
  template <typename T>
  std::span<T> view() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, int32_t>, "Array holds float or int32_t");
    if constexpr (std::is_same_v<T, float>) return dtype_ == DType::F32 ? std::span<T>(f32_) : std::span<T>();
    else return dtype_ == DType::I32 ? std::span<T>(i32_) : std::span<T>();
  }
  template <typename T>
  std::span<const T> view() const {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, int32_t>, "Array holds float or int32_t");
    if constexpr (std::is_same_v<T, float>) return dtype_ == DType::F32 ? std::span<const T>(f32_) : std::span<const T>();
    else return dtype_ == DType::I32 ? std::span<const T>(i32_) : std::span<const T>();
  }
  std::span<float> f32() { return view<float>(); }
  std::span<const float> f32() const { return view<float>(); }
  std::span<int32_t> i32() { return view<int32_t>(); }
  std::span<const int32_t> i32() const { return view<int32_t>(); }

  // Raw storage (both element types are 4 bytes), e.g. to hand to compiled code.
  const void* data() const { return dtype_ == DType::F32 ? static_cast<const void*>(f32_.data()) : i32_.data(); }
  void* data() { return dtype_ == DType::F32 ? static_cast<void*>(f32_.data()) : i32_.data(); }
  size_t byteSize() const { return size_t(numel()) * 4; }

  // Gives the same elements a new shape with the same element count; errors otherwise.
  Result<void> reshape(std::vector<int64_t> shape);

  friend bool operator==(const Array&, const Array&) = default;

 private:
  DType dtype_ = DType::F32;
  std::vector<int64_t> shape_;
  std::vector<float> f32_;
  std::vector<int32_t> i32_;
};

// The array converted to `to`. f32 -> i32 requires every value to be an integer that fits in
// i32; the error names `what` (e.g. "input 'label' from labels.npy") and the first bad element.
Result<Array> convertArray(Array a, DType to, const std::string& what);

}  // namespace nnc::data
