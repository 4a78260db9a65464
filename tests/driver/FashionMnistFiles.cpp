#include "FashionMnistFiles.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

namespace nnc::test {

namespace {

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string fashionDir() {
  const char* env = std::getenv("NNC_FASHION_MNIST_DIR");
  return env && *env ? env : "/usr/share/datasets/fashion-mnist";
}

// The whole file, decompressed by gzip(1) when it ends in .gz: the test binary links no zlib,
// and gzip is part of every Debian system. Stops after `maxBytes`: a small subset needs
// only the start of the file.
std::string readMaybeGzipped(const std::string& path, size_t maxBytes) {
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  const std::string command = gz ? "gzip -dc '" + path + "'" : "cat '" + path + "'";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::string bytes;
  char buffer[1 << 16];
  for (size_t n; bytes.size() < maxBytes && (n = fread(buffer, 1, sizeof buffer, pipe.get())) > 0;)
    bytes.append(buffer, n);
  return bytes;
}

uint32_t bigEndian32(const std::string& bytes, size_t at) {
  if (at + 4 > bytes.size()) throw std::runtime_error("IDX file shorter than its header");
  return uint32_t(uint8_t(bytes[at])) << 24 | uint32_t(uint8_t(bytes[at + 1])) << 16 |
         uint32_t(uint8_t(bytes[at + 2])) << 8 | uint32_t(uint8_t(bytes[at + 3]));
}

// The IDX payload after its header (magic 0x0000080N: unsigned bytes, N dimensions).
std::string idxPayload(const std::string& bytes, uint32_t dims, int64_t rowBytes, int64_t limit, int64_t* rows) {
  if (bigEndian32(bytes, 0) != (0x800u | dims)) throw std::runtime_error("unexpected IDX magic number");
  const size_t start = 4 + 4 * size_t(dims);
  const int64_t count = std::min<int64_t>(bigEndian32(bytes, 4), limit);
  if (bytes.size() < start + size_t(count * rowBytes)) throw std::runtime_error("truncated IDX file");
  *rows = count;
  return bytes.substr(start, size_t(count * rowBytes));
}

std::string findFile(const std::string& dir, const std::string& base) {
  for (const std::string& candidate : {dir + "/" + base + ".gz", dir + "/" + base})
    if (exists(candidate)) return candidate;
  return "";
}

}  // namespace

std::optional<FashionMnistSplit> readFashionMnist(const std::string& prefix, int64_t limit) {
  const std::string dir = fashionDir();
  const std::string images = findFile(dir, prefix + "-images-idx3-ubyte");
  const std::string labels = findFile(dir, prefix + "-labels-idx1-ubyte");
  if (images.empty() || labels.empty()) return std::nullopt;
  FashionMnistSplit split;
  int64_t imageRows = 0, labelRows = 0;
  const size_t header = 16, rows = size_t(limit);
  const std::string pixels = idxPayload(readMaybeGzipped(images, header + rows * 28 * 28), 3, 28 * 28, limit, &imageRows);
  const std::string classes = idxPayload(readMaybeGzipped(labels, header + rows), 1, 1, limit, &labelRows);
  if (imageRows != labelRows) throw std::runtime_error("Fashion-MNIST image and label counts differ");
  split.pixels.assign(pixels.begin(), pixels.end());
  split.labels.assign(classes.begin(), classes.end());
  for (uint8_t l : split.labels)
    if (l > 9) throw std::runtime_error("Fashion-MNIST label " + std::to_string(l) + " outside 0..9");
  return split;
}

}  // namespace nnc::test
