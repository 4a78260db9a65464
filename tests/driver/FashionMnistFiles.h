#pragma once
// Reads the Debian package dataset-fashion-mnist's IDX files (where `nnc` finds them:
// $NNC_FASHION_MNIST_DIR or /usr/share/datasets/fashion-mnist), independently of nnc's own
// loader, so a test can write a modified subset of the real data for `nnc` to train on.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nnc::test {

struct FashionMnistSplit {
  std::vector<uint8_t> pixels;  // samples x 28 x 28
  std::vector<uint8_t> labels;  // 0..9
  int64_t samples() const { return int64_t(labels.size()); }
};

// The first `limit` samples of the train ("train") or test ("t10k") split; nullopt when the
// data set is not installed. Throws std::runtime_error on a damaged file.
std::optional<FashionMnistSplit> readFashionMnist(const std::string& prefix, int64_t limit);

}  // namespace nnc::test
