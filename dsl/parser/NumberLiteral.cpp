#include "dsl/parser/NumberLiteral.h"

#include <charconv>
#include <cmath>
#include <string>

#include "dsl/parser/Scanner.h"

namespace nnc::syntax {

namespace {

size_t skipDigits(std::string_view s, size_t i) {
  while (i < s.size() && isDigit(s[i])) ++i;
  return i;
}

// digits [. digits] [e [+-] digits], or . digits [e [+-] digits]
bool wellFormed(std::string_view s, bool& isInteger) {
  size_t i = skipDigits(s, 0);
  bool mantissaDigits = i > 0;
  isInteger = true;
  if (i < s.size() && s[i] == '.') {
    isInteger = false;
    size_t j = skipDigits(s, i + 1);
    mantissaDigits = mantissaDigits || j > i + 1;
    i = j;
  }
  if (!mantissaDigits) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    isInteger = false;
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t j = skipDigits(s, i);
    if (j == i) return false;
    i = j;
  }
  return i == s.size();
}

std::string quoted(std::string_view s) {
  // Long garbage is shortened the way other tokens are.
  std::string out = "'";
  out += s.size() > 40 ? std::string(s.substr(0, 40)) + "..." : std::string(s);
  out += "'";
  return out;
}

}  // namespace

Result<NumberValue> readNumber(std::string_view text) {
  NumberValue n;
  if (!wellFormed(text, n.isInteger)) return makeError("invalid number " + quoted(text));
  const char* first = text.data();
  const char* last = first + text.size();
  if (n.isInteger) {
    auto [end, ec] = std::from_chars(first, last, n.integer);
    if (ec != std::errc() || end != last) return makeError("number " + quoted(text) + " is out of range");
    n.value = static_cast<double>(n.integer);
    return n;
  }
  auto [end, ec] = std::from_chars(first, last, n.value);
  if (ec != std::errc() || end != last || !std::isfinite(n.value))
    return makeError("number " + quoted(text) + " is out of range");
  return n;
}

}  // namespace nnc::syntax
