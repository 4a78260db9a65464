#pragma once
// Collects errors about one model file and renders them the way LANGUAGE.md fixes:
//   FILE:LINE:COL: error: MESSAGE
//   <the source line>
//   <a caret under the column>
// Warnings (a legal model that is probably not what was meant) render the same way with
// `warning:`; they do not make a model fail.
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "support/Result.h"
#include "support/SourceLoc.h"

namespace nnc {

enum class Severity { Error, Warning };

struct Diagnostic {
  SourceLoc loc;
  std::string message;
  Severity severity = Severity::Error;
};

class DiagnosticEngine {
 public:
  DiagnosticEngine(std::string fileName, std::string_view source)
      : fileName_(std::move(fileName)), source_(source) {}

  void error(SourceLoc loc, std::string message);
  void error(const Error& err) { error(err.loc, err.message); }
  void warning(SourceLoc loc, std::string message);
  void report(Diagnostic d);

  bool hasErrors() const { return errorCount_ > 0; }
  const std::vector<Diagnostic>& diagnostics() const { return diags_; }
  const std::string& fileName() const { return fileName_; }

  // Renders the diagnostics in the order reported: every warning, and the first
  // kMaxErrorsShown errors followed by "N more errors not shown" (as compilers cap them: the
  // first errors are the ones to fix, and a hundred copies of one mistake hide them).
  static constexpr size_t kMaxErrorsShown = 20;
  void render(std::ostream& os) const;
  std::string renderToString() const;

 private:
  std::string fileName_;
  std::string_view source_;
  std::vector<Diagnostic> diags_;
  size_t errorCount_ = 0;
};

// Renders one diagnostic against a source text (used by DiagnosticEngine and the API).
std::string renderDiagnostic(std::string_view fileName, std::string_view source, const Diagnostic& d);

}  // namespace nnc
