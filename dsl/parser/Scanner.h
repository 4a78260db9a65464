#pragma once
// The lexical rules of `.nn`, in one place. The pre-scan walks a file with them, the grammar's
// token parsers (identifiers, numbers, strings, trivia) call them, and syntax messages use
// them to say what was found; so all three always agree on where a token starts and ends.
//
//   trivia      spaces, tabs, '\r', '\n', and '#' to the end of the line
//   identifier  [A-Za-z_][A-Za-z0-9_]*
//   reference   identifier ('.' identifier)*: in expressions, `h1.weight` reads a layer's
//               parameter by its name (the pre-scan takes it as one identifier token)
//   number      starts with a digit, or '.' then a digit; then takes every letter, digit,
//               '_' and '.', and a sign right after 'e' / 'E'. Whether the text is a valid
//               number ("1e-3" is, "3x" and "1.2.3" are not) is checked when it is converted.
//   string      '"' ... '"' on one line, no escapes
//   punctuation ( ) [ ] { } , = : + - * / @
#include <cstddef>
#include <string>
#include <string_view>

namespace nnc::syntax {

enum class TokenKind {
  End,                 // end of the text
  Identifier,
  Number,
  String,              // with both quotes
  UnterminatedString,  // from the opening quote to the end of the line
  Punct,
  BadChar,             // a byte (or UTF-8 character) that starts no token
};

struct Token {
  TokenKind kind = TokenKind::End;
  size_t begin = 0;
  size_t end = 0;
};

inline bool isIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool isIdentifierChar(char c) { return isIdentifierStart(c) || (c >= '0' && c <= '9'); }
inline bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isPunct(char c);

// Each returns the end of the token starting at `p`, or `p` when none starts there.
const char* skipTrivia(const char* p, const char* end);
const char* scanIdentifier(const char* p, const char* end);
// An identifier, then any number of '.' identifier (a parameter name such as `fc.weight`).
const char* scanReference(const char* p, const char* end);
const char* scanNumber(const char* p, const char* end);
// The end of a string's closing quote; `p` when `p` is not '"' or the string is unterminated.
const char* scanString(const char* p, const char* end);

// The token at `pos`, which must not be inside trivia.
Token scanToken(std::string_view text, size_t pos);
// The first token at or after `pos`, skipping trivia.
Token nextToken(std::string_view text, size_t pos);

// Length of the valid UTF-8 sequence at `pos` (1 for ASCII), or 0 when the bytes there are
// not valid UTF-8.
size_t utf8Length(std::string_view text, size_t pos);

// How messages show the character at `pos`: 'x', '\x00' for control and invalid bytes,
// 'é' (U+00E9) for other UTF-8 characters.
std::string describeChar(std::string_view text, size_t pos);

// How messages show a token: end of file, 'relu', '256', '(', string "fc". Very long tokens
// are shortened.
std::string describeToken(std::string_view text, const Token& token);

// A token's text, shortened to at most `maxLen` characters with "..." when longer.
std::string shortText(std::string_view text, const Token& token, size_t maxLen = 40);

}  // namespace nnc::syntax
