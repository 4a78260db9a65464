// The syntax_*.nn golden files (tests/golden/diagnostics): parseModule's rendered output must
// equal the .expected file byte for byte. (The shared golden runner checks the same files
// through compileModel; this test keeps the parser's own files honest meanwhile.)
// NNC_BLESS=1 rewrites the .expected files from the current output.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/Diagnostics.h"
#include "dsl/Frontend.h"

namespace nnc {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> syntaxGoldens() {
  std::vector<fs::path> files;
  fs::path dir = fs::path(NNC_SOURCE_DIR) / "tests/golden/diagnostics";
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("syntax_", 0) == 0 && entry.path().extension() == ".nn") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ParserGolden, SyntaxErrorFilesMatchExpectedOutput) {
  bool bless = std::getenv("NNC_BLESS") != nullptr;
  std::vector<fs::path> files = syntaxGoldens();
  EXPECT_GE(files.size(), 15u);
  for (const fs::path& nn : files) {
    SCOPED_TRACE(nn.filename().string());
    std::string source = readFile(nn);
    DiagnosticEngine diags(nn.filename().string(), source);
    auto module = parseModule(source, diags);
    EXPECT_FALSE(module) << "a syntax golden file must have a syntax error";
    EXPECT_EQ(diags.diagnostics().size(), 1u);
    std::string actual = diags.renderToString();
    fs::path expectedPath = fs::path(nn).replace_extension(".expected");
    if (bless) {
      std::ofstream(expectedPath, std::ios::binary) << actual;
      continue;
    }
    ASSERT_TRUE(fs::exists(expectedPath)) << expectedPath;
    EXPECT_EQ(actual, readFile(expectedPath));
  }
}

}  // namespace
}  // namespace nnc
