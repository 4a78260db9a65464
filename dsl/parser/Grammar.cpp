// The `.nn` grammar in Boost.Spirit X3.
//
// Tokens (names, keywords, numbers, strings, trivia) are small custom parsers over the rules
// of Scanner.h. Structure is X3 rules. Every `a > b` is an expectation point: once `a` has
// matched, `b` must follow, and if it does not, the name of `b`'s rule says what was
// expected (SyntaxMessages.cpp turns it into a message). Every rule's error handler records
// the innermost failure; every rule's success handler records where its node starts.
//
// Binary operators are parsed as flat chains (`product >> *sum_tail`), so only brackets and
// unary minus recurse; the pre-scan bounds those before the grammar runs.
#include "dsl/parser/Grammar.h"

#include <string_view>
#include <type_traits>

namespace nnc::syntax::grammar {

namespace {

constexpr std::string_view kKeywords[] = {"model", "input", "param", "output", "train"};

bool isKeyword(std::string_view word) {
  for (std::string_view k : kKeywords)
    if (word == k) return true;
  return false;
}

template <typename Context>
size_t offsetOf(const char* p, Context const& context) {
  return size_t(p - x3::get<state_tag>(context).begin);
}

// A token parser: skips trivia, asks `Scan` where the token ends, and makes `Node` from it.
template <typename Derived, typename Node>
struct TokenParser : x3::parser<Derived> {
  using attribute_type = Node;
  static bool const has_attribute = true;

  template <typename Iterator, typename Context, typename RContext, typename Attribute>
  bool parse(Iterator& first, Iterator const& last, Context const& context, RContext&, Attribute& attr) const {
    x3::skip_over(first, last, context);
    Iterator end = Derived::scan(first, last);
    if (end == first) return false;
    Node node;
    node.offset = offsetOf(first, context);
    Derived::setText(node, first, end);
    x3::traits::move_to(std::move(node), attr);
    first = end;
    return true;
  }
};

// An identifier that is not a keyword.
struct NameParser : TokenParser<NameParser, Word> {
  static const char* scan(const char* p, const char* end) {
    const char* stop = scanIdentifier(p, end);
    return isKeyword(std::string_view(p, size_t(stop - p))) ? p : stop;
  }
  static void setText(Word& w, const char* b, const char* e) { w.text.assign(b, e); }
};

// The key of a keyword argument: any identifier, keywords included, since only '=' can
// follow it (`onnx("m.onnx", x, output = "logits")`).
struct KeyNameParser : TokenParser<KeyNameParser, Word> {
  static const char* scan(const char* p, const char* end) { return scanIdentifier(p, end); }
  static void setText(Word& w, const char* b, const char* e) { w.text.assign(b, e); }
};

// A name in an expression: an identifier, or a parameter reference such as `fc.weight`.
struct ReferenceParser : TokenParser<ReferenceParser, Word> {
  static const char* scan(const char* p, const char* end) {
    const char* stop = scanReference(p, end);
    return isKeyword(std::string_view(p, size_t(scanIdentifier(p, end) - p))) ? p : stop;
  }
  static void setText(Word& w, const char* b, const char* e) { w.text.assign(b, e); }
};

struct NumberParser : TokenParser<NumberParser, NumberLit> {
  static const char* scan(const char* p, const char* end) { return scanNumber(p, end); }
  static void setText(NumberLit& n, const char* b, const char* e) { n.text.assign(b, e); }
};

struct StringParser : TokenParser<StringParser, StringLit> {
  static const char* scan(const char* p, const char* end) { return scanString(p, end); }
  static void setText(StringLit& s, const char* b, const char* e) { s.text.assign(b + 1, e - 1); }
};

// Exactly the identifier `word` (so `inputs` is a name, not the keyword `input`).
struct KeywordParser : x3::parser<KeywordParser> {
  using attribute_type = x3::unused_type;
  static bool const has_attribute = false;
  std::string_view word;
  constexpr explicit KeywordParser(std::string_view w) : word(w) {}

  template <typename Iterator, typename Context, typename RContext, typename Attribute>
  bool parse(Iterator& first, Iterator const& last, Context const& context, RContext&, Attribute&) const {
    x3::skip_over(first, last, context);
    Iterator end = scanIdentifier(first, last);
    if (std::string_view(first, size_t(end - first)) != word) return false;
    first = end;
    return true;
  }
};

constexpr NameParser name_token{};
constexpr KeyNameParser key_name_token{};
constexpr ReferenceParser reference_token{};
constexpr NumberParser number_token{};
constexpr StringParser string_token{};
constexpr KeywordParser kw_model{"model"}, kw_input{"input"}, kw_param{"param"}, kw_output{"output"},
    kw_train{"train"};
// `tune` is a keyword only when a '{' follows it: models that name a value `tune` still parse.
constexpr KeywordParser kw_tune{"tune"};

}  // namespace

// Every rule's ID: records where its node starts, and the innermost expectation failure.
// (Tokens record their own offsets.)
struct Handlers {
  template <typename Iterator, typename Attribute, typename Context>
  void on_success(Iterator const& first, Iterator const&, Attribute& attr, Context const& context) {
    using Node = std::remove_cvref_t<Attribute>;
    if constexpr (std::is_base_of_v<Located, Node> && !std::is_base_of_v<TokenNode, Node>)
      attr.offset = offsetOf(first, context);
  }

