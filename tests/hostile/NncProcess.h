#pragma once
// Running the built `nnc` as a user would, with the hostile conditions the tests need: an
// environment variable, a file-size limit (a full disk), and a run that is interrupted with
// SIGINT (Ctrl-C) once its output shows it is under way.
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace nnc::hostile {

// build/bin/nnc of this build tree.
std::string nncPath();

struct RunResult {
  int status = -1;  // the exit status; 128+N when killed by signal N
  std::string out, err;
};

struct RunOptions {
  std::map<std::string, std::string> env;  // added to (or replacing in) the environment
  long fileSizeLimit = -1;                 // RLIMIT_FSIZE in bytes (writes beyond it fail), -1: none
};

RunResult runNnc(const std::vector<std::string>& args, const RunOptions& options = {});

inline RunOptions withEnv(const std::string& key, const std::string& value) {
  RunOptions o;
  o.env[key] = value;
  return o;
}
inline RunOptions withFileSizeLimit(long bytes) {
  RunOptions o;
  o.fileSizeLimit = bytes;
  return o;
}

// A run whose standard output is read while it goes on.
class RunningNnc {
 public:
  explicit RunningNnc(const std::vector<std::string>& args);
  ~RunningNnc();
  RunningNnc(const RunningNnc&) = delete;
  RunningNnc& operator=(const RunningNnc&) = delete;

  // Reads standard output until it holds `text`; false if the process ends first.
  bool waitForOutput(const std::string& text);
  void sendSignal(int sig);
  // Waits for the end; the status as RunResult::status. Collects the rest of the output.
  int wait();

  const std::string& out() const { return out_; }
  std::string err() const;

 private:
  pid_t pid_ = -1;
  int outFd_ = -1;
  std::string out_, errPath_;
  int status_ = -1;
};

// A temporary directory, removed with its contents at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string write(const std::string& name, const std::string& content) const;
  static void writeTo(const std::string& path, const std::string& content);

 private:
  std::string path_;
};

std::string readFile(const std::string& path);
inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
bool fileExists(const std::string& path);

}  // namespace nnc::hostile
