#pragma once
// Compile-time values: the arguments of calls that are not tensors (`units`, `lr = 1e-3`,
// `activation = relu`, `kernel = [3, 3]`) and the values of the `train` block
// (`normalize = scale(1 / 255)`). A small evaluator folds number literals, unary minus and
// `+ - * /` so that users can write `1 / 255` or `-1` where a number is expected.
#include <cstdint>
#include <string>
#include <vector>

#include "support/Result.h"
#include "dsl/ast/AST.h"

namespace nnc::sema {

struct ConstValue {
  enum class Kind { Number, Word, String, List };
  Kind kind = Kind::Number;
  double number = 0;       // Number
  bool isInteger = false;  // Number: an integer literal or integer arithmetic on them
  int64_t integer = 0;     // Number, when isInteger (exact, also beyond 2^53)
  std::string text;        // Word / String: the text; Number: how to show it in messages
  std::vector<ConstValue> items;  // List
  SourceLoc loc;
};

// Evaluates a constant expression. Calls and '@' are not constants; names evaluate to words
// (their meaning depends on where they are used), and a word inside arithmetic is an error.
Result<ConstValue> evalConst(const ast::Expr& e);

// True for expressions built only from number literals, unary minus and + - * /: these fold
// to a number even where a tensor is expected (`x * (1 / 255)`).
bool isNumericConstant(const ast::Expr& e);

// A number the way messages show it: integers without a point, others in shortest form.
std::string formatNumber(double v);

// How a value reads in a message: `1.5`, `'relu'`, `"fc"`, `[1, 2]`.
std::string describeConst(const ConstValue& v);

}  // namespace nnc::sema