  template <typename Iterator, typename Exception, typename Context>
  x3::error_handler_result on_error(Iterator& first, Iterator const&, Exception const& x, Context const& context) {
    ParseState& state = x3::get<state_tag>(context);
    // The rule an expectation failure escapes first is the one holding the `>`; outer rules
    // see it again on its way out and must not overwrite it.
    if (!state.failure) {
      state.failure = ExpectationFailure{size_t(x.where() - state.begin), x.which(), size_t(first - state.begin)};
    }
    return x3::error_handler_result::rethrow;
  }
};

// A rule's name is what an expectation failure reports as `which`: the key of its message
// in SyntaxMessages.cpp.
#define NNC_RULE(name, Attribute)   \
  struct name##_id : Handlers {};   \
  x3::rule<name##_id, Attribute> const name = #name;

// --- expressions ---
NNC_RULE(expr, Sum)
NNC_RULE(sum_tail, SumTail)
NNC_RULE(sum_operand, Product)
NNC_RULE(product, Product)
NNC_RULE(product_tail, ProductTail)
NNC_RULE(operand, Operand)
NNC_RULE(unary, Operand)
NNC_RULE(negation, Negation)
NNC_RULE(primary, Operand)
NNC_RULE(call, Call)
NNC_RULE(call_close, x3::unused_type)
NNC_RULE(arguments, std::vector<Argument>)
NNC_RULE(next_argument, Argument)
NNC_RULE(argument, Argument)
NNC_RULE(keyword_argument, Argument)
NNC_RULE(keyword_value, Sum)
NNC_RULE(positional_argument, Argument)
NNC_RULE(list, ListLit)
NNC_RULE(list_items, std::vector<Sum>)
NNC_RULE(list_item, Sum)
NNC_RULE(list_close, x3::unused_type)
NNC_RULE(paren, Paren)
NNC_RULE(paren_expr, Sum)
NNC_RULE(paren_close, x3::unused_type)

// --- types ---
NNC_RULE(type, TypeSyntax)
NNC_RULE(type_open, x3::unused_type)
NNC_RULE(dims, std::vector<Dim>)
NNC_RULE(dim, Dim)
NNC_RULE(next_dim, Dim)
NNC_RULE(type_close, x3::unused_type)

// --- declarations ---
NNC_RULE(model_header, Word)
NNC_RULE(model_name, Word)
NNC_RULE(input_decl, InputDecl)
NNC_RULE(input_name, Word)
NNC_RULE(input_colon, x3::unused_type)
NNC_RULE(param_decl, ParamDecl)
NNC_RULE(param_name, Word)
NNC_RULE(param_colon, x3::unused_type)
NNC_RULE(param_init, Sum)
NNC_RULE(output_decl, OutputDecl)
NNC_RULE(output_name, Word)
NNC_RULE(train_decl, TrainDecl)
NNC_RULE(train_open, char)
NNC_RULE(train_entry, TrainEntry)
NNC_RULE(train_eq, x3::unused_type)
NNC_RULE(train_close, x3::unused_type)
NNC_RULE(tune_decl, TuneDecl)
NNC_RULE(tune_open, char)
NNC_RULE(tune_entry, TrainEntry)
NNC_RULE(tune_eq, x3::unused_type)
NNC_RULE(tune_close, x3::unused_type)
NNC_RULE(assign_decl, AssignDecl)
NNC_RULE(assign_eq, x3::unused_type)
NNC_RULE(value, Sum)
// A finished declaration is final (`*declaration` never backtracks into it): remember where
// the complete ones end, so that a later failure still lets them be checked.
struct declaration_id : Handlers {
  template <typename Iterator, typename Attribute, typename Context>
  void on_success(Iterator const& first, Iterator const& last, Attribute& attr, Context const& context) {
    Handlers::on_success(first, last, attr, context);
    x3::get<state_tag>(context).completeUpTo = offsetOf(last, context);
  }
};
x3::rule<declaration_id, Decl> const declaration = "declaration";
NNC_RULE(declaration_end, x3::unused_type)
NNC_RULE(file, FileSyntax)

#undef NNC_RULE

// Binary operators: `@ * /` bind tighter than `+ -`; both levels are left-associative.
auto const expr_def = product >> *sum_tail;
auto const sum_tail_def = (x3::char_('+') | x3::char_('-')) > sum_operand;
auto const sum_operand_def = product;
auto const product_def = unary >> *product_tail;
auto const product_tail_def = (x3::char_('*') | x3::char_('/') | x3::char_('@')) > operand;
auto const operand_def = unary;
auto const unary_def = negation | primary;
auto const negation_def = x3::char_('-') > operand;
auto const primary_def = number_token | string_token | call | reference_token | list | paren;

// Calls: positional and keyword arguments (their order is checked in ToAst).
// (a >> b) > c: the grouping C++ gives anyway, written out for clang's
// -Woverloaded-shift-op-parentheses.
auto const call_def = (name_token >> '(') > -arguments > call_close;
auto const call_close_def = x3::lit(')');
auto const arguments_def = argument >> *(',' > next_argument);
auto const next_argument_def = argument;
auto const argument_def = keyword_argument | positional_argument;
auto const keyword_argument_def = (key_name_token >> '=') > keyword_value;
auto const keyword_value_def = expr;
auto const positional_argument_def = x3::attr(boost::optional<Word>()) >> expr;

auto const list_def = x3::char_('[') > -list_items > list_close;
auto const list_items_def = expr >> *(',' > list_item);
auto const list_item_def = expr;
auto const list_close_def = x3::lit(']');

auto const paren_def = x3::char_('(') > paren_expr > paren_close;
auto const paren_expr_def = expr;
auto const paren_close_def = x3::lit(')');

// f32[batch, 28, 28]; f32[] is a scalar.
auto const type_def = name_token > type_open > -dims > type_close;
auto const type_open_def = x3::lit('[');
auto const dims_def = dim >> *(',' > next_dim);
auto const dim_def = number_token | name_token;
auto const next_dim_def = dim;
auto const type_close_def = x3::lit(']');

auto const model_header_def = kw_model > model_name;
auto const model_name_def = name_token;
auto const input_decl_def = kw_input > input_name > input_colon > type;
auto const input_name_def = name_token;
auto const input_colon_def = x3::lit(':');
auto const param_decl_def = kw_param > param_name > param_colon > type > -('=' > param_init);
auto const param_name_def = name_token;
auto const param_colon_def = x3::lit(':');
auto const param_init_def = expr;
auto const output_decl_def = kw_output > output_name > -('=' > value);
auto const output_name_def = name_token;
auto const train_decl_def = kw_train > train_open > *train_entry > train_close;
auto const train_open_def = x3::char_('{');
auto const train_entry_def = name_token > train_eq > value;
auto const train_eq_def = x3::lit('=');
auto const train_close_def = x3::lit('}');
auto const tune_decl_def = (kw_tune >> tune_open) > *tune_entry > tune_close;
auto const tune_open_def = x3::char_('{');
auto const tune_entry_def = name_token > tune_eq > value;
auto const tune_eq_def = x3::lit('=');
auto const tune_close_def = x3::lit('}');
// Last: a misspelt keyword (`inptu x: ...`) parses as the start of an assignment, and its
// missing '=' is where the "unknown keyword" message comes from.
auto const assign_decl_def = name_token > assign_eq > value;
auto const assign_eq_def = x3::lit('=');
auto const value_def = expr;
auto const declaration_def = input_decl | param_decl | output_decl | train_decl | tune_decl | assign_decl;
auto const declaration_end_def = x3::eoi;
// `eps >` makes a missing header an expectation failure like any other.
auto const file_def = x3::eps > model_header > *declaration > declaration_end;

BOOST_SPIRIT_DEFINE(expr, sum_tail, sum_operand, product, product_tail, operand, unary, negation, primary)
BOOST_SPIRIT_DEFINE(call, call_close, arguments, next_argument, argument, keyword_argument, keyword_value,
                    positional_argument)
BOOST_SPIRIT_DEFINE(list, list_items, list_item, list_close, paren, paren_expr, paren_close)
BOOST_SPIRIT_DEFINE(type, type_open, dims, dim, next_dim, type_close)
BOOST_SPIRIT_DEFINE(model_header, model_name, input_decl, input_name, input_colon, param_decl, param_name,
                    param_colon, param_init, output_decl, output_name)
BOOST_SPIRIT_DEFINE(tune_decl, tune_open, tune_entry, tune_eq, tune_close)
BOOST_SPIRIT_DEFINE(train_decl, train_open, train_entry, train_eq, train_close, assign_decl, assign_eq, value,
                    declaration, declaration_end, file)

BOOST_SPIRIT_INSTANTIATE(file_type, iterator_type, context_type)

file_type const& fileRule() { return file; }

}  // namespace nnc::syntax::grammar
