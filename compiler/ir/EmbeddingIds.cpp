#include "compiler/ir/EmbeddingIds.h"

namespace nnc {

std::string embeddingIdMessage(const std::string& source, const std::vector<int64_t>& shape, const BadEmbeddingId& bad,
                               int64_t vocab, const std::string& embedding) {
  // The flat index as a position in the row-major shape.
  std::vector<int64_t> position(shape.size(), 0);
  int64_t rest = bad.flatIndex;
  for (size_t d = shape.size(); d-- > 0;) {
    int64_t extent = shape[d] > 0 ? shape[d] : 1;
    position[d] = rest % extent;
    rest /= extent;
  }
  std::string at = "[";
  for (size_t d = 0; d < position.size(); ++d) at += (d ? ", " : "") + std::to_string(position[d]);
  at += "]";
  std::string msg = source + ": id " + std::to_string(bad.value) + " at " + at + " is outside [0, " +
                    std::to_string(vocab) + "), the vocabulary of ";
  msg += embedding.empty() ? std::string("an embedding") : "embedding '" + embedding + "'";
  return msg;
}

std::string embeddingIdSource(const Graph& g, NodeId ids) {
  NodeId at = ids;
  while (g.node(at).op == OpKind::Reshape) at = g.node(at).inputs[0];
  const Node& n = g.node(at);
  if (n.op == OpKind::Input) return "input '" + n.name + "'";
  return "the ids (node %" + std::to_string(ids) + ")";
}

std::string embeddingLayerName(const Graph& g, const Node& embedding) {
  if (embedding.inputs.empty()) return "";
  std::string name = g.node(embedding.inputs[0]).name;
  const std::string suffix = ".weight";
  if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
    name.resize(name.size() - suffix.size());
  return name;
}

}  // namespace nnc
