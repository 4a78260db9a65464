#pragma once
// Files the end-to-end training tests write and read: NumPy .npy arrays to train on, and the
// tensors of a safetensors checkpoint to compare bit for bit. Written here rather than with the
// runtime's loaders so the tests check `nnc` against an independent reading of the formats.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace nnc::test {

// Little-endian f32 ('<f4') or i32 ('<i4') array in C order.
// The whole file; throws (failing the test) when it cannot be opened.
std::string readFileBytes(const std::string& path);

void writeNpy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& values);
void writeNpy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<int32_t>& values);

struct StoredTensor {
  std::string dtype;  // "F32", ...
  std::vector<int64_t> shape;
  std::string bytes;  // the raw little-endian data
};

struct SafetensorsFile {
  std::map<std::string, StoredTensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Throws std::runtime_error on a file it cannot read (a test failure, not a user error).
SafetensorsFile readSafetensorsFile(const std::string& path);

// "" when both hold the same tensor names, dtypes, shapes and bytes; otherwise the first
// difference, with the first differing f32 element's index and values.
std::string compareTensorsBitwise(const SafetensorsFile& expected, const SafetensorsFile& actual);

// A temporary directory removed (with its contents) when the object goes away.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace nnc::test
