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

// " (did you mean 'x'?)" or "" when nothing is close. Meaning comes before spelling: a
// Keras or PyTorch name that nnc spells differently (`concatenate`, `learning_rate`,
// `BatchNormalization`, `xavier_uniform`) gets nnc's name for the same thing, and a name
// nnc lacks gets how to write it (`global_maxpool` is not `global_avgpool`), before the
// closest spelling is tried. Case and underscores are ignored first (`Dense`, `LeakyReLU`).
std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace nnc
