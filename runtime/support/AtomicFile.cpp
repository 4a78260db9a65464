#include "runtime/support/AtomicFile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>

#include "runtime/support/ByteReader.h"
#include "runtime/support/Interrupt.h"

namespace nnc::io {

namespace {

// The directory part of a path ("." when there is none), and the file name part.
std::string parentOf(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string baseOf(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Why `path` cannot be a destination, checked without creating anything; "" when fine.
std::string destinationProblem(const std::string& path) {
  if (path.empty()) return "the output path is empty";
  if (path.back() == '/') return "'" + path + "' names a directory, not a file";
  std::string dir = parentOf(path);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return "cannot write '" + path + "': directory '" + dir + "' does not exist";
    if (errno == ENOTDIR)
      return "cannot write '" + path + "': '" + dir + "' is not a directory (part of the path is a file)";
    return "cannot write '" + path + "': cannot access directory '" + dir + "': " + systemError(errno);
  }
  if (!S_ISDIR(st.st_mode)) return "cannot write '" + path + "': '" + dir + "' is not a directory";
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return "cannot write '" + path + "': it is a directory";
  return "";
}

// Creates a fresh temporary next to `path`: ".NAME.tmp-PID-N" in the same directory. Made by
// hand (not mkstemp) so that it gets the usual 0666 & ~umask permissions the final file
// should have, rather than mkstemp's 0600.
Result<std::pair<std::string, int>> createTemp(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  std::string dir = parentOf(path);
  std::string prefix = (dir == "/" ? "/" : dir + "/") + "." + baseOf(path) + ".tmp-" + std::to_string(getpid()) + "-";
  uint64_t salt = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string temp = prefix + std::to_string((salt + counter.fetch_add(1)) % 1000000007u);
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return std::pair{temp, fd};
    if (errno != EEXIST)
      return makeError("cannot write '" + path + "': cannot create a file in directory '" + dir +
                       "': " + systemError(errno));
  }
  return makeError("cannot write '" + path + "': could not pick an unused temporary file name in '" + dir + "'");
}

}  // namespace

Result<AtomicFile> AtomicFile::create(const std::string& path) {
  if (auto problem = destinationProblem(path); !problem.empty()) return makeError(problem);
  // No signal between creating the temporary and registering it: it could not be removed.
  interrupt::BlockSignals blocked;
  auto temp = createTemp(path);
  if (!temp.ok()) return temp.error();
  int slot = interrupt::registerTemporary(temp->first.c_str());
  return AtomicFile(path, temp->first, temp->second, slot);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)), temp_(std::move(other.temp_)), fd_(other.fd_), slot_(other.slot_) {
  other.fd_ = -1;
  other.slot_ = -1;
  other.temp_.clear();
}

AtomicFile::~AtomicFile() { abandon(); }

void AtomicFile::abandon() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_.empty()) ::unlink(temp_.c_str());
  temp_.clear();
  interrupt::unregisterTemporary(slot_);
  slot_ = -1;
}

Result<void> AtomicFile::write(const void* data, size_t size) {
  if (fd_ < 0) return makeError("cannot write '" + path_ + "': the file is already closed");
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      abandon();
      return makeError("cannot write '" + path_ + "': " + systemError(err));
    }
    p += n;
    size -= size_t(n);
  }
  return {};
}

Result<void> AtomicFile::commit() {
  if (fd_ < 0) return makeError("cannot write '" + path_ + "': the file is already closed");
  interrupt::testPoint("file-write");
  // fsync before rename: otherwise a crash soon after could leave the new name pointing at
  // data that never reached the disk (an empty or partial file), the very thing we avoid.
  if (::fsync(fd_) != 0) {
    int err = errno;
    abandon();
    return makeError("cannot write '" + path_ + "': " + systemError(err));
  }
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    int err = errno;
    abandon();
    return makeError("cannot write '" + path_ + "': " + systemError(err));
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    abandon();
    return makeError("cannot write '" + path_ + "': cannot rename the temporary file into place: " +
                     systemError(err));
  }
  temp_.clear();
  interrupt::unregisterTemporary(slot_);
  slot_ = -1;
  // Make the rename durable too. Best effort: some file systems refuse fsync on directories.
  int dirFd = ::open(parentOf(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    (void)::fsync(dirFd);
    ::close(dirFd);
  }
  return {};
}

Result<void> writeFileAtomically(const std::string& path, const void* data, size_t size) {
  auto file = AtomicFile::create(path);
  if (!file.ok()) return file.error();
  NNC_TRY(file->write(data, size));
  return file->commit();
}

Result<void> checkWritableDestination(const std::string& path) {
  if (auto problem = destinationProblem(path); !problem.empty()) return makeError(problem);
  // Permissions, read-only mounts, ACLs and quotas are only really known by trying, so
  // create the same kind of temporary the real write will use, and remove it.
  interrupt::BlockSignals blocked;
  auto probe = createTemp(path);
  if (!probe.ok()) return probe.error();
  ::close(probe->second);
  ::unlink(probe->first.c_str());
  return {};
}

}  // namespace nnc::io
