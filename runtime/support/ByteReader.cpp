#include "runtime/support/ByteReader.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

namespace nnc::io {

std::string systemError(int err) { return std::strerror(err); }

namespace {
constexpr size_t kInputBuffer = 1 << 16;
// Chunks by which readUpTo grows its output: memory follows the data actually present. They
// double from the first to the largest, so a small gzip file whose header claims a huge
// size costs a small buffer, not 16 MiB zero-filled per read (which slowed fuzzing 10x).
constexpr uint64_t kFirstGrowChunk = uint64_t(64) << 10;
constexpr uint64_t kGrowChunk = uint64_t(16) << 20;
}  // namespace

struct ByteReader::Impl {
  std::string path;
  std::FILE* file = nullptr;
  bool gzip = false;
  bool regular = false;
  uint64_t fileSize = 0;

  // Raw (compressed, for gzip) bytes read from the file but not yet consumed.
  std::vector<uint8_t> in = std::vector<uint8_t>(kInputBuffer);
  size_t inPos = 0, inLen = 0;
  uint64_t rawRead = 0;  // raw bytes read from the file so far
  bool rawEof = false;

  uint64_t contentOffset = 0;

  // gzip state. z_stream holds a pointer back to itself inside zlib's state, so it lives
  // here, behind the unique_ptr, and is never moved.
  z_stream zs{};
  bool zInit = false;
  bool memberDone = false;  // the current gzip member reached its end

  ~Impl() {
    if (zInit) inflateEnd(&zs);
    if (file) std::fclose(file);
  }

  uint64_t rawConsumed() const { return rawRead - (inLen - inPos); }

  // Makes at least `want` unconsumed raw bytes available if the file has them.
  Result<void> fillAtLeast(size_t want) {
    if (inLen - inPos >= want || rawEof) return {};
    std::memmove(in.data(), in.data() + inPos, inLen - inPos);
    inLen -= inPos;
    inPos = 0;
    while (inLen < want && !rawEof) {
      size_t got = std::fread(in.data() + inLen, 1, in.size() - inLen, file);
      rawRead += got;
      inLen += got;
      if (got == 0) {
        if (std::ferror(file)) return makeError(path + ": read error: " + systemError(errno));
        rawEof = true;
      }
    }
    return {};
  }

  Result<size_t> readPlain(uint8_t* dst, size_t n) {
    size_t done = std::min(n, inLen - inPos);
    std::memcpy(dst, in.data() + inPos, done);
    inPos += done;
    while (done < n && !rawEof) {
      size_t got = std::fread(dst + done, 1, n - done, file);
      rawRead += got;
      done += got;
      if (got == 0) {
        if (std::ferror(file)) return makeError(path + ": read error: " + systemError(errno));
        rawEof = true;
      }
    }
    return done;
  }

