#pragma once
// Helpers for the data and checkpoint tests: a scratch directory per test, raw file
// builders (IDX, NPY, gzip) written independently of the code under test, and error checks.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

#include "support/Result.h"

namespace nnc::testutil {

using Bytes = std::vector<uint8_t>;

// A fresh directory under the system temp dir, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nnc-data-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    // Restore permissions a test may have removed so the cleanup succeeds.
    for (auto& e : std::filesystem::recursive_directory_iterator(path_, ec))
      if (e.is_directory(ec)) std::filesystem::permissions(e.path(), std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }
  // Names of the entries in the directory, sorted.
  std::vector<std::string> list() const {
    std::vector<std::string> names;
    for (auto& e : std::filesystem::directory_iterator(path_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::string path_;
};

inline void writeBytes(const std::string& path, const Bytes& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

inline void writeText(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

inline Bytes readBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline Bytes gzipBytes(const Bytes& in) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&zs, uLong(in.size())) + 64);
  zs.next_in = const_cast<uint8_t*>(in.data());
  zs.avail_in = uInt(in.size());
  zs.next_out = out.data();
  zs.avail_out = uInt(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline void appendBE32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
}

// An IDX file: magic 00 00 TYPE RANK, big-endian dims, then the payload as given.
inline Bytes idxFile(uint8_t type, const std::vector<uint32_t>& dims, const Bytes& payload) {
  Bytes b{0, 0, type, uint8_t(dims.size())};
  for (uint32_t d : dims) appendBE32(b, d);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

// A .npy file with the given header dict text (padded as NumPy does) and raw data.
inline Bytes npyFile(const std::string& dict, const Bytes& data, int major = 1) {
  size_t lenBytes = major == 1 ? 2 : 4;
  size_t unpadded = 6 + 2 + lenBytes + dict.size() + 1;
  std::string header = dict + std::string((64 - unpadded % 64) % 64, ' ') + "\n";
  Bytes b{0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(major), 0};
  for (size_t i = 0; i < lenBytes; ++i) b.push_back(uint8_t(header.size() >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

inline std::string npyDict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
}

// The little-endian bytes of a sequence of values.
template <typename T>
Bytes leBytes(std::initializer_list<T> values) {
  Bytes b;
  for (T v : values) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
  }
  return b;
}

// Asserts that `r` failed with a message containing every one of `words`.
template <typename R>
::testing::AssertionResult failsWith(const R& r, std::initializer_list<std::string> words) {
  if (r.ok()) return ::testing::AssertionFailure() << "expected an error, got success";
  const std::string& msg = r.error().message;
  for (auto& w : words)
    if (msg.find(w) == std::string::npos)
      return ::testing::AssertionFailure() << "error message lacks '" << w << "': " << msg;
  if (std::getenv("NNC_SHOW_ERRORS")) std::fprintf(stderr, "  error: %s\n", msg.c_str());
  return ::testing::AssertionSuccess() << msg;
}

}  // namespace nnc::testutil

#define EXPECT_FAILS_WITH(expr, ...) EXPECT_TRUE(::nnc::testutil::failsWith((expr), {__VA_ARGS__}))
#define ASSERT_OK(expr)                                                        \
  do {                                                                         \
    const auto& nnc_ok_ = (expr);                                              \
    ASSERT_TRUE(nnc_ok_.ok()) << nnc_ok_.error().message;                      \
  } while (0)
