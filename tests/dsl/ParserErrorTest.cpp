// Syntax errors: each malformed input gives exactly one error, at the exact line and column,
// saying what was expected and what was found.
#include <gtest/gtest.h>

#include <set>

#include "tests/dsl/ParserTestHelpers.h"

namespace nnc {
namespace {

using parser_test::loc;
using parser_test::parse;

struct ErrorCase {
  const char* name;
  std::string source;
  const char* where;  // "LINE:COL"
  std::string message;
};

std::string nested(const std::string& open, size_t n, const std::string& inner = "x") {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += open;
  return s + inner;
}

std::vector<ErrorCase> errorCases() {
  std::string sum300 = "x";
  for (int i = 0; i < 300; ++i) sum300 += " + x";
  return {
      // --- the file's header ---
      {"empty file", "", "1:1", "expected 'model NAME' at the start of the file, found end of file"},
      {"whitespace only", "  \n\t\n\n", "1:1", "expected 'model NAME' at the start of the file, found end of file"},
      {"comments only", "# a\n# b\n", "1:1", "expected 'model NAME' at the start of the file, found end of file"},
      {"missing header", "# hi\ninput x: f32[3]\n", "2:1",
       "expected 'model NAME' at the start of the file, found 'input'"},
      {"misspelt model", "modle m\n", "1:1", "unknown keyword 'modle' (did you mean 'model'?)"},
      {"missing model name", "model\ninput x: f32[3]\n", "2:1",
       "expected a model name after 'model', found 'input'"},
      {"model name is a number", "model 3\n", "1:7", "expected a model name after 'model', found '3'"},
      {"second model line", "model m\nmodel n\n", "2:1",
       "expected a declaration (input, param, output, train or NAME = EXPR), found 'model'"},

      // --- declarations ---
      {"misspelt input", "model m\ninptu image: f32[batch, 28]\n", "2:1",
       "unknown keyword 'inptu' (did you mean 'input'?)"},
      {"misspelt param", "model m\nparm w: f32[3]\n", "2:1", "unknown keyword 'parm' (did you mean 'param'?)"},
      {"misspelt output", "model m\noutptu y\n", "2:1", "unknown keyword 'outptu' (did you mean 'output'?)"},
      {"misspelt train", "model m\ntrian { batch = 1 }\n", "2:1", "unknown keyword 'trian' (did you mean 'train'?)"},
      {"unknown keyword", "model m\nconst c = 1\n", "2:1",
       "unknown keyword 'const': a declaration starts with input, param, output or train, or is NAME = EXPR"},
      {"missing '=' after name", "model m\ny 3\n", "2:3", "expected '=' after name 'y', found '3'"},
      {"typed assignment", "model m\ny: f32[3]\n", "2:2", "expected '=' after name 'y', found ':'"},
      {"missing input name", "model m\ninput : f32[3]\n", "2:7", "expected a name after 'input', found ':'"},
      {"keyword as a name", "model m\ninput input: f32[3]\n", "2:7", "expected a name after 'input', found 'input'"},
      {"missing colon", "model m\ninput image f32[3]\n", "2:13",
       "expected ':' and a type after input name 'image', found 'f32'"},
      {"missing param colon", "model m\nparam w = zeros\n", "2:9",
       "expected ':' and a type after param name 'w', found '='"},
      {"missing type", "model m\ninput x:\n", "2:9", "expected a type such as f32[batch, 10] after ':', found end of file"},
      {"type with parentheses", "model m\ninput x: f32(3)\n", "2:13",
       "expected '[' after element type 'f32' (a type is written like f32[batch, 10]), found '('"},
      {"unclosed shape", "model m\ninput x: f32[3 4]\n", "2:16", "expected ']' to close the shape opened at 2:13, found '4'"},
      {"dimension after comma", "model m\ninput x: f32[3, ]\n", "2:17",
       "expected a dimension (an integer or 'batch') after ',', found ']'"},
      {"negative dimension", "model m\ninput x: f32[-1]\n", "2:14",
       "expected ']' to close the shape opened at 2:13, found '-'"},
      {"fractional dimension", "model m\ninput x: f32[2.5]\n", "2:14",
       "a dimension is an integer or 'batch', found '2.5'"},
      {"huge dimension", "model m\ninput x: f32[99999999999999999999]\n", "2:14",
       "number '99999999999999999999' is out of range"},
      {"missing initializer", "model m\nparam w: f32[3] =\n", "2:18", "expected an initializer after '=', found end of file"},
      {"missing output name", "model m\noutput = 3\n", "2:8", "expected a name after 'output', found '='"},
      {"missing value", "model m\ny =\n\n# the end\n", "2:4", "expected an expression after '=', found end of file"},
      {"not a declaration", "model m\ny = 1\n) z\n", "3:1",
       "expected a declaration (input, param, output, train or NAME = EXPR), found ')'"},

      // --- the train block ---
      {"train without brace", "model m\ntrain = 3\n", "2:7", "expected '{' after 'train', found '='"},
      {"train key without '='", "model m\ntrain {\n  batch 64\n}\n", "3:9", "expected '=' after train key 'batch', found '64'"},
      {"train value missing", "model m\ntrain { batch = }\n", "2:17", "expected an expression after '=', found '}'"},
      {"train block not closed", "model m\ntrain {\n  batch = 8\n", "3:12",
       "expected a KEY = EXPR entry or '}' to close the train block opened at 2:7, found end of file"},
      {"train entry garbage", "model m\ntrain { batch = 8, epochs = 2 }\n", "2:18",
       "expected a KEY = EXPR entry or '}' to close the train block opened at 2:7, found ','"},

      // --- expressions ---
      {"call not closed", "model m\nh = dense(x, 8 relu)\n", "2:16",
       "expected ')' to close the call to 'dense' opened at 2:10, found 'relu'"},
      {"call not closed at end", "model m\nh = dense(x,\n  8", "3:4",
       "expected ')' to close the call to 'dense' opened at 2:10, found end of file"},
      {"argument after comma", "model m\ny = f(a, )\n", "2:10", "expected an argument after ',', found ')'"},
      {"keyword value missing", "model m\ny = f(a, k = )\n", "2:14",
       "expected a value for keyword argument 'k', found ')'"},
      {"positional after keyword", "model m\ny = dense(x, units = 3, relu)\n", "2:25",
       "positional argument after keyword argument 'units': positional arguments come first"},
      {"list not closed", "model m\ny = [1, 2\nz = 3\n", "3:1", "expected ']' to close the list opened at 2:5, found 'z'"},
      {"list item after comma", "model m\ny = [1, ]\n", "2:9", "expected a list item after ',', found ']'"},
      {"paren not closed", "model m\ny = (a + b\nz = 1\n", "3:1", "expected ')' to close the '(' opened at 2:5, found 'z'"},
      {"empty parentheses", "model m\ny = ()\n", "2:6", "expected an expression after '(', found ')'"},
      {"dangling plus", "model m\ny = a +", "2:8", "expected an expression after '+', found end of file"},
      {"dangling minus", "model m\ny = a -\n", "2:8", "expected an expression after '-', found end of file"},
      {"dangling times", "model m\ny = f(a *)\n", "2:10", "expected an expression after '*', found ')'"},
      {"dangling matmul", "model m\ny = a @ @ b\n", "2:9", "expected an expression after '@', found '@'"},
      {"dangling unary minus", "model m\ny = [-]\n", "2:7", "expected an expression after '-', found ']'"},
      {"missing operand after slash", "model m\ny = 1 / \"s\" / ,\n", "2:15", "expected an expression after '/', found ','"},
      {"keyword in an expression", "model m\ny = train\n", "2:5", "expected an expression after '=', found 'train'"},

      // --- lexical errors ---
      {"number out of range", "model m\nlr = 1e999\n", "2:6", "number '1e999' is out of range"},
      {"tiny number", "model m\nlr = 1e-999\n", "2:6", "number '1e-999' is out of range"},
      {"integer out of range", "model m\nn = 9223372036854775808\n", "2:5",
       "number '9223372036854775808' is out of range"},
      {"invalid number", "model m\ny = 3x\n", "2:5", "invalid number '3x'"},
      {"two decimal points", "model m\ny = 1.2.3\n", "2:5", "invalid number '1.2.3'"},
      {"exponent without digits", "model m\ny = 2e+\n", "2:5", "invalid number '2e+'"},
      {"lone dot", "model m\ny = a. b\n", "2:6", "unexpected character '.'"},  // a.b reads a parameter
      {"stray dollar", "model m\ny = a $ b\n", "2:7", "unexpected character '$'"},
      {"semicolon", "model m\ny = 1;\n", "2:6", "unexpected character ';'"},
      {"single quotes", "model m\ny = f(name = 'fc')\n", "2:14", "unexpected character '''"},
      {"unterminated string", "model m\ny = f(name = \"fc)\nz = 1\n", "2:14",
       "unterminated string: a string ends with '\"' on the same line"},
      {"control character in string", "model m\ny = \"a\tb\"\n", "2:7", "unexpected character '\\x09' in a string"},
      {"NUL byte", std::string("model m\ny = 1\0\0", 15), "2:6", "unexpected character '\\x00'"},
      {"binary header", "\x7f" "ELF\x02\x01\x01", "1:1", "unexpected character '\\x7f'"},
      {"invalid UTF-8", "model m\n# caf\xe9 is fine in a comment\ny = caf\xe9\n", "3:8", "unexpected character '\\xe9'"},
      {"non-ASCII letter", "model m\ny = caf\xC3\xA9\n", "2:8", "unexpected character '\xC3\xA9' (U+00E9)"},
      {"invalid UTF-8 in string", "model m\ny = \"a\xff\"\n", "2:7", "unexpected character '\\xff' in a string"},

      // --- limits ---
      {"deep parentheses", "model m\ny = " + nested("(", 100000), "2:261", "nesting deeper than 256 levels (the limit)"},
      {"deep lists", "model m\ny = " + nested("[", 100000), "2:261", "nesting deeper than 256 levels (the limit)"},
      {"deep minus", "model m\ny = " + nested("-", 100000), "2:261", "nesting deeper than 256 levels (the limit)"},
      {"deep calls", "model m\ny = " + nested("f(", 100000), "2:518", "nesting deeper than 256 levels (the limit)"},
      {"deep mixed", "model m\ny = " + nested("-f([(", 100000), "2:325", "nesting deeper than 256 levels (the limit)"},
      {"long chain", "model m\ny = " + sum300 + "\n", "2:1031",
       "expression nested deeper than 256 levels (the limit); split it into named values"},

      // --- the first error wins ---
      {"grammar error before a stray byte", "model m\ny = )\n$\n", "2:5", "expected an expression after '=', found ')'"},
      {"stray byte where a token was expected", "model m\ny = (a\n$\n", "3:1", "unexpected character '$'"},
      {"number error before a stray byte", "model m\ny = 1e999\nz = $\n", "2:5", "number '1e999' is out of range"},
      {"positional error before a stray byte", "model m\ny = f(a = 1, b)\nz = $\n", "2:14",
       "positional argument after keyword argument 'a': positional arguments come first"},
      {"positional error before a grammar error", "model m\ny = f(a = 1, b)\nz = )\n", "2:14",
       "positional argument after keyword argument 'a': positional arguments come first"},
      {"chain error before a stray byte", "model m\ny = " + sum300 + "\nz = \"a\x01\"\n", "2:1031",
       "expression nested deeper than 256 levels (the limit); split it into named values"},
      {"grammar error before deep nesting", "model m\ny = ]\nz = " + nested("(", 1000), "2:5",
       "expected an expression after '=', found ']'"},
  };
}

TEST(ParserErrors, ExactPositionAndMessage) {
  for (const ErrorCase& c : errorCases()) {
    SCOPED_TRACE(c.name);
    auto p = parse(c.source);
    EXPECT_FALSE(p.module);
    ASSERT_EQ(p.diags.size(), 1u) << p.rendered;
    EXPECT_EQ(loc(p.diags[0].loc), c.where);
    EXPECT_EQ(p.diags[0].message, c.message);
  }
}

TEST(ParserErrors, AtLeastFifteenDistinctCases) {
  std::set<std::string> messages;
  for (const ErrorCase& c : errorCases()) messages.insert(c.message);
  EXPECT_GE(messages.size(), 15u);
}

TEST(ParserErrors, RenderedWithSourceLineAndCaret) {
  auto p = parse("model m\nh = dense(x, 8 relu)\n");
  EXPECT_EQ(p.rendered,
            "test.nn:2:16: error: expected ')' to close the call to 'dense' opened at 2:10, found 'relu'\n"
            "h = dense(x, 8 relu)\n"
            "               ^\n");
}

TEST(ParserErrors, LongTokensAreShortenedInMessages) {
  std::string name(1000, 'a');
  auto p = parse("model m\ny = 1 " + name + "(\n");
  ASSERT_EQ(p.diags.size(), 1u);
  EXPECT_EQ(p.diags[0].message, "expected '=' after name '" + std::string(40, 'a') + "...', found '('");
  auto q = parse("model m\ny \"" + name + "\"\n");
  ASSERT_EQ(q.diags.size(), 1u);
  EXPECT_EQ(q.diags[0].message, "expected '=' after name 'y', found string \"" + std::string(39, 'a') + "...");
}

TEST(ParserErrors, SmallerLimitsAreHonoured) {
  FrontendLimits limits;
  limits.maxNesting = 3;
  EXPECT_TRUE(parse("model m\ny = [[[1]]]\nz = f(g(-x))\nw = (((a)))\n", limits).module);
  auto deep = parse("model m\ny = [[[[1]]]]\n", limits);
  ASSERT_EQ(deep.diags.size(), 1u);
  EXPECT_EQ(loc(deep.diags[0].loc), "2:8");
  EXPECT_EQ(deep.diags[0].message, "nesting deeper than 3 levels (the limit)");
  EXPECT_TRUE(parse("model m\ny = a + b + c + d\n", limits).module);
  auto chain = parse("model m\ny = a + b + c + d + e\n", limits);
  ASSERT_EQ(chain.diags.size(), 1u);
  EXPECT_EQ(loc(chain.diags[0].loc), "2:19");
  EXPECT_EQ(chain.diags[0].message, "expression nested deeper than 3 levels (the limit); split it into named values");
  // Brackets and operators together: [[a + b]] is three levels deep, [[[a + b]]] four.
  EXPECT_TRUE(parse("model m\ny = [[a + b]]\n", limits).module);
  auto mixed = parse("model m\ny = [[[a + b]]]\n", limits);
  ASSERT_EQ(mixed.diags.size(), 1u);
  EXPECT_EQ(loc(mixed.diags[0].loc), "2:5");

  limits.maxSourceBytes = 10;
  auto big = parse("model abcdefgh\n", limits);
  ASSERT_EQ(big.diags.size(), 1u);
  EXPECT_EQ(loc(big.diags[0].loc), "1:1");
  EXPECT_EQ(big.diags[0].message, "the file is 15 bytes, more than the limit of 10 bytes");
  EXPECT_TRUE(parse("model abcd", limits).module);
}

}  // namespace
}  // namespace nnc
