#include "dsl/parser/GrammarRunner.h"

#include "dsl/parser/Grammar.h"

namespace nnc::syntax {

GrammarOutcome runGrammar(std::string_view text, size_t start, size_t stop) {
  grammar::ParseState state;
  state.begin = text.data();
  // x3::context holds its `next` context by reference: the skipper context must be a named
  // object that outlives the parse, not a temporary (a use after scope, found by fuzzing).
  auto skipperContext = x3::make_context<x3::skipper_tag>(grammar::trivia);
  auto context = x3::make_context<grammar::state_tag>(state, skipperContext);
  static_assert(std::is_same_v<decltype(context), grammar::context_type>,
                "the context must match the one the grammar is instantiated with");

  GrammarOutcome outcome;
  FileSyntax file;
  const char* first = text.data() + start;
  const char* last = text.data() + stop;
  bool ok = false;
  try {
    ok = grammar::fileRule().parse(first, last, context, x3::unused, file);
  } catch (const x3::expectation_failure<const char*>&) {
    // The rules' error handler has recorded the innermost failure in `state`.
  }
  if (ok) {
    outcome.file = std::move(file);
  } else if (state.failure) {
    outcome.failure = std::move(state.failure);
    outcome.completeUpTo = state.completeUpTo;
  } else {
    // The top rule ends in expectations, so this is not reached; still, report something.
    outcome.failure = ExpectationFailure{size_t(first - text.data()), "declaration_end", start};
  }
  return outcome;
}

}  // namespace nnc::syntax
