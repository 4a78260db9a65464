#pragma once
// Helpers shared by the fuzz targets.
//
// The IDX, NPY and safetensors loaders read files by path (they sniff gzip, stat the size,
// stream). Rather than add a second, in-memory code path that the fuzzer would test instead
// of the real one, each input is placed in an anonymous in-memory file (memfd) and the loader
// is given its /proc/self/fd/N path: the exact code users run, without touching the disk.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace nnc::fuzz {

class MemFile {
 public:
  MemFile(const uint8_t* data, size_t size) {
    fd_ = ::memfd_create("nnc-fuzz", 0);
    if (fd_ < 0) die("memfd_create");
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::write(fd_, data + done, size - done);
      if (n <= 0) die("write");
      done += size_t(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  // A failure of the harness itself, not of the code under test: stop loudly.
  [[noreturn]] static void die(const char* what) {
    std::perror(what);
    std::abort();
  }
  int fd_ = -1;
  std::string path_;
};

// A finding that is not a sanitizer report: an invariant the code under test promises (a
// successful load's shape matching its element count, a verified graph) does not hold.
// Trapping makes libFuzzer save the input as a crash artifact.
#define NNC_FUZZ_CHECK(cond)                                                        \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      __builtin_trap();                                                             \
    }                                                                               \
  } while (0)

}  // namespace nnc::fuzz
