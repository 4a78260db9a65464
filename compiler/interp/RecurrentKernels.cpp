// The reference time loops of rnn, lstm and gru cells (compiler/ir/RecurrentCell.h): the
// forward loop that saves each step's state and gates, and the reverse loop that turns the
// gradient of every step's h into the gradient of every step's gate pre-activations.
//
//   rnn:  p = xp_t + h_prev U,  h = act(p)
//   lstm: z = xp_t + h_prev U;  i, f, o = sigmoid, g = tanh;  c = f c_prev + i g;  h = o tanh(c)
//   gru:  a = h_prev U + c_rec;  r = sigmoid(xp_r + a_r), z = sigmoid(xp_z + a_z),
//         n = tanh(xp_n + r a_n),  h = (1 - z) n + z h_prev          (PyTorch's nn.GRU)
// The initial state is zero. With `reverse` the loop runs from the last step to the first.
#include <algorithm>
#include <cmath>

#include "compiler/interp/Kernels.h"
#include "compiler/ir/OpAttrs.h"
#include "compiler/ir/RecurrentCell.h"

namespace nnc::interp {

namespace {

// The visiting order of the time steps and each step's predecessor.
struct RecurrentSteps {
  int64_t T;
  bool reverse;
  int64_t at(int64_t s) const { return reverse ? T - 1 - s : s; }    // the s-th step visited
  int64_t prev(int64_t t) const { return reverse ? t + 1 : t - 1; }  // visited just before t
};

}  // namespace

void recurrenceKernel(const KernelArgs& k) {
  const RecurrentCell c = *recurrentCellOf(k.node.attrs);
  const Tensor &xp = *k.in[0], &w = *k.in[1];
  const int64_t B = xp.shape[0], T = xp.shape[1], u = c.units, N = c.gateWidth(), S = c.savedWidth();
  const RecurrentSteps steps{T, c.reverse};
  const double alpha = alphaAttr(c.activation, k.node.attrs);
  const UnaryFn act = opInfo(c.activation).unary;
  std::vector<double> rec(static_cast<size_t>(N));
  auto sig = [](double v) { return scalar::sigmoid(v); };
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = steps.at(s);
      const double* x = &xp.data[static_cast<size_t>((b * T + t) * N)];
      double* o = &k.out.data[static_cast<size_t>((b * T + t) * S)];
      const double* hp = s > 0 ? &k.out.data[static_cast<size_t>((b * T + steps.prev(t)) * S)] : nullptr;
      for (int64_t j = 0; j < N; ++j) {
        double acc = c.kind == RecurrentCellKind::Gru ? k.in[2]->data[static_cast<size_t>(j)] : 0.0;
        if (hp)
          for (int64_t q = 0; q < u; ++q) acc += hp[q] * w.data[static_cast<size_t>(q * N + j)];
        rec[static_cast<size_t>(j)] = acc;
      }
      for (int64_t j = 0; j < u; ++j) {
        auto R = [&](int64_t gate) { return rec[static_cast<size_t>(gate * u + j)]; };
        auto X = [&](int64_t gate) { return x[gate * u + j]; };
        switch (c.kind) {
          case RecurrentCellKind::Rnn: {
            double p = X(0) + R(0);
            o[u + j] = p;
            o[j] = c.identity ? p : act(p, alpha);
            break;
          }
          case RecurrentCellKind::Lstm: {
            double i = sig(X(0) + R(0)), f = sig(X(1) + R(1)), g = std::tanh(X(2) + R(2)), og = sig(X(3) + R(3));
            double cell = f * (hp ? hp[u + j] : 0.0) + i * g;
            o[j] = og * std::tanh(cell);
            o[u + j] = cell;
            o[2 * u + j] = i;
            o[3 * u + j] = f;
            o[4 * u + j] = g;
            o[5 * u + j] = og;
            break;
          }
          case RecurrentCellKind::Gru: {
            double r = sig(X(0) + R(0)), z = sig(X(1) + R(1)), hn = R(2);
            double n = std::tanh(X(2) + r * hn);
            o[j] = (1 - z) * n + z * (hp ? hp[j] : 0.0);
            o[u + j] = r;
            o[2 * u + j] = z;
            o[3 * u + j] = n;
            o[4 * u + j] = hn;
            break;
          }
        }
      }
    }
}

