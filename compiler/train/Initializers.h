#pragma once
// Initial values of Param and State leaves, from their `init` (string) and `init_args`
// (floats) attributes, deterministic from (seed, leaf name).
//
//   zeros, ones, constant(v)
//   values                    init_args are the values, row-major (imported weights)
//   class_weights             ones (the State of the train block's class weights; the runtime
//                             overwrites it with the listed or balanced weights)
//   uniform(lo, hi)           U[lo, hi)
//   normal(mean, std)         N(mean, std^2), not truncated (Keras RandomNormal)
//   glorot_uniform            U[-l, l), l = sqrt(6 / (fan_in + fan_out))
//   glorot_normal             truncated normal (redrawn beyond 2 std), std = sqrt(2 / (fan_in + fan_out)) / .87962566103423978
//   he_uniform                U[-l, l), l = sqrt(6 / fan_in)
//   he_normal                 truncated normal, std = sqrt(2 / fan_in) / .87962566103423978
// (Keras' VarianceScaling: .8796... is the std of a unit normal truncated at +-2, so the
// truncated draw has the intended variance.) Fans as Keras computes them: dense [in, out]:
// in, out; conv [kh, kw, in, out]: kh*kw*in, kh*kw*out; rank 1 [n]: n, n; a scalar: 1, 1.
// Without `init`: a Param of rank >= 2 is glorot_uniform, others zeros; a State is zeros,
// except "*.running_var", ones.
//
// Randomness: element i of leaf `name` uses philoxUniform(seed, fnv1a64(name), k, i), where
// k counts the uniforms that element has drawn (normals: Box-Muller from draws 2j and 2j+1,
// j the attempt).
#include <cstdint>
#include <string>

#include "compiler/interp/Interpreter.h"
#include "compiler/interp/Tensor.h"
#include "compiler/ir/Graph.h"
#include "support/Result.h"

namespace nnc {

// FNV-1a, 64 bits: a stable hash of a leaf's name (the salt of its random stream).
uint64_t fnv1a64(const std::string& text);

// Keras-style fans of a weight shape.
struct Fans {
  double in = 1, out = 1;
};
Fans computeFans(const Shape& shape);

// The initial value of one Param or State leaf (its shape must be static). Errors: an
// unknown `init`, wrong `init_args`, a batch dimension.
Result<Tensor> initialValue(const Node& leaf, uint64_t seed);

// Initial values of every Param and State leaf of `g`, by node id (ready for interpret()).
Result<LeafValues> initialValues(const Graph& g, uint64_t seed);

}  // namespace nnc
