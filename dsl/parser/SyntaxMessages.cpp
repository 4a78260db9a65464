#include "dsl/parser/SyntaxMessages.h"

#include <string>

#include "support/Suggest.h"
#include "dsl/parser/Scanner.h"

namespace nnc::syntax {

namespace {

// What each expectation point of the grammar expects, by the name of the expected rule
// (Grammar.cpp). Placeholders are filled from the first tokens of the construct that failed:
// {0} and {1} are its first and second tokens (a callee, a declared name, a train key, an
// operator), {open} the line:column of its opening bracket.
struct Expectation {
  std::string_view rule;
  std::string_view expected;
};

constexpr Expectation kExpectations[] = {
    {"model_header", "'model NAME' at the start of the file"},
    {"model_name", "a model name after 'model'"},
    {"declaration_end", "a declaration (input, param, output, train or NAME = EXPR)"},
    {"input_name", "a name after 'input'"},
    {"param_name", "a name after 'param'"},
    {"output_name", "a name after 'output'"},
    {"input_colon", "':' and a type after input name '{1}'"},
    {"param_colon", "':' and a type after param name '{1}'"},
    {"type", "a type such as f32[batch, 10] after ':'"},
    {"type_open", "'[' after element type '{0}' (a type is written like f32[batch, 10])"},
    {"next_dim", "a dimension (an integer or 'batch') after ','"},
    {"type_close", "']' to close the shape opened at {open}"},
    {"param_init", "an initializer after '='"},
    {"value", "an expression after '='"},
    {"assign_eq", "'=' after name '{0}'"},
    {"sum_operand", "an expression after '{0}'"},
    {"operand", "an expression after '{0}'"},
    {"paren_expr", "an expression after '('"},
    {"paren_close", "')' to close the '(' opened at {open}"},
    {"call_close", "')' to close the call to '{0}' opened at {open}"},
    {"next_argument", "an argument after ','"},
    {"keyword_value", "a value for keyword argument '{0}'"},
    {"list_item", "a list item after ','"},
    {"list_close", "']' to close the list opened at {open}"},
    {"train_open", "'{' after 'train'"},
    {"train_eq", "'=' after train key '{0}'"},
    {"train_close", "a KEY = EXPR entry or '}' to close the train block opened at {open}"},
    {"tune_eq", "'=' after tune name '{0}'"},
    {"tune_close", "a NAME = DISTRIBUTION entry or '}' to close the tune block opened at {open}"},
};

// Declaration keywords a misspelt word at the start of a declaration may have meant.
const std::vector<std::string> kDeclarationKeywords = {"input", "param", "output", "train"};

// The first tokens of the construct that failed, for the placeholders.
struct Construct {
  std::vector<Token> tokens;  // up to three
  std::string text(std::string_view source, size_t i) const {
    return i < tokens.size() ? shortText(source, tokens[i]) : std::string();
  }
};

Construct constructAt(std::string_view text, size_t start) {
  Construct c;
  for (size_t pos = start; c.tokens.size() < 3;) {
    Token t = nextToken(text, pos);
    if (t.kind == TokenKind::End) break;
    c.tokens.push_back(t);
    pos = t.end;
  }
  return c;
}

std::string openingBracket(std::string_view text, const LineIndex& lines, const Construct& c) {
  for (const Token& t : c.tokens) {
    if (t.kind == TokenKind::Punct && std::string_view("([{").find(text[t.begin]) != std::string_view::npos) {
      SourceLoc loc = lines.locate(t.begin);
      return std::to_string(loc.line) + ":" + std::to_string(loc.col);
    }
  }
  return "?";
}

void replaceAll(std::string& s, std::string_view what, const std::string& with) {
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size()))
    s.replace(at, what.size(), with);
}

std::string expectedText(std::string_view text, const LineIndex& lines, const ExpectationFailure& failure) {
  for (const Expectation& e : kExpectations) {
    if (e.rule != failure.which) continue;
    std::string s(e.expected);
    Construct c = constructAt(text, failure.ruleStart);
    replaceAll(s, "{0}", c.text(text, 0));
    replaceAll(s, "{1}", c.text(text, 1));
    replaceAll(s, "{open}", openingBracket(text, lines, c));
    return s;
  }
  return failure.which;  // a rule without a message: still say something true
}

// `inptu image: f32[3]` reads as an assignment to `inptu` that lacks its '='. When the word
// looks like a keyword, or another word follows it, it is a misspelt keyword.
std::optional<SyntaxProblem> unknownKeyword(std::string_view text, const Token& word, const Token& found,
                                            const std::vector<std::string>& keywords) {
  if (word.kind != TokenKind::Identifier) return std::nullopt;
  std::string w(text.substr(word.begin, word.end - word.begin));
  std::string shown = shortText(text, word);
  std::string match = closestMatch(w, keywords);
  if (!match.empty())
    return SyntaxProblem{word.begin, "unknown keyword '" + shown + "' (did you mean '" + match + "'?)"};
  if (found.kind == TokenKind::Identifier)
    return SyntaxProblem{word.begin, "unknown keyword '" + shown +
                                         "': a declaration starts with input, param, output or train, or is NAME = EXPR"};
  return std::nullopt;
}

}  // namespace

SyntaxProblem explainFailure(std::string_view text, const LineIndex& lines, const ExpectationFailure& failure) {
  Token found = nextToken(text, failure.where);
  if (failure.which == "assign_eq") {
    Token word = nextToken(text, failure.ruleStart);
    if (auto p = unknownKeyword(text, word, found, kDeclarationKeywords)) return *p;
  }
  if (failure.which == "model_header") {
    if (auto p = unknownKeyword(text, found, Token{}, {"model"})) return *p;
    // Nothing but whitespace and comments: the header is missing from the very start.
    if (found.kind == TokenKind::End)
      return SyntaxProblem{0, "expected 'model NAME' at the start of the file, found end of file"};
  }
  // At the end of the file, point just after the last token (where X3 stopped, before the
  // trailing whitespace and comments): the line that needs the fix, not an empty one.
  size_t at = found.kind == TokenKind::End ? failure.where : found.begin;
  return SyntaxProblem{at, "expected " + expectedText(text, lines, failure) + ", found " + describeToken(text, found)};
}

std::vector<std::string_view> knownExpectations() {
  std::vector<std::string_view> names;
  for (const Expectation& e : kExpectations) names.push_back(e.rule);
  return names;
}

}  // namespace nnc::syntax
