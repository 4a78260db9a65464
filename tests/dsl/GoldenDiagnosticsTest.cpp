// Golden diagnostics: every tests/golden/diagnostics/NAME.nn is compiled and its rendered
// errors compared, exactly, with NAME.expected. With NNC_UPDATE_GOLDEN=1 in the environment
// the .expected files are rewritten instead (review the diff before committing).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dsl/Frontend.h"

namespace nnc::testing {
namespace {

namespace fs = std::filesystem;

fs::path goldenDir() { return fs::path(NNC_SOURCE_DIR) / "tests" / "golden" / "diagnostics"; }

std::vector<std::string> goldenCases() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(goldenDir(), ec))
    if (e.path().extension() == ".nn") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class GoldenDiagnostics : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenDiagnostics, MatchesExpected) {
  const std::string name = GetParam();
  const fs::path source = goldenDir() / (name + ".nn"), expected = goldenDir() / (name + ".expected");
  const std::string text = readFile(source);
  DiagnosticEngine diags(name + ".nn", text);
  std::optional<Model> model = compileModel(text, diags);
  const std::string actual = diags.renderToString();
  EXPECT_FALSE(model.has_value()) << name << ".nn compiled without errors";

  const char* update = std::getenv("NNC_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::ofstream(expected, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(expected)) << "missing " << expected << "; run with NNC_UPDATE_GOLDEN=1 to create it";
  EXPECT_EQ(actual, readFile(expected)) << "diagnostics of " << name << ".nn";
}

INSTANTIATE_TEST_SUITE_P(Files, GoldenDiagnostics, ::testing::ValuesIn(goldenCases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });
// No golden files yet is not an error of the suite.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GoldenDiagnostics);

}  // namespace
}  // namespace nnc::testing
