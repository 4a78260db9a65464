#pragma once
// The parser's own syntax tree: the shapes Boost.Spirit X3 fills from the grammar's
// attributes (fusion-adapted structs and variants). ToAst turns it into the compiler's AST
// (dsl/ast/AST.h); nothing outside dsl/parser sees it.
//
// Binary operators stay flat here (`a + b - c` is a Sum with two tails) so that a long chain
// costs no recursion while parsing; ToAst folds them into left-associative nodes.
#include <boost/fusion/include/adapt_struct.hpp>
#include <boost/optional.hpp>
#include <boost/spirit/home/x3/support/ast/variant.hpp>
#include <cstddef>
#include <string>
#include <vector>

namespace nnc::syntax {

namespace x3 = boost::spirit::x3;

// The byte offset of a node's first character in the file.
struct Located {
  size_t offset = 0;
};

// Tokens: the grammar's token parsers fill their text and offset. (A rule whose attribute is
// a token may start earlier, as `model NAME` does, so rules leave a token's offset alone.)
struct TokenNode : Located {};
struct Word : TokenNode {
  std::string text;
};
struct NumberLit : TokenNode {
  std::string text;  // as written
};
struct StringLit : TokenNode {
  std::string text;  // without the quotes
};

struct Call;
struct ListLit;
struct Paren;
struct Negation;

// One operand of a binary operator: a primary expression or a negation.
using Operand = x3::variant<NumberLit, StringLit, x3::forward_ast<Call>, Word, x3::forward_ast<ListLit>,
                            x3::forward_ast<Paren>, x3::forward_ast<Negation>>;

struct Negation : Located {
  char op = '-';
  Operand operand;
};

struct ProductTail : Located {  // located at the operator
  char op = 0;                  // '*', '/', '@'
  Operand rhs;
};
struct Product : Located {
  Operand first;
  std::vector<ProductTail> rest;
};

struct SumTail : Located {  // located at the operator
  char op = 0;              // '+', '-'
  Product rhs;
};
struct Sum : Located {  // a whole expression
  Product first;
  std::vector<SumTail> rest;
};

struct Paren : Located {  // located at '('
  char open = '(';
  Sum inner;
};

struct Argument : Located {
  boost::optional<Word> key;  // none for a positional argument
  Sum value;
};
struct Call : Located {
  Word callee;
  std::vector<Argument> args;
};

struct ListLit : Located {  // located at '['
  char open = '[';
  std::vector<Sum> items;
};

using Dim = x3::variant<NumberLit, Word>;
struct TypeSyntax : Located {
  Word dtype;
  std::vector<Dim> dims;
};

struct InputDecl : Located {
  Word name;
  TypeSyntax type;
};
struct ParamDecl : Located {
  Word name;
  TypeSyntax type;
  boost::optional<Sum> init;
};
struct OutputDecl : Located {
  Word name;
  boost::optional<Sum> value;
};
struct AssignDecl : Located {
  Word name;
  Sum value;
};
struct TrainEntry : Located {
  Word key;
  Sum value;
};
struct TrainDecl : Located {  // located at `train`
  char open = '{';
  std::vector<TrainEntry> entries;
};

// `tune { NAME = DISTRIBUTION ... }`: the same shape as a train block (sema tells them apart).
struct TuneDecl : Located {  // located at `tune`
  char open = '{';
  std::vector<TrainEntry> entries;
};

using Decl = x3::variant<InputDecl, ParamDecl, OutputDecl, TrainDecl, TuneDecl, AssignDecl>;

struct FileSyntax {
  Word modelName;
  std::vector<Decl> decls;
};

}  // namespace nnc::syntax

// Offsets are not adapted: the grammar's on_success handler sets them.
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::Negation, op, operand)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::ProductTail, op, rhs)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::Product, first, rest)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::SumTail, op, rhs)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::Sum, first, rest)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::Paren, open, inner)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::Argument, key, value)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::Call, callee, args)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::ListLit, open, items)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::TypeSyntax, dtype, dims)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::InputDecl, name, type)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::ParamDecl, name, type, init)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::OutputDecl, name, value)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::AssignDecl, name, value)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::TrainEntry, key, value)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::TrainDecl, open, entries)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::TuneDecl, open, entries)
BOOST_FUSION_ADAPT_STRUCT(nnc::syntax::FileSyntax, modelName, decls)
