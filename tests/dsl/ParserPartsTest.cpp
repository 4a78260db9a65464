// The parser's parts on their own: the scanner, number literals, the line index, and the
// link between the grammar's expectation points and the message table.
#include <gtest/gtest.h>

#include <set>

#include "support/Suggest.h"
#include "dsl/parser/GrammarRunner.h"
#include "dsl/parser/LineIndex.h"
#include "dsl/parser/NumberLiteral.h"
#include "dsl/parser/Scanner.h"
#include "dsl/parser/SyntaxMessages.h"

namespace nnc::syntax {
namespace {

std::vector<std::string> tokens(std::string_view text) {
  std::vector<std::string> out;
  for (size_t pos = 0;;) {
    Token t = nextToken(text, pos);
    if (t.kind == TokenKind::End) return out;
    out.emplace_back(text.substr(t.begin, t.end - t.begin));
    pos = t.end;
  }
}

TEST(ParserScanner, SplitsTokens) {
  EXPECT_EQ(tokens("h1 = dense(x, 1e-3) # c\n@ .5 \"a b\""),
            (std::vector<std::string>{"h1", "=", "dense", "(", "x", ",", "1e-3", ")", "@", ".5", "\"a b\""}));
  EXPECT_EQ(tokens("3x 1.2.3 2e+5-1"), (std::vector<std::string>{"3x", "1.2.3", "2e+5", "-", "1"}));
  // A parameter reference (`fc.weight`) is one token; a dot that no identifier follows is not.
  EXPECT_EQ(tokens("a.b fc.weight"), (std::vector<std::string>{"a.b", "fc.weight"}));
  EXPECT_EQ(tokens("a. b"), (std::vector<std::string>{"a", ".", "b"}));
}

TEST(ParserScanner, Kinds) {
  EXPECT_EQ(nextToken("  \"abc", 0).kind, TokenKind::UnterminatedString);
  EXPECT_EQ(nextToken("\"a\nb\"", 0).kind, TokenKind::UnterminatedString);
  EXPECT_EQ(nextToken("$", 0).kind, TokenKind::BadChar);
  EXPECT_EQ(nextToken(".", 0).kind, TokenKind::BadChar);
  EXPECT_EQ(nextToken("# only a comment", 0).kind, TokenKind::End);
  Token e = nextToken("\xC3\xA9x", 0);
  EXPECT_EQ(e.kind, TokenKind::BadChar);
  EXPECT_EQ(e.end, 2u);  // a whole UTF-8 character
}

TEST(ParserScanner, DescribesCharactersAndTokens) {
  EXPECT_EQ(describeChar("$", 0), "'$'");
  EXPECT_EQ(describeChar(std::string_view("\0", 1), 0), "'\\x00'");
  EXPECT_EQ(describeChar("\xff", 0), "'\\xff'");
  EXPECT_EQ(describeChar("\xC3\xA9", 0), "'\xC3\xA9' (U+00E9)");
  EXPECT_EQ(describeChar("\xF0\x9F\x98\x80", 0), "'\xF0\x9F\x98\x80' (U+1F600)");
  EXPECT_EQ(describeChar("\xC0\x80", 0), "'\\xc0'");          // overlong
  EXPECT_EQ(describeChar("\xED\xA0\x80", 0), "'\\xed'");      // a UTF-16 surrogate
  EXPECT_EQ(describeChar("\xE2\x82", 0), "'\\xe2'");          // cut short
  EXPECT_EQ(describeToken("relu", nextToken("relu", 0)), "'relu'");
  EXPECT_EQ(describeToken("", nextToken("", 0)), "end of file");
  EXPECT_EQ(describeToken("\"fc\"", nextToken("\"fc\"", 0)), "string \"fc\"");
}

TEST(ParserNumbers, ValidAndInvalid) {
  auto ok = [](std::string_view s) { return readNumber(s).ok(); };
  for (const char* s : {"0", "12", "0.5", "5.", ".5", "1e3", "1E-3", "2e+10", "1.5e3", "007"}) EXPECT_TRUE(ok(s)) << s;
  for (const char* s : {"3x", "1.2.3", "1e", "2e+", "1e3.5", "1_000", "0x10", "1ee3"}) EXPECT_FALSE(ok(s)) << s;
  EXPECT_EQ(readNumber("3x").error().message, "invalid number '3x'");
  EXPECT_TRUE(readNumber("12")->isInteger);
  EXPECT_EQ(readNumber("12")->integer, 12);
  EXPECT_FALSE(readNumber("12.")->isInteger);
  EXPECT_FALSE(readNumber("1e2")->isInteger);
  EXPECT_DOUBLE_EQ(readNumber("1e2")->value, 100);
  EXPECT_EQ(readNumber("9223372036854775807")->integer, INT64_MAX);
  EXPECT_EQ(readNumber("9223372036854775808").error().message, "number '9223372036854775808' is out of range");
  EXPECT_EQ(readNumber("1e999").error().message, "number '1e999' is out of range");
  EXPECT_FALSE(readNumber("1e-999").ok());
  EXPECT_TRUE(readNumber("0e999").ok());
  EXPECT_DOUBLE_EQ(readNumber("1.7976931348623157e308")->value, 1.7976931348623157e308);
}

TEST(ParserLineIndex, Locates) {
  LineIndex lines("ab\ncd\n\nx");
  EXPECT_EQ(lines.locate(0), (SourceLoc{1, 1}));
  EXPECT_EQ(lines.locate(2), (SourceLoc{1, 3}));  // the newline itself
  EXPECT_EQ(lines.locate(3), (SourceLoc{2, 1}));
  EXPECT_EQ(lines.locate(6), (SourceLoc{3, 1}));
  EXPECT_EQ(lines.locate(7), (SourceLoc{4, 1}));
  EXPECT_EQ(lines.locate(8), (SourceLoc{4, 2}));  // end of the text
}

TEST(ParserSuggest, TranspositionIsOneEdit) {
  EXPECT_EQ(editDistance("inptu", "input"), 1u);
  EXPECT_EQ(editDistance("abc", "abc"), 0u);
  EXPECT_EQ(editDistance("ab", "ba"), 1u);
  EXPECT_EQ(editDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(closestMatch("inptu", {"input", "param", "output", "train"}), "input");
}

// Every expectation point of the grammar has a message, and every message is reachable: a
// renamed rule cannot silently lose its wording.
TEST(ParserMessages, EveryExpectationHasAMessageAndIsReached) {
  const char* inputs[] = {
      "",                                  // model_header
      "model 3",                           // model_name
      "model m )",                         // declaration_end
      "model m input :",                   // input_name
      "model m param :",                   // param_name
      "model m output =",                  // output_name
      "model m input x f32",               // input_colon
      "model m param x f32",               // param_colon
      "model m input x: [",                // type
      "model m input x: f32(",             // type_open
      "model m input x: f32[1,]",          // next_dim
      "model m input x: f32[1 2]",         // type_close
      "model m param x: f32[1] = )",       // param_init
      "model m x = )",                     // value
      "model m x )",                       // assign_eq
      "model m x = a + )",                 // sum_operand
      "model m x = a * )",                 // operand
      "model m x = ( )",                   // paren_expr
      "model m x = (a",                    // paren_close
      "model m x = f(a",                   // call_close
      "model m x = f(a, )",                // next_argument
      "model m x = f(k = )",               // keyword_value
      "model m x = [1, )",                 // list_item
      "model m x = [1",                    // list_close
      "model m train (",                   // train_open
      "model m train { k 1 }",             // train_eq
      "model m train { k = 1",             // train_close
      "model m tune { k 1 }",              // tune_eq
      "model m tune { k = 1",              // tune_close
  };
  std::set<std::string> reached;
  for (const char* in : inputs) {
    GrammarOutcome out = runGrammar(in, 0, std::string_view(in).size());
    ASSERT_TRUE(out.failure) << in;
    reached.insert(out.failure->which);
    SyntaxProblem p = explainFailure(in, LineIndex(in), *out.failure);
    EXPECT_EQ(p.message.rfind("expected ", 0), 0u) << in << ": " << p.message;
    for (const char* placeholder : {"{0}", "{1}", "{open}", "?"})
      EXPECT_EQ(p.message.find(placeholder), std::string::npos) << "unfilled placeholder: " << p.message;
  }
  std::vector<std::string_view> known = knownExpectations();
  EXPECT_EQ(reached, std::set<std::string>(known.begin(), known.end()));
}

}  // namespace
}  // namespace nnc::syntax
