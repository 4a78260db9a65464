#include "NncProcess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace nnc::hostile {

namespace {

int statusOf(int raw) { return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw); }

std::vector<char*> argvFor(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

// In the child, after fork: redirect, apply the options, exec. Only async-signal-safe calls
// (plus setenv, fine in a single-threaded child of a test).
[[noreturn]] void execChild(std::vector<std::string> args, int outFd, int errFd, const RunOptions& options) {
  ::dup2(outFd, 1);
  ::dup2(errFd, 2);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, 0);
  for (const auto& [key, value] : options.env) ::setenv(key.c_str(), value.c_str(), 1);
  if (options.fileSizeLimit >= 0) {
    struct rlimit rl{rlim_t(options.fileSizeLimit), rlim_t(options.fileSizeLimit)};
    ::setrlimit(RLIMIT_FSIZE, &rl);
    // Writes past the limit then fail with EFBIG, as on a full disk, instead of a signal.
    ::signal(SIGXFSZ, SIG_IGN);
  }
  ::signal(SIGINT, SIG_DFL);
  std::vector<char*> argv = argvFor(args);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

std::vector<std::string> withExe(const std::vector<std::string>& args) {
  std::vector<std::string> all = {nncPath()};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

}  // namespace

std::string nncPath() { return std::string(NNC_BINARY_DIR) + "/bin/nnc"; }

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool fileExists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

TempDir::TempDir() {
  std::string tmpl = "/tmp/nnc-hostile-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  // Tests make directories unwritable or put files where directories are expected: restore
  // write permission so that everything can be removed.
  for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_directory(ec)) std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all, ec);
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string p = file(name);
  writeTo(p, content);
  return p;
}

void TempDir::writeTo(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

RunResult runNnc(const std::vector<std::string>& args, const RunOptions& options) {
  TempDir dir;
  std::string outPath = dir.file("stdout"), errPath = dir.file("stderr");
  int outFd = ::open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int errFd = ::open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  RunResult r;
  pid_t pid = ::fork();
  if (pid == 0) execChild(withExe(args), outFd, errFd, options);
  ::close(outFd);
  ::close(errFd);
  if (pid > 0) {
    int raw = 0;
    ::waitpid(pid, &raw, 0);
    r.status = statusOf(raw);
  }
  r.out = readFile(outPath);
  r.err = readFile(errPath);
  return r;
}

RunningNnc::RunningNnc(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  char tmpl[] = "/tmp/nnc-hostile-stderr-XXXXXX";
  int errFd = ::mkstemp(tmpl);
  errPath_ = tmpl;
  pid_ = ::fork();
  if (pid_ == 0) {
    ::close(fds[0]);
    execChild(withExe(args), fds[1], errFd, {});
  }
  ::close(fds[1]);
  ::close(errFd);
  outFd_ = fds[0];
}

RunningNnc::~RunningNnc() {
  if (pid_ > 0 && status_ < 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (outFd_ >= 0) ::close(outFd_);
  ::unlink(errPath_.c_str());
}

bool RunningNnc::waitForOutput(const std::string& text) {
  char buf[4096];
  while (out_.find(text) == std::string::npos) {
    ssize_t n = ::read(outFd_, buf, sizeof buf);
    if (n <= 0) return false;
    out_.append(buf, size_t(n));
  }
  return true;
}

void RunningNnc::sendSignal(int sig) { ::kill(pid_, sig); }

int RunningNnc::wait() {
  char buf[4096];
  ssize_t n;
  while ((n = ::read(outFd_, buf, sizeof buf)) > 0) out_.append(buf, size_t(n));
  int raw = 0;
  ::waitpid(pid_, &raw, 0);
  status_ = statusOf(raw);
  return status_;
}

std::string RunningNnc::err() const { return readFile(errPath_); }

}  // namespace nnc::hostile
