#pragma once
// The stable, readable text form of a graph (`nnc FILE ir --stage ...`):
//   graph fashion_mlp {
//     %image = input : f32[batch, 28, 28]
//     %h1.weight = param {init=glorot_uniform} : f32[784, 256]
//     %3 = matmul(%flat, %h1.weight) {transpose_a=0, transpose_b=0} : f32[batch, 256]
//     output probs = %probs
//     update %h1.weight <- %57
//     loss %12
//   }
// Nodes are named by their name when it is unique, else by their id.
#include <iosfwd>
#include <string>

#include "compiler/ir/Graph.h"

namespace nnc {

void printGraph(const Graph& g, std::ostream& os);
std::string printGraph(const Graph& g);

}  // namespace nnc