void recurrenceGradKernel(const KernelArgs& k) {
  const RecurrentCell c = *recurrentCellOf(k.node.attrs);
  const Tensor &dH = *k.in[0], &saved = *k.in[1], &w = *k.in[2];
  const int64_t B = dH.shape[0], T = dH.shape[1], u = c.units, N = c.gateWidth(), S = c.savedWidth();
  const int64_t GW = c.gradWidth();
  const RecurrentSteps steps{T, c.reverse};
  std::vector<double> dh(static_cast<size_t>(u)), carry(static_cast<size_t>(u)), dcCarry(static_cast<size_t>(u));
  for (int64_t b = 0; b < B; ++b) {
    std::fill(carry.begin(), carry.end(), 0.0);
    std::fill(dcCarry.begin(), dcCarry.end(), 0.0);
    for (int64_t s = T; s-- > 0;) {
      const int64_t t = steps.at(s);
      const size_t row = static_cast<size_t>(b * T + t);
      const double* o = &saved.data[row * static_cast<size_t>(S)];
      const double* hp = s > 0 ? &saved.data[static_cast<size_t>(b * T + steps.prev(t)) * static_cast<size_t>(S)] : nullptr;
      double* g = &k.out.data[row * static_cast<size_t>(GW)];
      for (int64_t j = 0; j < u; ++j) dh[static_cast<size_t>(j)] = dH.data[row * static_cast<size_t>(u) + static_cast<size_t>(j)] + carry[static_cast<size_t>(j)];
      // The recurrent side's gate gradients (gh) and the direct part of dh_prev.
      const double* gh = g;
      std::fill(carry.begin(), carry.end(), 0.0);
      for (int64_t j = 0; j < u; ++j) {
        const double d = dh[static_cast<size_t>(j)];
        switch (c.kind) {
          case RecurrentCellKind::Rnn:
            g[j] = c.identity ? d : d * k.in[3]->data[row * static_cast<size_t>(u) + static_cast<size_t>(j)];
            break;
          case RecurrentCellKind::Lstm: {
            double cell = o[u + j], i = o[2 * u + j], f = o[3 * u + j], gg = o[4 * u + j], og = o[5 * u + j];
            double tc = std::tanh(cell);
            double dc = d * og * (1 - tc * tc) + dcCarry[static_cast<size_t>(j)];
            dcCarry[static_cast<size_t>(j)] = dc * f;
            g[j] = dc * gg * i * (1 - i);
            g[u + j] = dc * (hp ? hp[u + j] : 0.0) * f * (1 - f);
            g[2 * u + j] = dc * i * (1 - gg * gg);
            g[3 * u + j] = d * tc * og * (1 - og);
            break;
          }
          case RecurrentCellKind::Gru: {
            double r = o[u + j], z = o[2 * u + j], n = o[3 * u + j], hn = o[4 * u + j];
            double dn = d * (1 - z) * (1 - n * n);
            double dr = dn * hn * r * (1 - r);
            double dz = d * ((hp ? hp[j] : 0.0) - n) * z * (1 - z);
            g[j] = g[N + j] = dr;
            g[u + j] = g[N + u + j] = dz;
            g[2 * u + j] = dn;
            g[N + 2 * u + j] = dn * r;
            carry[static_cast<size_t>(j)] = d * z;
            break;
          }
        }
      }
      if (c.kind == RecurrentCellKind::Gru) gh = g + N;
      for (int64_t q = 0; q < u; ++q) {
        double acc = 0;
        for (int64_t j = 0; j < N; ++j) acc += gh[j] * w.data[static_cast<size_t>(q * N + j)];
        carry[static_cast<size_t>(q)] += acc;
      }
    }
  }
}

}  // namespace nnc::interp
