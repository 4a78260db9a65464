#pragma once
// Collects errors about one model file and renders them the way LANGUAGE.md fixes:
//   FILE:LINE:COL: error: MESSAGE
//   <the source line>
//   <a caret under the column>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "support/Result.h"
#include "support/SourceLoc.h"

namespace nnc {

struct Diagnostic {
  SourceLoc loc;
  std::string message;
};

class DiagnosticEngine {
 public:
  DiagnosticEngine(std::string fileName, std::string_view source)
      : fileName_(std::move(fileName)), source_(source) {}

  void error(SourceLoc loc, std::string message);
  void error(const Error& err) { error(err.loc, err.message); }

  bool hasErrors() const { return !diags_.empty(); }
  const std::vector<Diagnostic>& diagnostics() const { return diags_; }
  const std::string& fileName() const { return fileName_; }

  // Renders every diagnostic, in the order reported.
  void render(std::ostream& os) const;
  std::string renderToString() const;

 private:
  std::string fileName_;
  std::string_view source_;
  std::vector<Diagnostic> diags_;
};

// Renders one diagnostic against a source text (used by DiagnosticEngine and the API).
std::string renderDiagnostic(std::string_view fileName, std::string_view source, const Diagnostic& d);

}  // namespace nnc
