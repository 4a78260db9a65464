#include "compiler/train/EmbeddingGradBuffers.h"

#include "compiler/autodiff/IRBuilder.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc {

bool isEmbeddingGradBuffer(const std::string& stateName) {
  const std::string suffix = kEmbeddingGradBufferSuffix;
  return stateName.size() > suffix.size() &&
         stateName.compare(stateName.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<std::vector<EmbeddingGradBuffer>> accumulateEmbeddingGradients(Graph& g, std::vector<ParamGradient>& grads) {
  std::vector<EmbeddingGradBuffer> out;
  for (ParamGradient& pg : grads) {
    if (g.node(pg.grad).op != OpKind::EmbeddingGrad) continue;
    const Node grad = g.node(pg.grad);
    const Node param = g.node(pg.param);
    NodeId buffer = g.addLeaf(OpKind::State, param.name + kEmbeddingGradBufferSuffix, param.type,
                              InitAttr{"zeros", {}}.attrs());
    IRBuilder b(g, grad.loc);
    NodeId accumulated = b.op(OpKind::EmbeddingGradAccumulate, {buffer, grad.inputs[0], grad.inputs[1]});
    if (b.failed()) return *b.error();
    out.push_back({buffer, accumulated, grad.inputs[1]});
    pg.grad = accumulated;
  }
  return out;
}

Result<void> clearEmbeddingGradBuffers(Graph& g, const std::vector<EmbeddingGradBuffer>& buffers) {
  for (const EmbeddingGradBuffer& e : buffers) {
    IRBuilder b(g, g.node(e.accumulated).loc);
    NodeId cleared = b.op(OpKind::EmbeddingGradClear, {e.accumulated, e.ids});
    if (b.failed()) return *b.error();
    g.updates.push_back({e.buffer, cleared});
  }
  return {};
}

}  // namespace nnc
