// The depth limit at its boundary, as docs/language.md states it: a chain of binary operators
// counts one level per operator, so with the default limit of 256 a sum of 257 terms (256 `+`)
// compiles, and a sum of 258 terms is refused at its 257th `+` with the message that names
// the limit. A smaller limit moves the boundary with it.
#include <gtest/gtest.h>

#include <string>

#include "dsl/Frontend.h"
#include "support/Diagnostics.h"

namespace nnc {
namespace {

std::string sumOf(int terms) {
  std::string sum = "x";
  for (int i = 1; i < terms; ++i) sum += " + x";
  return "model s\ninput x: f32[batch, 2]\noutput y = " + sum + "\n";
}

struct Compiled {
  bool ok = false;
  std::vector<Diagnostic> diags;
};

Compiled compile(const std::string& text, const FrontendLimits& limits = {}) {
  DiagnosticEngine diags("sum.nn", text);
  Compiled c;
  c.ok = compileModel(text, diags, limits).has_value();
  c.diags = diags.diagnostics();
  return c;
}

TEST(DepthLimitBoundary, SumOf257TermsCompilesAnd258DoNot) {
  const FrontendLimits defaults;
  ASSERT_EQ(defaults.maxNesting, 256u) << "the documented default";
  Compiled at = compile(sumOf(257));
  EXPECT_TRUE(at.ok);
  EXPECT_TRUE(at.diags.empty());

  Compiled over = compile(sumOf(258));
  EXPECT_FALSE(over.ok);
  ASSERT_EQ(over.diags.size(), 1u);
  EXPECT_EQ(over.diags[0].message, "expression nested deeper than 256 levels (the limit); split it into named values");
  // "output y = x" is 12 columns, then " + x" per term: the 257th '+' is at column 14 + 4 * 256.
  EXPECT_EQ(over.diags[0].loc.line, 3u);
  EXPECT_EQ(over.diags[0].loc.col, 14u + 4u * 256u);
}

TEST(DepthLimitBoundary, TheBoundaryFollowsTheLimit) {
  FrontendLimits limits;
  limits.maxNesting = 10;
  EXPECT_TRUE(compile(sumOf(11), limits).ok);
  Compiled over = compile(sumOf(12), limits);
  EXPECT_FALSE(over.ok);
  ASSERT_EQ(over.diags.size(), 1u);
  EXPECT_EQ(over.diags[0].message, "expression nested deeper than 10 levels (the limit); split it into named values");
}

}  // namespace
}  // namespace nnc
