#pragma once
// Shared by the parser tests: run parseModule on a string, and print expressions compactly
// so that tree shapes can be compared as text: (+ a (* b c)), f(x, units=3), [1 2], "fc".
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/Diagnostics.h"
#include "dsl/Frontend.h"

namespace nnc::parser_test {

struct Parsed {
  std::optional<ast::Module> module;
  std::vector<Diagnostic> diags;
  std::string rendered;  // as `nnc` prints it, for file "test.nn"
};

inline Parsed parse(std::string_view source, const FrontendLimits& limits = {}) {
  DiagnosticEngine diags("test.nn", source);
  Parsed p;
  p.module = parseModule(source, diags, limits);
  p.diags = diags.diagnostics();
  p.rendered = diags.renderToString();
  return p;
}

inline std::string show(const ast::Expr& e);

inline std::string show(const ast::ExprPtr& e) { return e ? show(*e) : "<null>"; }

inline std::string show(const ast::Expr& e) {
  std::ostringstream os;
  switch (e.kind) {
    case ast::ExprKind::Number:
    case ast::ExprKind::Name:
      os << e.text;
      break;
    case ast::ExprKind::String:
      os << '"' << e.text << '"';
      break;
    case ast::ExprKind::List:
      os << '[';
      for (size_t i = 0; i < e.items.size(); ++i) os << (i ? " " : "") << show(e.items[i]);
      os << ']';
      break;
    case ast::ExprKind::Call:
      os << e.text << '(';
      for (size_t i = 0; i < e.args.size(); ++i) {
        os << (i ? ", " : "");
        if (!e.args[i].key.empty()) os << e.args[i].key << '=';
        os << show(e.args[i].value);
      }
      os << ')';
      break;
    case ast::ExprKind::Unary:
      os << '(' << e.op << ' ' << show(e.items.at(0)) << ')';
      break;
    case ast::ExprKind::Binary:
      os << '(' << e.op << ' ' << show(e.items.at(0)) << ' ' << show(e.items.at(1)) << ')';
      break;
  }
  return os.str();
}

inline std::string loc(SourceLoc l) { return std::to_string(l.line) + ":" + std::to_string(l.col); }

// "model m\n" + body: most tests only care about the declarations.
inline std::string withHeader(std::string_view body) { return "model m\n" + std::string(body); }

// The value of the first declaration of a module parsed from "model m\nx = EXPR".
inline std::string exprOf(std::string_view expr) {
  Parsed p = parse(withHeader("x = " + std::string(expr) + "\n"));
  if (!p.module) return "<error: " + p.rendered + ">";
  return show(p.module->decls.at(0).value);
}

}  // namespace nnc::parser_test
