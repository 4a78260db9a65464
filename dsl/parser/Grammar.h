#pragma once
// The X3 grammar's declaration: its top rule and the iterator and context types it is
// instantiated with (BOOST_SPIRIT_INSTANTIATE in Grammar.cpp). Only Grammar.cpp and
// GrammarRunner.cpp include this header.
#include <boost/spirit/home/x3.hpp>
#include <optional>

#include "dsl/parser/GrammarRunner.h"
#include "dsl/parser/Scanner.h"
#include "dsl/parser/SyntaxTree.h"

namespace nnc::syntax::grammar {

namespace x3 = boost::spirit::x3;

// What the rules share during one parse: the start of the text (to turn iterators into
// offsets), the first expectation failure, and how far the declarations were complete.
struct ParseState {
  const char* begin = nullptr;
  std::optional<ExpectationFailure> failure;
  size_t completeUpTo = 0;  // end of the last complete declaration
};
struct state_tag;

// Skips whitespace and comments exactly as Scanner.h defines them.
struct TriviaSkipper : x3::parser<TriviaSkipper> {
  using attribute_type = x3::unused_type;
  static bool const has_attribute = false;

  template <typename Iterator, typename Context, typename RContext, typename Attribute>
  bool parse(Iterator& first, Iterator const& last, Context const&, RContext&, Attribute&) const {
    Iterator end = skipTrivia(first, last);
    if (end == first) return false;
    first = end;
    return true;
  }
};
inline constexpr TriviaSkipper trivia{};

using iterator_type = const char*;
using skipper_context_type = x3::phrase_parse_context<TriviaSkipper>::type;
using context_type = x3::context<state_tag, ParseState, skipper_context_type>;

struct file_id;
using file_type = x3::rule<file_id, FileSyntax>;
BOOST_SPIRIT_DECLARE(file_type)

file_type const& fileRule();

}  // namespace nnc::syntax::grammar
