#pragma once
// "did you mean ...?" for misspelt names, ops and keywords.
#include <string>
#include <string_view>
#include <vector>

namespace nnc {

// Edit distance (insert, delete, substitute, swap two adjacent characters), for short identifiers.
size_t editDistance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if it is close enough to be a plausible typo; else "".
std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "" when nothing is close.
std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace nnc
