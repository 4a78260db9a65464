#pragma once
// The recurrent cells (rnn, lstm, gru) of the `recurrence` and `recurrence_grad` ops: what
// each saves per time step and where, read alike by the shape rules, the interpreter, the
// gradient rule and the code generator.
//
// recurrence(xp[B,T,N], w_recurrent[u,N] [, recurrent_bias[N] (gru)]) runs the time loop
// over xp, the input projection of every step (x @ w_input + bias, one matrix product in
// the graph), and returns the saved states [B,T,S]: h in columns [0, u), then what the
// backward loop needs (below). `reverse = 1` runs the loop from the last step to the first
// (the backward half of a bidirectional layer) without moving any data: step t's state is
// stored at t either way, and the "previous" state of t is that of t + 1.
//
// recurrence_grad(dh[B,T,u], saved[B,T,S], w_recurrent[u,N] [, d_activation[B,T,u] (rnn)])
// is the reverse loop: from the gradient of every step's h it returns the gradient of
// every step's gate pre-activations, [B,T,N]; for gru [B,T,2N], the input side (the
// gradient of xp) then the recurrent side (of h_prev @ w_recurrent + recurrent_bias),
// which differ in the new gate. The weights' gradients are whole-sequence products of
// these in the graph (GradRules.cpp).
//
// Saved columns per step (u units, N = gates * u):
//   rnn:  h, p (the pre-activation)                                      S = 2u, N = u
//   lstm: h, c, i, f, g, o (gates after their activations)               S = 6u, N = 4u
//   gru:  h, r, z, n, hn (hn = h_prev @ U_n + c_n, before r multiplies)  S = 5u, N = 3u
#include <cstdint>
#include <optional>
#include <string>

#include "compiler/ir/Attrs.h"
#include "compiler/ir/Op.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc {

enum class RecurrentCellKind { Rnn, Lstm, Gru };

struct RecurrentCell {
  RecurrentCellKind kind = RecurrentCellKind::Rnn;
  int64_t units = 0;
  bool reverse = false;
  OpKind activation = OpKind::Tanh;  // rnn only
  bool identity = false;             // rnn with activation = none

  int64_t gates() const { return kind == RecurrentCellKind::Rnn ? 1 : kind == RecurrentCellKind::Lstm ? 4 : 3; }
  int64_t gateWidth() const { return gates() * units; }  // N
  int64_t savedWidth() const {                            // S
    return units * (kind == RecurrentCellKind::Rnn ? 2 : kind == RecurrentCellKind::Lstm ? 6 : 5);
  }
  int64_t gradWidth() const { return kind == RecurrentCellKind::Gru ? 2 * gateWidth() : gateWidth(); }
  // Operand counts of the two ops.
  size_t forwardOperands() const { return kind == RecurrentCellKind::Gru ? 3 : 2; }
  size_t gradOperands() const { return kind == RecurrentCellKind::Rnn ? 4 : 3; }
  const char* name() const { return kind == RecurrentCellKind::Rnn ? "rnn" : kind == RecurrentCellKind::Lstm ? "lstm" : "gru"; }
};

// The cell an op's attributes describe (`cell`, `units`, `reverse`, `activation`), or the
// reason they do not describe one.
inline std::optional<RecurrentCell> recurrentCellOf(const Attrs& a, std::string* why = nullptr) {
  RecurrentCell c;
  const RecurrentAttr r = RecurrentAttr::of(a);
  const std::string& cell = r.cell;
  if (cell == "rnn") c.kind = RecurrentCellKind::Rnn;
  else if (cell == "lstm") c.kind = RecurrentCellKind::Lstm;
  else if (cell == "gru") c.kind = RecurrentCellKind::Gru;
  else {
    if (why) *why = "attribute 'cell' must be rnn, lstm or gru, got '" + cell + "'";
    return std::nullopt;
  }
  c.units = r.units;
  if (c.units <= 0) {
    if (why) *why = "attribute 'units' must be positive";
    return std::nullopt;
  }
  c.reverse = r.reverse;
  if (c.kind == RecurrentCellKind::Rnn) {
    const std::string& act = r.activation;
    if (act == "none") {
      c.identity = true;
    } else {
      bool found = false;
      for (int i = 0; i < numOpKinds() && !found; ++i) {
        const OpInfo& info = opInfo(static_cast<OpKind>(i));
        if (info.unary && info.dsl == DslForm::Activation && act == info.name) {
          c.activation = info.kind;
          found = true;
        }
      }
      if (!found) {
        if (why) *why = "attribute 'activation' must be none or an elementwise activation, got '" + act + "'";
        return std::nullopt;
      }
    }
  }
  return c;
}

}  // namespace nnc
