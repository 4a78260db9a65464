#pragma once
// The optimizers' update rules as graph ops: one Update per parameter and per state slot.
// Each rule is the one torch.optim defines (single-tensor, non-amsgrad, non-centered,
// dampening 0, lr_decay 0), with the gradient g already including weight decay and t the
// Hyper "step" (counted from 0):
//
//   sgd(lr, momentum, nesterov)
//     momentum == 0:  w <- w - lr * g
//     otherwise:      b <- momentum * b + g      (b starts at 0, so the first b is g, as in torch)
//                     d = nesterov ? g + momentum * b : b
//                     w <- w - lr * d
//   adam(lr, beta1, beta2, eps)
//     m <- beta1 * m + (1 - beta1) * g
//     v <- beta2 * v + (1 - beta2) * g^2
//     bc1 = 1 - beta1^(t+1),  bc2 = 1 - beta2^(t+1)
//     w <- w - (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
//   adadelta(lr, rho, eps)
//     s <- rho * s + (1 - rho) * g^2
//     d = sqrt(u + eps) / sqrt(s + eps) * g
//     u <- rho * u + (1 - rho) * d^2
//     w <- w - lr * d
//   rmsprop(lr, rho, momentum, eps)      (rho is torch's alpha)
//     s <- rho * s + (1 - rho) * g^2
//     momentum == 0:  w <- w - lr * g / (sqrt(s) + eps)
//     otherwise:      b <- momentum * b + g / (sqrt(s) + eps);  w <- w - lr * b
//   adagrad(lr, initial, eps)
//     a <- a + g^2        (a starts at `initial`)
//     w <- w - lr * g / (sqrt(a) + eps)
//
// State slots, State leaves named "<param>/<optimizer>.<slot>" (they go in checkpoints):
//   sgd.momentum (only when momentum != 0)     adam.m, adam.v
//   adadelta.square_avg, adadelta.acc_delta     rmsprop.square_avg, rmsprop.momentum (momentum > 0)
//   adagrad.sum (starts at `initial`; the others at 0)
// Slot leaves carry their initial value as attributes: init = "zeros", or init = "constant"
// with init_args = [initial].
#include <string>
#include <vector>

#include "compiler/ir/Model.h"
#include "support/Result.h"

namespace nnc {

// "<param>/<optimizer>.<slot>"
std::string optimizerSlotName(const std::string& param, const std::string& optimizer, const std::string& slot);

struct ParamGradient {
  NodeId param = kNoNode;
  NodeId grad = kNoNode;
};

// Appends to `g` the optimizer's State slots and the Updates of every listed parameter and
// slot. The hyperparameters and their defaults are compiler/ir/Optimizer.h's.
Result<void> emitOptimizerUpdates(Graph& g, const OptimizerConfig& opt, const std::vector<ParamGradient>& params,
                                  NodeId lr, NodeId step);

}  // namespace nnc
