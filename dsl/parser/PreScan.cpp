#include "dsl/parser/PreScan.h"

#include <vector>

#include "dsl/parser/NumberLiteral.h"
#include "dsl/parser/Scanner.h"

namespace nnc::syntax {

namespace {

// The first byte inside a string's quotes that a string may not hold: control characters
// and bytes that are not UTF-8 text.
std::optional<size_t> badStringByte(std::string_view text, const Token& str) {
  for (size_t i = str.begin + 1; i + 1 < str.end;) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = utf8Length(text, i);
    if (c < 0x20 || c == 0x7f || len == 0) return i;
    i += len;
  }
  return std::nullopt;
}

// Open brackets and pending unary minus signs, innermost last.
class NestingTracker {
 public:
  explicit NestingTracker(size_t limit) : limit_(limit) {}

  // False when this opening makes the nesting deeper than the limit.
  bool open(char what) {
    stack_.push_back(what);
    return stack_.size() <= limit_;
  }
  void close() {
    popMinusSigns();  // only in malformed text like `(-)`
    if (!stack_.empty()) stack_.pop_back();
    operandEnded();
  }
  // A minus sign's operand ends with the atom or bracketed group that follows it.
  void operandEnded() { popMinusSigns(); }

 private:
  void popMinusSigns() {
    while (!stack_.empty() && stack_.back() == '-') stack_.pop_back();
  }
  size_t limit_;
  std::vector<char> stack_;
};

}  // namespace

std::string nestingMessage(size_t maxNesting) {
  return "nesting deeper than " + std::to_string(maxNesting) + " levels (the limit)";
}

std::optional<EarlyProblem> preScan(std::string_view text, size_t start, size_t maxNesting) {
  NestingTracker nesting(maxNesting);
  bool afterOperand = false;  // decides whether a '-' is unary
  for (size_t pos = start;;) {
    Token t = nextToken(text, pos);
    pos = t.end;
    switch (t.kind) {
      case TokenKind::End:
        return std::nullopt;
      case TokenKind::BadChar:
        return EarlyProblem{{t.begin, "unexpected character " + describeChar(text, t.begin)}, t.begin};
      case TokenKind::UnterminatedString:
        return EarlyProblem{{t.begin, "unterminated string: a string ends with '\"' on the same line"}, t.begin};
      case TokenKind::String:
        if (auto bad = badStringByte(text, t))
          return EarlyProblem{{*bad, "unexpected character " + describeChar(text, *bad) + " in a string"}, t.begin};
        nesting.operandEnded();
        afterOperand = true;
        break;
      case TokenKind::Number:
        if (Result<NumberValue> v = readNumber(text.substr(t.begin, t.end - t.begin)); !v)
          return EarlyProblem{{t.begin, v.error().message}, t.begin};
        nesting.operandEnded();
        afterOperand = true;
        break;
      case TokenKind::Identifier: {
        // A callee's operand goes on to the end of its call: keep the minus signs until ')'.
        Token next = nextToken(text, t.end);
        bool isCall = next.kind == TokenKind::Punct && text[next.begin] == '(';
        if (!isCall) nesting.operandEnded();
        afterOperand = true;
        break;
      }
      case TokenKind::Punct: {
        char c = text[t.begin];
        bool unaryMinus = c == '-' && !afterOperand;
        if (c == '(' || c == '[' || unaryMinus) {
          if (!nesting.open(c)) return EarlyProblem{{t.begin, nestingMessage(maxNesting)}, t.begin};
        } else if (c == ')' || c == ']') {
          nesting.close();
        }
        afterOperand = c == ')' || c == ']';
        break;
      }
    }
  }
}

}  // namespace nnc::syntax
