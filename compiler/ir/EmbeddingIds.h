#pragma once
// The run-time error of `embedding`: an id outside [0, vocab). The interpreter, the JIT's
// host side and the AOT runtime's callers describe it alike: what holds the id (an input by
// name), the value, its position, and the embedding it indexes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/Graph.h"

namespace nnc {

// The compiled entry points return this when an embedding id is out of range (before any
// state changed); runtime/include/nnc/aot.h names it NNC_AOT_ERR_INDEX.
inline constexpr int32_t kEntryIdOutOfRange = -8;

struct BadEmbeddingId {
  int64_t flatIndex = 0;
  int64_t value = 0;
};

// The first of `count` ids outside [0, vocab), if any; `at(i)` reads id i.
template <class At>
std::optional<BadEmbeddingId> findBadEmbeddingId(int64_t count, int64_t vocab, At at) {
  for (int64_t i = 0; i < count; ++i) {
    int64_t v = static_cast<int64_t>(at(i));
    if (v < 0 || v >= vocab) return BadEmbeddingId{i, v};
  }
  return std::nullopt;
}

// "input 'ids': id 70000 at [3, 5] is outside [0, 50000), the vocabulary of embedding 'emb'"
// `source` names what holds the ids ("input 'ids'"), `shape` is its concrete shape.
std::string embeddingIdMessage(const std::string& source, const std::vector<int64_t>& shape, const BadEmbeddingId& bad,
                               int64_t vocab, const std::string& embedding);

// What holds the ids of an embedding, for messages: "input 'ids'" (through reshapes), else
// "the ids of node %5".
std::string embeddingIdSource(const Graph& g, NodeId ids);
// The layer an Embedding node belongs to: its table's name without ".weight" ("emb").
std::string embeddingLayerName(const Graph& g, const Node& embedding);

}  // namespace nnc
