#include "support/Suggest.h"

#include <algorithm>

namespace nnc {

size_t editDistance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus swapping two adjacent characters as one edit,
  // the most common typo ("inptu" is one edit from "input", not two).
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  // Identifiers longer than this are not typos of anything we know.
  if (word.size() > 64) return {};
  std::string best;
  size_t bestDist = SIZE_MAX;
  for (const std::string& c : candidates) {
    if (c == word) continue;
    size_t d = editDistance(word, c);
    if (d < bestDist) bestDist = d, best = c;
  }
  // Allow about one edit per three characters, at least one.
  size_t allowed = std::max<size_t>(1, std::max(word.size(), best.size()) / 3);
  return bestDist <= allowed ? best : std::string{};
}

std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string m = closestMatch(word, candidates);
  return m.empty() ? std::string{} : " (did you mean '" + m + "'?)";
}

}  // namespace nnc
