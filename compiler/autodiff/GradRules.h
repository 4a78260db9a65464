#pragma once
// The gradient rules: one entry per op of Ops.def (GradRules.cpp), in the spirit of
// tinygrad's gradient.py. Given a forward node and the gradient of its output, a rule emits
// the gradients of its operands as ordinary IR ops.
#include <vector>

#include "compiler/autodiff/IRBuilder.h"

namespace nnc {

// GradKind (Rule, Constant, None) is the registry's (compiler/ir/Op.h): a Constant op's
// output carries no gradient back; reaching a None op on the path from a parameter to the
// loss is an error (argmax), or it never appears in a graph being differentiated.

// What a rule sees: the forward node (a copy: emitting nodes may move the graph's storage),
// its id (the forward output, which sigmoid, tanh, exp, softmax... reuse), the output's
// gradient, and which operands want a gradient (rules skip the others to emit no dead code).
struct GradInput {
  Node node;
  NodeId output;
  NodeId grad;
  std::vector<bool> wanted;
};

// One gradient per operand; kNoNode for an operand that gets none. Each gradient has its
// operand's exact type.
using GradFn = std::vector<NodeId> (*)(IRBuilder& b, const GradInput& in);

struct GradRule {
  OpKind op;
  GradKind kind;
  GradFn fn;        // Rule only
  const char* why;  // Constant / None: the reason, shown in errors and read by people
};

// The entry for `op`.
const GradRule& gradRule(OpKind op);
// The whole table, in Ops.def order (tests check it covers every op once).
const std::vector<GradRule>& gradRuleTable();

// Whether gradient flows from the output into operand `index` of a node (false for
// Select's condition and for every operand of a Constant-kind op). Used to find the nodes
// on the path from the parameters to the loss.
bool gradFlowsInto(const Node& n, size_t index);

}  // namespace nnc
