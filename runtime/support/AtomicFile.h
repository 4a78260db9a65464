#pragma once
// Writing a file so that readers only ever see the old content or the complete new content:
// the bytes go to a temporary file in the target's directory (same file system, so rename is
// atomic), which is flushed to disk (fsync) and then renamed over the target. On any failure
// the temporary is removed and an existing target is left exactly as it was. Checkpoints
// (`--save`) and predictions (`--out`) are written this way, so a crash, a full disk or a
// kill never leaves a half-written file behind. The temporary is registered with
// Interrupt.h, so SIGINT or SIGTERM removes it too.
#include <cstddef>
#include <string>

#include "support/Result.h"

namespace nnc::io {

class AtomicFile {
 public:
  // Creates the temporary file next to `path`. Errors: the directory is missing, is not a
  // directory, is not writable; `path` is a directory.
  static Result<AtomicFile> create(const std::string& path);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  // Without a successful commit(), removes the temporary: the target is untouched.
  ~AtomicFile();

  // Appends bytes to the temporary (errors: disk full, I/O error).
  Result<void> write(const void* data, size_t size);
  // fsync, rename over the target, then fsync the directory so the rename itself is durable.
  Result<void> commit();
  // Removes the temporary now (also done by the destructor).
  void abandon();

  const std::string& path() const { return path_; }
  const std::string& tempPath() const { return temp_; }

 private:
  AtomicFile(std::string path, std::string temp, int fd, int slot)
      : path_(std::move(path)), temp_(std::move(temp)), fd_(fd), slot_(slot) {}
  std::string path_, temp_;
  int fd_ = -1;
  int slot_ = -1;  // the temporary's registration (Interrupt.h)
};

// Writes `size` bytes to `path` atomically (create + write + commit).
Result<void> writeFileAtomically(const std::string& path, const void* data, size_t size);

// Checks, before any long work starts (training), that `path` could be written later: the
// parent directory exists and is a directory, a probe file can be created in it (and is
// removed again), and `path` is not itself a directory. An unwritable `--save` path thus
// fails in a second instead of after hours of training.
Result<void> checkWritableDestination(const std::string& path);

}  // namespace nnc::io
