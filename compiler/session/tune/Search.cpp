#include "compiler/session/tune/Search.h"

#include <algorithm>
#include <cmath>

namespace nnc::tune {

uint64_t Random::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Random::uniform() { return double(next() >> 11) * 0x1.0p-53; }

int64_t Random::below(int64_t n) { return n <= 1 ? 0 : int64_t(next() % uint64_t(n)); }

double sample(const Hyperparameter& h, Random& random) {
  using Kind = Hyperparameter::Kind;
  switch (h.kind) {
    case Kind::Choice:
      return h.choices.empty() ? 0 : h.choices[size_t(random.below(int64_t(h.choices.size())))];
    case Kind::Uniform:
      return std::min(h.hi, h.lo + random.uniform() * (h.hi - h.lo));
    case Kind::LogUniform: {
      double v = std::exp(std::log(h.lo) + random.uniform() * (std::log(h.hi) - std::log(h.lo)));
      return std::clamp(v, h.lo, h.hi);
    }
    case Kind::IntUniform:
      return h.lo + double(random.below(int64_t(h.hi - h.lo) + 1));
  }
  return h.fallback();
}

HyperparameterValues sampleAll(const TuneSpace& space, Random& random, const HyperparameterValues& fixed) {
  HyperparameterValues out;
  for (const Hyperparameter& h : space.params) {
    auto it = fixed.find(h.name);
    out[h.name] = it != fixed.end() ? it->second : sample(h, random);
  }
  return out;
}

std::vector<Bracket> hyperbandBrackets(int64_t R, int64_t eta) {
  R = std::max<int64_t>(R, 1);
  eta = std::max<int64_t>(eta, 2);
  // s_max = floor(log_eta R), in integers (log() would put 81 just below 3^4).
  int64_t sMax = 0;
  for (int64_t p = eta; p <= R; p *= eta) ++sMax;
  std::vector<Bracket> brackets;
  for (int64_t s = sMax; s >= 0; --s) {
    double etaS = std::pow(double(eta), double(s));
    // n = ceil(B / R * eta^s / (s + 1)) with B = (s_max + 1) R: an exact rational, in integers.
    int64_t num = (sMax + 1) * int64_t(etaS), den = s + 1;
    int64_t n = (num + den - 1) / den;
    double r = double(R) / etaS;
    Bracket b;
    b.s = s;
    int64_t etaI = 1;
    for (int64_t i = 0; i <= s; ++i, etaI *= eta) b.rounds.push_back(Round{n / etaI, r * double(etaI)});
    brackets.push_back(std::move(b));
  }
  return brackets;
}

int64_t epochsFor(double resource, int64_t R) {
  int64_t e = int64_t(std::ceil(resource - 1e-9));
  return std::clamp<int64_t>(e, 1, std::max<int64_t>(R, 1));
}

}  // namespace nnc::tune
