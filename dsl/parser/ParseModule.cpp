// parseModule: the parser's entry point (declared in dsl/Frontend.h).
//
//   1. size limit;
//   2. pre-scan (PreScan.h): stray bytes, unterminated strings, bad numbers, deep nesting;
//   3. the X3 grammar (GrammarRunner.h), on the text before the pre-scan's problem if any;
//   4. conversion to the AST with the checks the grammar leaves (ToAst.h).
// Only the first syntax error of a file is reported: the earliest of what steps 2-4 find.
// (Step 4 checks whole declarations, so a problem it finds inside the declaration where the
// grammar failed is not reported: the grammar's error, in the same declaration, is.)
#include <string>

#include "dsl/Frontend.h"
#include "dsl/parser/GrammarRunner.h"
#include "dsl/parser/LineIndex.h"
#include "dsl/parser/PreScan.h"
#include "dsl/parser/Scanner.h"
#include "dsl/parser/SyntaxMessages.h"
#include "dsl/parser/ToAst.h"

namespace nnc {

namespace {

// A UTF-8 byte order mark, as some editors write at the start of a file, is skipped.
size_t textStart(std::string_view source) {
  return source.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
}

std::string sizeMessage(size_t size, size_t limit) {
  return "the file is " + std::to_string(size) + " bytes, more than the limit of " + std::to_string(limit) +
         " bytes";
}

}  // namespace

std::optional<ast::Module> parseModule(std::string_view source, DiagnosticEngine& diags,
                                       const FrontendLimits& limits) {
  using namespace syntax;
  if (source.size() > limits.maxSourceBytes) {
    diags.error(SourceLoc{1, 1}, sizeMessage(source.size(), limits.maxSourceBytes));
    return std::nullopt;
  }
  LineIndex lines(source);
  auto report = [&](const SyntaxProblem& p) -> std::optional<ast::Module> {
    diags.error(lines.locate(p.offset), p.message);
    return std::nullopt;
  };

  size_t start = textStart(source);
  std::optional<EarlyProblem> early = preScan(source, start, limits.maxNesting);
  // The grammar never sees the pre-scan's problem; what it finds before it comes first.
  size_t stop = early ? early->tokenStart : source.size();
  GrammarOutcome parsed = runGrammar(source, start, stop);
  if (parsed.failure) {
    // The declarations before the failure are complete: what ToAst finds in them comes first.
    if (parsed.completeUpTo > start) {
      GrammarOutcome complete = runGrammar(source, start, parsed.completeUpTo);
      if (complete.file) {
        AstOutcome checked = toAst(*complete.file, lines, limits.maxNesting);
        if (checked.problem) return report(*checked.problem);
      }
    }
    size_t found = nextToken(source, parsed.failure->where).begin;
    if (early && found >= stop) return report(early->problem);
    return report(explainFailure(source, lines, *parsed.failure));
  }
  AstOutcome converted = toAst(*parsed.file, lines, limits.maxNesting);
  if (converted.problem) return report(*converted.problem);
  if (early) return report(early->problem);
  return std::move(converted.module);
}

}  // namespace nnc
