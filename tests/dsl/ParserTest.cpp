// The parser on valid input: every declaration form, every expression form, precedence,
// associativity, lexical rules, comments and node positions.
#include <gtest/gtest.h>

#include "tests/dsl/ParserTestHelpers.h"

namespace nnc {
namespace {

using parser_test::exprOf;
using parser_test::loc;
using parser_test::parse;
using parser_test::show;
using parser_test::withHeader;

TEST(Parser, LanguageExampleParses) {
  const char* src = R"(# fashion_mlp.nn: a multilayer perceptron for Fashion-MNIST
model fashion_mlp

input image: f32[batch, 28, 28]
input label: i32[batch]

flat   = flatten(image)
h1     = dense(flat, 256, activation = relu)
h2     = dense(h1, 128, activation = relu)
logits = dense(h2, 10)
output probs = softmax(logits)

train {
  loss      = cross_entropy(logits, label)
  optimizer = adam(lr = 1e-3)
  batch     = 64
  epochs    = 10
  normalize = scale(1 / 255)
}
)";
  auto p = parse(src);
  ASSERT_TRUE(p.module) << p.rendered;
  EXPECT_TRUE(p.diags.empty());
  const ast::Module& m = *p.module;
  EXPECT_EQ(m.name, "fashion_mlp");
  EXPECT_EQ(loc(m.nameLoc), "2:7");
  ASSERT_EQ(m.decls.size(), 8u);
  EXPECT_EQ(m.decls[0].kind, ast::DeclKind::Input);
  EXPECT_EQ(m.decls[2].kind, ast::DeclKind::Assign);
  EXPECT_EQ(show(m.decls[3].value), "dense(flat, 256, activation=relu)");
  EXPECT_EQ(m.decls[6].kind, ast::DeclKind::Assign);
  EXPECT_TRUE(m.decls[6].isOutput);
  EXPECT_EQ(m.decls[6].name, "probs");
  const ast::Decl& train = m.decls[7];
  EXPECT_EQ(train.kind, ast::DeclKind::Train);
  EXPECT_EQ(loc(train.loc), "13:1");
  ASSERT_EQ(train.entries.size(), 5u);
  EXPECT_EQ(train.entries[0].key, "loss");
  EXPECT_EQ(loc(train.entries[0].keyLoc), "14:3");
  EXPECT_EQ(show(train.entries[0].value), "cross_entropy(logits, label)");
  EXPECT_EQ(show(train.entries[1].value), "adam(lr=1e-3)");
  EXPECT_EQ(show(train.entries[4].value), "scale((/ 1 255))");
}

TEST(Parser, ExplicitTensorExampleParses) {
  auto p = parse(withHeader(R"(input flat: f32[batch, 784]
param w1: f32[784, 256] = glorot_uniform
param b1: f32[256]      = zeros
h1 = relu(flat @ w1 + b1)
)"));
  ASSERT_TRUE(p.module) << p.rendered;
  EXPECT_EQ(show(p.module->decls[3].value), "relu((+ (@ flat w1) b1))");
}

TEST(Parser, InputDeclaration) {
  auto p = parse(withHeader("input image: f32[batch, 28, 28]\ninput label: i32[batch]\n"));
  ASSERT_TRUE(p.module) << p.rendered;
  const ast::Decl& d = p.module->decls.at(0);
  EXPECT_EQ(d.kind, ast::DeclKind::Input);
  EXPECT_EQ(d.name, "image");
  EXPECT_EQ(loc(d.loc), "2:1");
  EXPECT_EQ(loc(d.nameLoc), "2:7");
  EXPECT_EQ(d.type.dtype, "f32");
  EXPECT_EQ(loc(d.type.loc), "2:14");
  ASSERT_EQ(d.type.dims.size(), 3u);
  EXPECT_TRUE(d.type.dims[0].isName);
  EXPECT_EQ(d.type.dims[0].name, "batch");
  EXPECT_EQ(d.type.dims[0].text, "batch");
  EXPECT_EQ(loc(d.type.dims[0].loc), "2:18");
  EXPECT_FALSE(d.type.dims[1].isName);
  EXPECT_EQ(d.type.dims[1].value, 28);
  EXPECT_EQ(d.type.dims[1].text, "28");
  EXPECT_EQ(loc(d.type.dims[2].loc), "2:29");
  EXPECT_EQ(p.module->decls[1].type.dtype, "i32");
}

TEST(Parser, ScalarTypeAndOddDimsAreLeftToSema) {
  // f32[] is a scalar; other names and dtypes parse, and sema judges them.
  auto p = parse(withHeader("param s: f32[]\ninput x: f64[3, width, batch]\n"));
  ASSERT_TRUE(p.module) << p.rendered;
  EXPECT_TRUE(p.module->decls[0].type.dims.empty());
  EXPECT_EQ(p.module->decls[1].type.dtype, "f64");
  EXPECT_EQ(p.module->decls[1].type.dims[1].name, "width");
}

TEST(Parser, ParamWithAndWithoutInitializer) {
  auto p = parse(withHeader(R"(param a: f32[3, 4]
param b: f32[4] = zeros
param c: f32[4] = constant(0.1)
param d: f32[4] = uniform(-1, 1)
param e: f32[4] = normal(mean = 0, std = 0.5)
)"));
  ASSERT_TRUE(p.module) << p.rendered;
  const auto& d = p.module->decls;
  ASSERT_EQ(d.size(), 5u);
  EXPECT_EQ(d[0].kind, ast::DeclKind::Param);
  EXPECT_EQ(d[0].value, nullptr);
  EXPECT_EQ(show(d[1].value), "zeros");
  EXPECT_EQ(show(d[2].value), "constant(0.1)");
  EXPECT_EQ(show(d[3].value), "uniform((- 1), 1)");
  EXPECT_EQ(show(d[4].value), "normal(mean=0, std=0.5)");
  EXPECT_EQ(loc(d[1].value->loc), "3:19");
}

TEST(Parser, OutputForms) {
  auto p = parse(withHeader("input x: f32[batch, 2]\noutput y = relu(x)\noutput x\n"));
  ASSERT_TRUE(p.module) << p.rendered;
  const ast::Decl& assigned = p.module->decls[1];
  EXPECT_EQ(assigned.kind, ast::DeclKind::Assign);
  EXPECT_TRUE(assigned.isOutput);
  EXPECT_EQ(assigned.name, "y");
  EXPECT_EQ(loc(assigned.loc), "3:1");
  EXPECT_EQ(loc(assigned.nameLoc), "3:8");
  const ast::Decl& named = p.module->decls[2];
  EXPECT_EQ(named.kind, ast::DeclKind::Output);
  EXPECT_TRUE(named.isOutput);
  EXPECT_EQ(named.name, "x");
  EXPECT_EQ(named.value, nullptr);
}

TEST(Parser, AssignmentIsNotOutput) {
  auto p = parse(withHeader("y = 1\n"));
  ASSERT_TRUE(p.module) << p.rendered;
  EXPECT_EQ(p.module->decls[0].kind, ast::DeclKind::Assign);
  EXPECT_FALSE(p.module->decls[0].isOutput);
  EXPECT_EQ(loc(p.module->decls[0].loc), "2:1");
}

TEST(Parser, TrainBlockEmptyAndRepeated) {
  // At most one train block is a semantic rule; the parser keeps both.
  auto p = parse(withHeader("train {}\ntrain { batch = 8 }\n"));
  ASSERT_TRUE(p.module) << p.rendered;
  EXPECT_TRUE(p.module->decls[0].entries.empty());
  EXPECT_EQ(p.module->decls[1].entries.size(), 1u);
}

TEST(Parser, ModelWithoutDeclarations) {
  auto p = parse("model empty");
  ASSERT_TRUE(p.module) << p.rendered;
  EXPECT_EQ(p.module->name, "empty");
  EXPECT_TRUE(p.module->decls.empty());
}

TEST(Parser, NewlinesAreNotSignificant) {
  auto p = parse("model\nm input\nx\n:\nf32\n[\n3\n]\ny\n=\ndense\n(\nx\n,\n4\n)");
  ASSERT_TRUE(p.module) << p.rendered;
  EXPECT_EQ(show(p.module->decls[1].value), "dense(x, 4)");
  auto q = parse("model m input x: f32[3] y = x z = y output z");
  ASSERT_TRUE(q.module) << q.rendered;
  EXPECT_EQ(q.module->decls.size(), 4u);
}

TEST(Parser, CommentsEverywhere) {
  auto p = parse(R"(# header comment
model m # after the name
# between declarations
input x: f32[ # inside a type
  batch, # after a dim
  3]
y = dense( # after '('
  x, # after an argument
  4 # before ')'
) + # after an operator
  [1, # in a list
   2] # after the list
train { # after '{'
  batch = 8 # after a value
} # after '}'
# at the end, without a newline)");
  ASSERT_TRUE(p.module) << p.rendered;
  EXPECT_EQ(show(p.module->decls[1].value), "(+ dense(x, 4) [1 2])");
  EXPECT_EQ(p.module->decls[2].entries.size(), 1u);
}

TEST(Parser, CrLfLineEndingsAndTabs) {
  auto p = parse("model m\r\n\tinput x: f32[3]\r\ny =\tx\r\n");
  ASSERT_TRUE(p.module) << p.rendered;
  EXPECT_EQ(loc(p.module->decls[0].loc), "2:2");  // a tab is one column
  EXPECT_EQ(loc(p.module->decls[1].value->loc), "3:5");
}

TEST(Parser, ByteOrderMarkIsSkipped) {
  auto p = parse("\xEF\xBB\xBFmodel m\nx = 1\n");
  ASSERT_TRUE(p.module) << p.rendered;
  EXPECT_EQ(loc(p.module->nameLoc), "1:10");  // columns count bytes, the mark's too
}

TEST(Parser, Numbers) {
  auto p = parse(withHeader("x = [0, 1, 256, 0.5, 1e-3, 2E+10, .5, 5., 1.5e3, 007, 9223372036854775807]\n"));
  ASSERT_TRUE(p.module) << p.rendered;
  const auto& items = p.module->decls[0].value->items;
  ASSERT_EQ(items.size(), 11u);
  struct Want {
    const char* text;
    double value;
    bool isInteger;
  };
  Want want[] = {{"0", 0, true},     {"1", 1, true},      {"256", 256, true}, {"0.5", 0.5, false},
                 {"1e-3", 1e-3, false}, {"2E+10", 2e10, false}, {".5", 0.5, false}, {"5.", 5, false},
                 {"1.5e3", 1500, false}, {"007", 7, true}, {"9223372036854775807", 9223372036854775807.0, true}};
  for (size_t i = 0; i < items.size(); ++i) {
    SCOPED_TRACE(want[i].text);
    EXPECT_EQ(items[i]->kind, ast::ExprKind::Number);
    EXPECT_EQ(items[i]->text, want[i].text);
    EXPECT_DOUBLE_EQ(items[i]->number, want[i].value);
    EXPECT_EQ(items[i]->isInteger, want[i].isInteger);
  }
}

TEST(Parser, NegativeNumbersAreUnaryMinus) {
  EXPECT_EQ(exprOf("-1"), "(- 1)");
  EXPECT_EQ(exprOf("1e-3"), "1e-3");  // the sign after 'e' belongs to the number
  EXPECT_EQ(exprOf("2e-3-1"), "(- 2e-3 1)");
  EXPECT_EQ(exprOf("x-1"), "(- x 1)");
}

TEST(Parser, NamesAndStrings) {
  EXPECT_EQ(exprOf("_a1_B2"), "_a1_B2");
  EXPECT_EQ(exprOf("inputs"), "inputs");  // a keyword's prefix is a plain name
  EXPECT_EQ(exprOf("models_2"), "models_2");
  EXPECT_EQ(exprOf("\"fc\""), "\"fc\"");
  EXPECT_EQ(exprOf("\"\""), "\"\"");
  EXPECT_EQ(exprOf("\"a # not a comment\""), "\"a # not a comment\"");
  EXPECT_EQ(exprOf("\"caf\xC3\xA9 \xE2\x9C\x93\""), "\"caf\xC3\xA9 \xE2\x9C\x93\"");
}

TEST(Parser, Calls) {
  EXPECT_EQ(exprOf("sgd()"), "sgd()");
  EXPECT_EQ(exprOf("f(a)"), "f(a)");
  EXPECT_EQ(exprOf("f(a, b, key = value)"), "f(a, b, key=value)");
  EXPECT_EQ(exprOf("f(k1 = 1, k2 = [1, 2])"), "f(k1=1, k2=[1 2])");
  EXPECT_EQ(exprOf("f(g(h(x)), y)"), "f(g(h(x)), y)");
  EXPECT_EQ(exprOf("f(a + b, name = \"fc\")"), "f((+ a b), name=\"fc\")");
  EXPECT_EQ(exprOf("f (a)"), "f(a)");  // space before '(' is allowed
}

TEST(Parser, Lists) {
  EXPECT_EQ(exprOf("[]"), "[]");
  EXPECT_EQ(exprOf("[1]"), "[1]");
  EXPECT_EQ(exprOf("[1, 2]"), "[1 2]");
  EXPECT_EQ(exprOf("[[1, 2], [3, [4]]]"), "[[1 2] [3 [4]]]");
  EXPECT_EQ(exprOf("[a + 1, f(x), -2]"), "[(+ a 1) f(x) (- 2)]");
}

TEST(Parser, PrecedenceAndAssociativity) {
  EXPECT_EQ(exprOf("a - b - c"), "(- (- a b) c)");
  EXPECT_EQ(exprOf("a / b / c"), "(/ (/ a b) c)");
  EXPECT_EQ(exprOf("a @ b @ c"), "(@ (@ a b) c)");
  EXPECT_EQ(exprOf("a + b @ c * d"), "(+ a (* (@ b c) d))");
  EXPECT_EQ(exprOf("a * b + c"), "(+ (* a b) c)");
  EXPECT_EQ(exprOf("a - b * c - d"), "(- (- a (* b c)) d)");
  EXPECT_EQ(exprOf("a * b @ c / d"), "(/ (@ (* a b) c) d)");
  EXPECT_EQ(exprOf("(a + b) * c"), "(* (+ a b) c)");
  EXPECT_EQ(exprOf("a - (b - c)"), "(- a (- b c))");
  EXPECT_EQ(exprOf("((a))"), "a");
}

TEST(Parser, UnaryMinus) {
  EXPECT_EQ(exprOf("-x"), "(- x)");
  EXPECT_EQ(exprOf("--x"), "(- (- x))");
  EXPECT_EQ(exprOf("-a * b"), "(* (- a) b)");
  EXPECT_EQ(exprOf("a * -b"), "(* a (- b))");
  EXPECT_EQ(exprOf("a - -b"), "(- a (- b))");
  EXPECT_EQ(exprOf("-f(x) + 1"), "(+ (- f(x)) 1)");
  EXPECT_EQ(exprOf("-(a + b)"), "(- (+ a b))");
}

TEST(Parser, NodePositions) {
  //                           1         2         3
  //                  123456789012345678901234567890123
  auto p = parse(withHeader("y = f(a, k = -b) + [c, \"s\"] * (d)\n"));
  ASSERT_TRUE(p.module) << p.rendered;
  const ast::Expr& sum = *p.module->decls[0].value;
  EXPECT_EQ(sum.op, '+');
  EXPECT_EQ(loc(sum.loc), "2:5");  // a binary node starts where its left operand starts
  const ast::Expr& call = *sum.items[0];
  EXPECT_EQ(loc(call.loc), "2:5");
  EXPECT_EQ(loc(call.calleeLoc), "2:5");
  EXPECT_EQ(loc(call.args[0].value->loc), "2:7");
  EXPECT_EQ(loc(call.args[1].keyLoc), "2:10");
  EXPECT_EQ(loc(call.args[1].value->loc), "2:14");  // the unary minus
  EXPECT_EQ(loc(call.args[1].value->items[0]->loc), "2:15");
  const ast::Expr& product = *sum.items[1];
  EXPECT_EQ(loc(product.loc), "2:20");
  EXPECT_EQ(loc(product.items[0]->loc), "2:20");  // the list, at '['
  EXPECT_EQ(loc(product.items[0]->items[1]->loc), "2:24");  // the string, at its quote
  // A name in parentheses keeps its own position...
  EXPECT_EQ(loc(product.items[1]->loc), "2:32");
  // ...but a binary node whose left operand is parenthesised starts at the '('.
  auto q = parse(withHeader("y = (a + b) * c\n"));
  ASSERT_TRUE(q.module) << q.rendered;
  EXPECT_EQ(loc(q.module->decls[0].value->loc), "2:5");
  EXPECT_EQ(loc(q.module->decls[0].value->items[0]->loc), "2:6");
}

TEST(Parser, PositionsOnLaterLines) {
  auto p = parse("model m\n\n   input x: f32[3]\n\n\n      z =\n   x\n");
  ASSERT_TRUE(p.module) << p.rendered;
  EXPECT_EQ(loc(p.module->decls[0].loc), "3:4");
  EXPECT_EQ(loc(p.module->decls[1].loc), "6:7");
  EXPECT_EQ(loc(p.module->decls[1].value->loc), "7:4");
}

TEST(Parser, NestingUpToTheLimitParses) {
  // 250 levels of each kind of nesting: within the limit, and within the stack.
  for (auto [open, close] : {std::pair{"(", ")"}, std::pair{"[", "]"}, std::pair{"f(", ")"}, std::pair{"-", ""}}) {
    std::string expr;
    for (int i = 0; i < 250; ++i) expr += open;
    expr += "x";
    for (int i = 0; i < 250; ++i) expr += close;
    auto p = parse(withHeader("y = " + expr + "\n"));
    EXPECT_TRUE(p.module) << open << ": " << p.rendered;
  }
}

TEST(Parser, NestingExactlyAtTheLimitParses) {
  std::string expr = std::string(256, '[') + "1" + std::string(256, ']');
  auto p = parse(withHeader("y = " + expr + "\n"));
  EXPECT_TRUE(p.module) << p.rendered;
  std::string chain = "x";
  for (int i = 0; i < 256; ++i) chain += " + x";
  auto q = parse(withHeader("y = " + chain + "\n"));
  EXPECT_TRUE(q.module) << q.rendered;
}

TEST(Parser, KeywordsCanBeTrainKeysOnlyWhenNotReserved) {
  // `batch`, `loss`, ... are ordinary names; only model/input/param/output/train are reserved.
  auto p = parse(withHeader("batch = 1\nloss = batch\n"));
  ASSERT_TRUE(p.module) << p.rendered;
  EXPECT_EQ(p.module->decls[0].name, "batch");
}

}  // namespace
}  // namespace nnc
