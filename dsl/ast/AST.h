#pragma once
// The abstract syntax tree of a `.nn` file, as the parser produces it and semantic analysis
// consumes it. Every node carries the source position of its first character.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/SourceLoc.h"

namespace nnc::ast {

struct Expr;
using ExprPtr = std::shared_ptr<Expr>;

enum class ExprKind {
  Number,  // 1, 0.5, 1e-3          -> number, isInteger, text
  Name,    // relu, h1, batch       -> text
  String,  // "fc"                  -> text (without quotes)
  List,    // [1, 2]                -> items
  Call,    // f(a, key = b)         -> text (callee), calleeLoc, args
  Unary,   // -x                    -> op ('-'), items[0]
  Binary,  // a + b, a @ b          -> op ('+', '-', '*', '/', '@'), items[0], items[1]
};

// One argument of a call; `key` is empty for a positional argument.
struct Arg {
  std::string key;
  SourceLoc keyLoc;
  ExprPtr value;
};

struct Expr {
  ExprKind kind = ExprKind::Number;
  SourceLoc loc;
  double number = 0;       // Number
  bool isInteger = false;  // Number written without '.', 'e' or 'E'
  std::string text;        // Number: literal as written; Name/String: the text; Call: callee
  SourceLoc calleeLoc;     // Call
  char op = 0;             // Unary, Binary
  std::vector<ExprPtr> items;
  std::vector<Arg> args;   // Call
};

// A dimension in a type: an integer or a name (only `batch` is valid; sema checks).
struct Dim {
  bool isName = false;
  int64_t value = 0;   // when !isName
  std::string name;    // when isName
  std::string text;    // as written
  SourceLoc loc;
};

struct TypeExpr {
  std::string dtype;  // "f32", "i32" (sema checks)
  SourceLoc loc;
  std::vector<Dim> dims;
};

struct TrainEntry {
  std::string key;
  SourceLoc keyLoc;
  ExprPtr value;
};

enum class DeclKind {
  Input,   // input NAME: TYPE
  Param,   // param NAME: TYPE [= INIT]      -> type, value (init expr, may be null)
  Assign,  // [output] NAME = EXPR           -> value, isOutput
  Output,  // output NAME                    -> name refers to an existing value
  Train,   // train { KEY = EXPR ... }       -> entries
  Tune,    // tune { NAME = DISTRIBUTION ... } -> entries
};

struct Decl {
  DeclKind kind = DeclKind::Assign;
  SourceLoc loc;       // the first character of the declaration (keyword or name)
  std::string name;
  SourceLoc nameLoc;
  TypeExpr type;       // Input, Param
  ExprPtr value;       // Param init (or null), Assign expression
  bool isOutput = false;
  std::vector<TrainEntry> entries;  // Train
};

struct Module {
  std::string name;
  SourceLoc nameLoc;
  std::vector<Decl> decls;
};

}  // namespace nnc::ast
