#pragma once
// Helpers for the reference-interpreter tests: tensors from literals, one-op graphs, and a
// value comparison that reports the first differing element.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "compiler/interp/Interpreter.h"

namespace nnc::interp_test {

inline Tensor tensor(std::vector<int64_t> shape, std::vector<double> data, DType dtype = DType::F32) {
  return Tensor(dtype, std::move(shape), std::move(data));
}
inline Tensor ints(std::vector<int64_t> shape, std::vector<double> data) {
  return tensor(std::move(shape), std::move(data), DType::I32);
}
inline TensorType typeOf(const Tensor& t) { return TensorType{t.dtype, Shape(t.shape)}; }

// Runs `op` on the operands, each fed as a Param leaf of exactly its concrete type.
inline Result<Tensor> runOp(OpKind op, const std::vector<Tensor>& operands, const Attrs& attrs = {},
                            Precision precision = Precision::F64) {
  Graph g;
  LeafValues leaves;
  std::vector<NodeId> ids;
  for (size_t i = 0; i < operands.size(); ++i) {
    std::string name = "p";
    name += std::to_string(i);  // (not "p" + ...: GCC 12 warns falsely about that form)
    NodeId id = g.addLeaf(OpKind::Param, name, typeOf(operands[i]));
    leaves[id] = operands[i];
    ids.push_back(id);
  }
  Result<NodeId> node = g.add(op, ids, attrs);
  if (!node) return node.error();
  Result<std::vector<Tensor>> out = interpret(g, leaves, {*node}, precision);
  if (!out) return out.error();
  return (*out)[0];
}

// runOp that fails the calling test (and returns an empty tensor) on an error.
inline Tensor run(OpKind op, const std::vector<Tensor>& operands, const Attrs& attrs = {},
                  Precision precision = Precision::F64) {
  Result<Tensor> r = runOp(op, operands, attrs, precision);
  if (!r) {
    ADD_FAILURE() << opName(op) << ": " << r.error().message;
    return Tensor();
  }
  return *r;
}

inline bool sameValue(double a, double b, double tol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= tol * std::max(1.0, std::fabs(b));
}

// Shape equal and every value within `tol` (relative above 1, absolute below); NaN == NaN.
inline ::testing::AssertionResult matches(const Tensor& t, const std::vector<int64_t>& shape,
                                          const std::vector<double>& values, double tol = 1e-12) {
  auto dims = [](const std::vector<int64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
  };
  if (t.shape != shape) return ::testing::AssertionFailure() << "shape " << dims(t.shape) << ", expected " << dims(shape);
  if (t.data.size() != values.size())
    return ::testing::AssertionFailure() << t.data.size() << " values, expected " << values.size();
  for (size_t i = 0; i < values.size(); ++i)
    if (!sameValue(t.data[i], values[i], tol))
      return ::testing::AssertionFailure() << "element " << i << " is " << t.data[i] << ", expected " << values[i];
  return ::testing::AssertionSuccess();
}

}  // namespace nnc::interp_test
