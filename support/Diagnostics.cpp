#include "support/Diagnostics.h"

#include <ostream>
#include <sstream>

namespace nnc {

namespace {
std::string_view lineOf(std::string_view source, uint32_t line) {
  if (line == 0) return {};
  size_t start = 0;
  for (uint32_t l = 1; l < line; ++l) {
    size_t nl = source.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  size_t end = source.find('\n', start);
  if (end == std::string_view::npos) end = source.size();
  std::string_view text = source.substr(start, end - start);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

// Control bytes (binary files) would garble a terminal: show them as '?'.
std::string printable(std::string_view text, size_t maxLen) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < maxLen; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    out += (c == '\t' || (c >= 0x20 && c != 0x7f)) ? static_cast<char>(c) : '?';
  }
  return out;
}
}  // namespace

void DiagnosticEngine::error(SourceLoc loc, std::string message) {
  report(Diagnostic{loc, std::move(message), Severity::Error});
}

void DiagnosticEngine::warning(SourceLoc loc, std::string message) {
  report(Diagnostic{loc, std::move(message), Severity::Warning});
}

void DiagnosticEngine::report(Diagnostic d) {
  if (d.severity == Severity::Error) ++errorCount_;
  diags_.push_back(std::move(d));
}

std::string renderDiagnostic(std::string_view fileName, std::string_view source, const Diagnostic& d) {
  std::ostringstream os;
  os << fileName;
  if (d.loc.valid()) os << ':' << d.loc.line << ':' << d.loc.col;
  os << (d.severity == Severity::Warning ? ": warning: " : ": error: ") << d.message << '\n';
  if (d.loc.valid()) {
    // Very long lines (minified or generated files) are cut around the column.
    constexpr size_t kMaxShown = 240;
    std::string_view text = lineOf(source, d.loc.line);
    size_t col = d.loc.col > 0 ? d.loc.col - 1 : 0;
    size_t from = col > kMaxShown / 2 && text.size() > kMaxShown ? col - kMaxShown / 2 : 0;
    if (from > text.size()) from = text.size();
    std::string shown = printable(text.substr(from), kMaxShown);
    os << shown << '\n';
    std::string caret;
    for (size_t i = from; i < col && i - from < shown.size(); ++i) caret += (text[i] == '\t') ? '\t' : ' ';
    os << caret << "^\n";
  }
  return os.str();
}

void DiagnosticEngine::render(std::ostream& os) const {
  size_t errors = 0;
  for (const Diagnostic& d : diags_) {
    if (d.severity == Severity::Error && ++errors > kMaxErrorsShown) continue;
    os << renderDiagnostic(fileName_, source_, d);
  }
  if (errors > kMaxErrorsShown) {
    size_t hidden = errors - kMaxErrorsShown;
    os << fileName_ << ": note: " << hidden << " more error" << (hidden == 1 ? "" : "s") << " not shown\n";
  }
}

std::string DiagnosticEngine::renderToString() const {
  std::ostringstream os;
  render(os);
  return os.str();
}

}  // namespace nnc
