#include "dsl/parser/Scanner.h"

#include <cstdint>
#include <cstdio>
#include <string_view>

namespace nnc::syntax {

bool isPunct(char c) { return std::string_view("()[]{},=:+-*/@").find(c) != std::string_view::npos; }

const char* skipTrivia(const char* p, const char* end) {
  while (p != end) {
    char c = *p;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++p;
    } else if (c == '#') {
      while (p != end && *p != '\n') ++p;
    } else {
      break;
    }
  }
  return p;
}

const char* scanIdentifier(const char* p, const char* end) {
  if (p == end || !isIdentifierStart(*p)) return p;
  ++p;
  while (p != end && isIdentifierChar(*p)) ++p;
  return p;
}

const char* scanReference(const char* p, const char* end) {
  const char* q = scanIdentifier(p, end);
  if (q == p) return p;
  while (q != end && *q == '.') {
    const char* next = scanIdentifier(q + 1, end);
    if (next == q + 1) break;
    q = next;
  }
  return q;
}

const char* scanNumber(const char* p, const char* end) {
  bool starts = p != end && (isDigit(*p) || (*p == '.' && p + 1 != end && isDigit(p[1])));
  if (!starts) return p;
  // Greedy on purpose: "3x" or "1.2.3" becomes one bad number token with a clear message,
  // instead of a number followed by something that makes no sense.
  while (p != end) {
    char c = *p;
    if ((c == 'e' || c == 'E') && p + 1 != end && (p[1] == '+' || p[1] == '-')) {
      p += 2;
    } else if (isIdentifierChar(c) || c == '.') {
      ++p;
    } else {
      break;
    }
  }
  return p;
}

const char* scanString(const char* p, const char* end) {
  if (p == end || *p != '"') return p;
  for (const char* q = p + 1; q != end; ++q) {
    if (*q == '"') return q + 1;
    if (*q == '\n') break;
  }
  return p;
}

Token scanToken(std::string_view text, size_t pos) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  const char* p = begin + pos;
  auto token = [&](TokenKind kind, const char* stop) { return Token{kind, pos, size_t(stop - begin)}; };
  if (p == end) return token(TokenKind::End, p);
  if (const char* q = scanReference(p, end); q != p) return token(TokenKind::Identifier, q);
  if (const char* q = scanNumber(p, end); q != p) return token(TokenKind::Number, q);
  if (*p == '"') {
    if (const char* q = scanString(p, end); q != p) return token(TokenKind::String, q);
    const char* q = p;
    while (q != end && *q != '\n') ++q;
    return token(TokenKind::UnterminatedString, q);
  }
  if (isPunct(*p)) return token(TokenKind::Punct, p + 1);
  size_t len = utf8Length(text, pos);
  return token(TokenKind::BadChar, p + (len == 0 ? 1 : len));
}

Token nextToken(std::string_view text, size_t pos) {
  const char* begin = text.data();
  const char* p = skipTrivia(begin + pos, begin + text.size());
  return scanToken(text, size_t(p - begin));
}

size_t utf8Length(std::string_view text, size_t pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char c = byte(pos);
  if (c < 0x80) return 1;
  size_t len = 0;
  uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
  else return 0;
  if (pos + len > text.size()) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(pos + i) & 0x3F);
  }
  // Reject overlong forms, UTF-16 surrogates and code points past U+10FFFF.
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

namespace {
uint32_t decodeUtf8(std::string_view text, size_t pos, size_t len) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  uint32_t cp = byte(pos) & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (size_t i = 1; i < len; ++i) cp = (cp << 6) | (byte(pos + i) & 0x3F);
  return cp;
}
}  // namespace

std::string describeChar(std::string_view text, size_t pos) {
  if (pos >= text.size()) return "end of file";
  unsigned char c = static_cast<unsigned char>(text[pos]);
  char buf[32];
  if (c >= 0x20 && c < 0x7f) {
    std::snprintf(buf, sizeof buf, "'%c'", c);
    return buf;
  }
  size_t len = utf8Length(text, pos);
  if (c < 0x80 || len == 0) {
    std::snprintf(buf, sizeof buf, "'\\x%02x'", c);
    return buf;
  }
  // (Built with += : GCC 12 warns falsely about `"'" + std::string(...)`, bug 105651.)
  std::snprintf(buf, sizeof buf, "' (U+%04X)", decodeUtf8(text, pos, len));
  std::string out = "'";
  out += text.substr(pos, len);
  out += buf;
  return out;
}

std::string shortText(std::string_view text, const Token& token, size_t maxLen) {
  std::string_view s = text.substr(token.begin, token.end - token.begin);
  if (s.size() <= maxLen) return std::string(s);
  return std::string(s.substr(0, maxLen)) + "...";
}

std::string describeToken(std::string_view text, const Token& token) {
  switch (token.kind) {
    case TokenKind::End:
      return "end of file";
    case TokenKind::String:
    case TokenKind::UnterminatedString:
      return "string " + shortText(text, token);
    case TokenKind::BadChar:
      return describeChar(text, token.begin);
    default: {
      std::string out = "'";
      out += shortText(text, token);
      out += "'";
      return out;
    }
  }
}

}  // namespace nnc::syntax