  Result<size_t> readGzip(uint8_t* dst, size_t n) {
    size_t done = 0;
    while (done < n) {
      if (memberDone) {
        // Another gzip member may follow (concatenated .gz files are valid gzip); anything
        // else after the compressed data is garbage, which usually means a damaged file.
        NNC_TRY(fillAtLeast(2));
        if (inLen == inPos) break;  // the real end of the content
        if (inLen - inPos < 2 || in[inPos] != 0x1f || in[inPos + 1] != 0x8b)
        {
          std::string count = regular ? std::to_string(fileSize - rawConsumed()) + " bytes of " : "";
          return makeError(path + ": " + count + "garbage after the end of the gzip data (at compressed byte offset " +
                           std::to_string(rawConsumed()) + ")");
        }
        inflateReset(&zs);
        memberDone = false;
      }
      NNC_TRY(fillAtLeast(1));
      if (inLen == inPos)
        return makeError(path + ": truncated gzip stream: the compressed data ends after " +
                         std::to_string(contentOffset + done) +
                         " decompressed bytes, before the end of the stream (the file is incomplete)");
      zs.next_in = in.data() + inPos;
      zs.avail_in = unsigned(inLen - inPos);
      zs.next_out = dst + done;
      zs.avail_out = unsigned(std::min<size_t>(n - done, UINT_MAX));
      int rc = inflate(&zs, Z_NO_FLUSH);
      inPos = size_t(zs.next_in - in.data());
      done = size_t(zs.next_out - dst);
      if (rc == Z_STREAM_END) {
        memberDone = true;
      } else if (rc == Z_BUF_ERROR) {
        // No progress with input available only happens when input ran out; loop refills.
        continue;
      } else if (rc != Z_OK) {
        return makeError(path + ": corrupt gzip data near compressed byte offset " +
                         std::to_string(rawConsumed()) + ": " + (zs.msg ? zs.msg : "inflate failed"));
      }
    }
    return done;
  }
};

ByteReader::ByteReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ByteReader::ByteReader(ByteReader&&) noexcept = default;
ByteReader& ByteReader::operator=(ByteReader&&) noexcept = default;
ByteReader::~ByteReader() = default;

Result<ByteReader> ByteReader::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->file = std::fopen(path.c_str(), "rb");
  if (!impl->file) return makeError("cannot open '" + path + "': " + systemError(errno));
  struct stat st;
  if (fstat(fileno(impl->file), &st) != 0)
    return makeError("cannot read '" + path + "': " + systemError(errno));
  if (S_ISDIR(st.st_mode)) return makeError("cannot read '" + path + "': it is a directory, not a file");
  impl->regular = S_ISREG(st.st_mode);
  impl->fileSize = impl->regular ? uint64_t(st.st_size) : 0;
  NNC_TRY(impl->fillAtLeast(2));
  if (impl->inLen >= 2 && impl->in[0] == 0x1f && impl->in[1] == 0x8b) {
    impl->gzip = true;
    // 15 + 16: the largest window, and expect a gzip (not zlib) wrapper.
    if (inflateInit2(&impl->zs, 15 + 16) != Z_OK)
      return makeError("cannot read '" + path + "': zlib failed to initialise");
    impl->zInit = true;
  }
  return ByteReader(std::move(impl));
}

const std::string& ByteReader::path() const { return impl_->path; }
bool ByteReader::isGzip() const { return impl_->gzip; }
uint64_t ByteReader::offset() const { return impl_->contentOffset; }

std::optional<uint64_t> ByteReader::remaining() const {
  if (impl_->gzip || !impl_->regular) return std::nullopt;
  uint64_t consumed = impl_->rawConsumed();
  return impl_->fileSize > consumed ? impl_->fileSize - consumed : 0;
}

Result<size_t> ByteReader::read(void* dst, size_t n) {
  auto* out = static_cast<uint8_t*>(dst);
  Result<size_t> got = impl_->gzip ? impl_->readGzip(out, n) : impl_->readPlain(out, n);
  if (got.ok()) impl_->contentOffset += *got;
  return got;
}

Result<uint64_t> ByteReader::readUpTo(std::vector<uint8_t>& out, uint64_t n) {
  uint64_t total = 0;
  while (total < n) {
    uint64_t chunk = std::min(n - total, std::clamp<uint64_t>(total, kFirstGrowChunk, kGrowChunk));
    if (auto rem = remaining()) chunk = std::min(chunk, *rem);  // plain file: exact size
    if (chunk == 0) break;
    size_t old = out.size();
    out.resize(old + chunk);
    auto got = read(out.data() + old, size_t(chunk));
    if (!got.ok()) {
      out.resize(old);
      return got.error();
    }
    out.resize(old + *got);
    total += *got;
    if (*got < chunk) break;
  }
  return total;
}

Result<uint64_t> ByteReader::skipRest(uint64_t cap) {
  if (auto rem = remaining()) return std::min(*rem, cap + 1);
  std::vector<uint8_t> scratch(kInputBuffer);
  uint64_t total = 0;
  while (total <= cap) {
    auto got = read(scratch.data(), scratch.size());
    if (!got.ok()) return got.error();
    if (*got == 0) break;
    total += *got;
  }
  return std::min(total, cap + 1);
}

Result<std::vector<uint8_t>> readWholeFile(const std::string& path, uint64_t maxBytes) {
  auto reader = ByteReader::open(path);
  if (!reader.ok()) return reader.error();
  std::vector<uint8_t> bytes;
  auto got = reader->readUpTo(bytes, maxBytes);
  if (!got.ok()) return got.error();
  auto more = reader->skipRest(0);
  if (!more.ok()) return more.error();
  if (*more > 0)
    return makeError(path + ": file too large: more than " + std::to_string(maxBytes) + " bytes");
  return bytes;
}

}  // namespace nnc::io
