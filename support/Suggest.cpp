#include "support/Suggest.h"

#include <algorithm>
#include <cctype>

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

namespace {

// "BatchNorm_2d" -> "batchnorm2d": how Keras, PyTorch and nnc spellings of a name compare.
std::string folded(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Names from Keras and PyTorch (compared folded) and what nnc calls them. An entry applies
// when `name` is among the candidates (so one table serves operations, keys and arguments);
// with `write`, the hint is that expression instead, for what nnc has no name for. The first
// entry of a word that applies wins, so a later op that gains the name takes precedence.
struct Alias {
  const char* word;
  const char* name;
  const char* write = nullptr;
};
constexpr Alias kAliases[] = {
    // layers
    {"Linear", "dense"},
    {"BatchNormalization", "batchnorm"},
    {"BatchNorm1d", "batchnorm"},
    {"BatchNorm2d", "batchnorm"},
    {"LayerNormalization", "layernorm"},
    {"LayerNorm", "layernorm"},
    {"SimpleRNN", "rnn"},
    {"Conv2d", "conv2d"},
    {"Conv1d", "conv1d"},
    {"Conv2DTranspose", "conv2d_transpose"},
    {"ConvTranspose2d", "conv2d_transpose"},
    {"DepthwiseConv2D", "depthwise_conv2d"},
    {"SeparableConv2D", "separable_conv2d"},
    {"MultiHeadAttention", "multi_head_attention"},
    // operations
    {"concatenate", "concat"},
    {"cat", "concat"},
    {"MaxPooling2D", "maxpool"},
    {"MaxPool2d", "maxpool"},
    {"max_pool2d", "maxpool"},
    {"AveragePooling2D", "avgpool"},
    {"AvgPool2d", "avgpool"},
    {"avg_pool2d", "avgpool"},
    {"GlobalAveragePooling2D", "global_avgpool"},
    {"adaptive_avg_pool2d", "global_avgpool"},
    {"GlobalMaxPooling2D", "global_maxpool"},
    {"GlobalMaxPooling2D", "max", "max(x, axis = [1, 2])"},
    {"global_maxpool", "max", "max(x, axis = [1, 2])"},
    {"swish", "silu"},
    {"swish", "sigmoid", "x * sigmoid(x)"},
    {"silu", "swish"},
    {"silu", "sigmoid", "x * sigmoid(x)"},
    {"reduce_sum", "sum"},
    {"reduce_mean", "mean"},
    {"reduce_max", "max"},
    {"permute", "transpose"},
    {"view", "reshape"},
    // losses
    {"categorical_crossentropy", "cross_entropy"},
    {"sparse_categorical_crossentropy", "cross_entropy"},
    {"CrossEntropyLoss", "cross_entropy"},
    {"binary_crossentropy", "binary_cross_entropy"},
    {"BCEWithLogitsLoss", "binary_cross_entropy"},
    {"mean_squared_error", "mse"},
    {"MSELoss", "mse"},
    {"huber_loss", "huber"},
    {"HuberLoss", "huber"},
    // initializers
    {"xavier_uniform", "glorot_uniform"},
    {"xavier_normal", "glorot_normal"},
    {"kaiming_uniform", "he_uniform"},
    {"kaiming_normal", "he_normal"},
    // arguments and train-block keys
    {"learning_rate", "lr"},
    {"batch_size", "batch"},
    {"validation_split", "validation"},
    {"beta_1", "beta1"},
    {"beta_2", "beta2"},
    {"epsilon", "eps"},
    {"kernel_size", "kernel"},
    {"strides", "stride"},
    {"out_features", "units"},
    {"out_channels", "filters"},
    {"use_bias", "bias"},
    {"dilation_rate", "dilation"},
    {"dim", "axis"},
    {"return_sequences", "sequences"},
    {"num_heads", "heads"},
    {"kernel_initializer", "init"},
};

std::string byMeaning(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string w = folded(word);
  auto has = [&](const char* name) { return std::find(candidates.begin(), candidates.end(), name) != candidates.end(); };
  for (const Alias& a : kAliases)
    if (folded(a.word) == w && has(a.name))
      return a.write ? std::string(" (nnc has no '") + std::string(word) + "'; write " + a.write + ")"
                     : std::string(" (did you mean '") + a.name + "'?)";
  return {};
}

}  // namespace

std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  // Identifiers longer than this are not typos of anything we know.
  if (word.size() > 64) return {};
  // `Dense`, `LeakyReLU`: the same name in another case or with other underscores.
  for (const std::string& c : candidates)
    if (c != word && folded(c) == folded(word)) return c;
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
  if (word.size() <= 64)
    if (std::string hint = byMeaning(word, candidates); !hint.empty()) return hint;
  std::string m = closestMatch(word, candidates);
  return m.empty() ? std::string{} : " (did you mean '" + m + "'?)";
}

}  // namespace nnc
