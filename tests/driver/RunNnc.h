#pragma once
// Runs the built `nnc` executable and captures its exit status, stdout and stderr.
#include <string>
#include <vector>

namespace nnc::test {

struct RunResult {
  int status = -1;  // exit status; 128+N when killed by signal N
  std::string out;
  std::string err;
};

// Arguments are passed without a shell; `stdinText` is fed to standard input.
RunResult runNnc(const std::vector<std::string>& args, const std::string& stdinText = "");

// A fresh temporary directory, removed by the caller (or left for inspection on failure).
std::string makeTempDir();
std::string writeFile(const std::string& dir, const std::string& name, const std::string& content);

inline std::string sourcePath(const std::string& rel) { return std::string(NNC_SOURCE_DIR) + "/" + rel; }

}  // namespace nnc::test
