// Hostile input: thousands of deterministic mutations of the example models must each either
// compile to a graph that verifies or fail with at least one located diagnostic; never crash,
// never fail silently.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "compiler/ir/Verifier.h"
#include "dsl/Frontend.h"

namespace nnc::testing {
namespace {

std::string readExample(const std::string& name) {
  std::ifstream in(std::string(NNC_SOURCE_DIR) + "/examples/" + name);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Splits into identifier/number runs and single other characters, keeping whitespace.
std::vector<std::string> tokens(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t j = i + 1;
    if (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '.')
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '.')) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

TEST(SemaHostile, MutatedExamplesNeverCrashOrFailSilently) {
  const std::vector<std::string> pool = {
      "0", "-1", "1", "3", "2.5", "1e30", "99999999999", "4000000000", "[1, 2]", "[-1, -1]", "[]", "batch",
      "relu", "dense", "flat", "x", "same", "valid", "true", "none", "\"fc\"", "name = \"h1\"", "lr = -1",
      "(", ")", ",", "@", "*", "/", "-", "+", "i32", "f32", "logits", "label", "image", "sum", "concat([a])",
      "reshape(image, [-1])", "train", "output", "param", "axis = 5", "class_weights = [1]", "lstm", "maxout"};
  std::mt19937 rng(12345);
  int compiled = 0, failed = 0;
  for (const char* file : {"fashion_mlp.nn", "fashion_cnn.nn", "sequence_lstm.nn", "maxout_batchnorm.nn",
                           "explicit_params.nn"}) {
    const std::vector<std::string> base = tokens(readExample(file));
    ASSERT_FALSE(base.empty()) << file;
    for (int trial = 0; trial < 400; ++trial) {
      std::vector<std::string> t = base;
      int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        size_t at = rng() % t.size();
        if (t[at].find_first_not_of(" \n\t") == std::string::npos) continue;  // keep layout
        t[at] = rng() % 5 == 0 ? std::string() : pool[rng() % pool.size()];
      }
      std::string text;
      for (const std::string& s : t) text += s;
      DiagnosticEngine diags("fuzz.nn", text);
      std::optional<Model> m = compileModel(text, diags);
      if (m) {
        ++compiled;
        EXPECT_TRUE(verifyGraph(m->graph).ok()) << text;
        EXPECT_FALSE(diags.hasErrors()) << text;
      } else {
        ++failed;
        ASSERT_TRUE(diags.hasErrors()) << "failed silently:\n" << text;
        EXPECT_TRUE(diags.diagnostics()[0].loc.valid()) << text;
      }
    }
  }
  // Both outcomes occur, so the mutations exercise sema and not only the parser.
  EXPECT_GT(compiled, 50);
  EXPECT_GT(failed, 50);
}

}  // namespace
}  // namespace nnc::testing
