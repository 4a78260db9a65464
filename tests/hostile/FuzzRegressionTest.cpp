// Replays every input a fuzz target once failed on (tests/fuzz/regressions/<target>/)
// through the same harness the fuzzer ran, so that each finding stays fixed in every build;
// in the sanitizer build (scripts/sanitize.sh) with the same sanitizers. A failure is a
// crash, a sanitizer report or a trapped invariant of the harness, not an assertion here.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <vector>

#include "../fuzz/FrontendHarness.h"
#include "../fuzz/LoaderHarnesses.h"

namespace nnc::fuzz {
namespace {

std::vector<std::filesystem::path> inputsOf(const std::string& target) {
  std::vector<std::filesystem::path> files;
  std::filesystem::path dir = std::filesystem::path(NNC_SOURCE_DIR) / "tests/fuzz/regressions" / target;
  // git keeps no empty folders: a target with no findings yet has no folder in a clone.
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

void replay(const std::string& target, const std::function<void(const uint8_t*, size_t)>& harness) {
  for (const auto& path : inputsOf(target)) {
    SCOPED_TRACE(path.string());
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    harness(bytes.data(), bytes.size());
  }
}

TEST(FuzzRegression, Frontend) { replay("frontend", fuzzFrontend); }
TEST(FuzzRegression, Idx) { replay("idx", fuzzIdx); }
TEST(FuzzRegression, Npy) { replay("npy", fuzzNpy); }
TEST(FuzzRegression, Csv) { replay("csv", fuzzCsv); }
TEST(FuzzRegression, Safetensors) { replay("safetensors", fuzzSafetensors); }

// The seed corpus's data files and every example model go through the harnesses too: the
// invariants the fuzzers check hold on the inputs users actually have.
TEST(FuzzRegression, ExamplesThroughTheFrontendHarness) {
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(NNC_SOURCE_DIR) / "examples")) {
    if (e.path().extension() != ".nn") continue;
    SCOPED_TRACE(e.path().string());
    std::ifstream in(e.path(), std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    fuzzFrontend(bytes.data(), bytes.size());
  }
}

}  // namespace
}  // namespace nnc::fuzz
