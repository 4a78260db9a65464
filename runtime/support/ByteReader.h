#pragma once
// Sequential reading of a data file that may be gzip-compressed. The format is detected from
// the magic bytes (1f 8b), never from the file name, so `train.idx` holding gzip data and
// `train.idx.gz` holding plain data both load.
//
// Loaders never trust a size a header claims: for a plain file the real size is known up
// front (remaining()), and for gzip, whose decompressed size is only known by decompressing,
// readUpTo() grows its buffer chunk by chunk as bytes actually arrive. Either way a header
// claiming 10^15 elements in a tiny file fails after reading what is there, without ever
// allocating what the header claims.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/Result.h"

namespace nnc::io {

class ByteReader {
 public:
  // Opens `path` and sniffs the first bytes. Errors name the path and the system's reason.
  static Result<ByteReader> open(const std::string& path);

  ByteReader(ByteReader&&) noexcept;
  ByteReader& operator=(ByteReader&&) noexcept;
  ~ByteReader();

  const std::string& path() const;
  bool isGzip() const;
  // Bytes of content (decompressed, for gzip) consumed so far: the offset errors report.
  uint64_t offset() const;
  // Bytes of content left, when known without reading them: plain regular files only.
  std::optional<uint64_t> remaining() const;

  // Reads up to n bytes into dst; returns fewer only at the end of the content. Errors: an
  // I/O error, a corrupt gzip stream, a gzip stream cut short, garbage after the gzip data.
  Result<size_t> read(void* dst, size_t n);

  // Reads up to n more bytes and appends them to out, growing it as data arrives (never
  // reserving n up front). Returns how many bytes were appended (< n only at the end).
  Result<uint64_t> readUpTo(std::vector<uint8_t>& out, uint64_t n);

  // Counts the rest of the content (for gzip by reading and discarding it; a plain file just
  // reports its size, without moving), returning how many bytes it held; stops
  // counting once `cap` is passed (the result is then cap + 1), so garbage never costs more
  // than cap bytes of work.
  Result<uint64_t> skipRest(uint64_t cap);

 private:
  struct Impl;
  explicit ByteReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The whole content of a (possibly gzip) file, refusing more than maxBytes of it.
Result<std::vector<uint8_t>> readWholeFile(const std::string& path, uint64_t maxBytes);

// "No such file or directory" etc. for errno, for messages.
std::string systemError(int err);

}  // namespace nnc::io
