#pragma once
// The persistent gradient buffer of an embedding table under a stateful optimizer (issue 13).
//
// A table whose whole gradient is one embedding_grad(dy, ids) would get a dense [vocab, dim]
// gradient every step: zeroed in full, then the batch's rows summed in. Adam, momentum,
// RMSprop, Adadelta and Adagrad read the whole gradient (PyTorch's dense-gradient semantics:
// their state decays in untouched rows), but the gradient itself differs from zero only in
// the rows the ids name. So the training step keeps it in a State leaf
// "<param>/grad_buffer", zero between steps:
//
//   g   = embedding_grad_accumulate(buffer, dy, ids)   the batch's rows added into the zeros
//   ... the optimizer reads g (the whole buffer) ...
//   buffer <- embedding_grad_clear(g, ids)             those rows set back to zero
//
// Both are computed in the buffer's own bytes (InPlaceAccumulations.h, InPlaceUpdates.h), so
// the gradient's kernels write only the touched rows. From a zero buffer the accumulation
// sums in embedding_grad's order, so the step's results are bit-identical to the dense
// gradient's. The buffer is scratch, not model state: checkpoints leave it out (it is zero
// whenever a step is not running) and it starts zero.
//
// Plain SGD without weight decay takes its own sparse step (embedding_sgd_update) instead.
#include <string>
#include <vector>

#include "compiler/ir/Graph.h"
#include "compiler/train/Optimizers.h"
#include "support/Result.h"

namespace nnc {

inline constexpr const char* kEmbeddingGradBufferSuffix = "/grad_buffer";
// Whether a State leaf is such a buffer (scratch, left out of checkpoints).
bool isEmbeddingGradBuffer(const std::string& stateName);

// What the step must clear after the optimizer's update.
struct EmbeddingGradBuffer {
  NodeId buffer = kNoNode;       // the State leaf
  NodeId accumulated = kNoNode;  // embedding_grad_accumulate(buffer, dy, ids)
  NodeId ids = kNoNode;
};

// For every gradient in `grads` that is one embedding_grad: adds the buffer and its
// accumulation to `g`, and makes the accumulation that parameter's gradient.
Result<std::vector<EmbeddingGradBuffer>> accumulateEmbeddingGradients(Graph& g, std::vector<ParamGradient>& grads);

// The buffers' clearing updates. Called after the optimizer's updates were added, so that the
// clearing comes after every reader of the gradient (kernels run in node order).
Result<void> clearEmbeddingGradBuffers(Graph& g, const std::vector<EmbeddingGradBuffer>& buffers);

}  // namespace nnc
