#pragma once
// Reverse-mode differentiation of a graph, in place: appends the nodes that compute the
// gradient of a scalar loss with respect to chosen leaves (the trainable Params, or any
// node a test asks for).
#include <vector>

#include "compiler/ir/Graph.h"
#include "support/Result.h"

namespace nnc {

struct Gradients {
  // One per requested node, in the order requested; each has that node's type. A node the
  // loss does not depend on gets a zero constant (and is listed in `unreached`).
  std::vector<NodeId> grads;
  std::vector<NodeId> unreached;
};

// Walks the graph backwards from `loss` (an f32 scalar, seeded with 1), applies the gradient
// rule of every node on a path from a `wrt` node to the loss and sums the gradients of values
// used several times. Errors, located at the offending node: an op on such a path that has
// no gradient rule (`cannot differentiate 'argmax' on the path to the loss`), a non-scalar
// loss, an integer `wrt` node.
Result<Gradients> differentiate(Graph& g, NodeId loss, const std::vector<NodeId>& wrt);

}  // namespace nnc
