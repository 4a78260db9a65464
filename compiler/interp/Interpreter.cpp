// The reference interpreter's driver: decides which nodes `wanted` needs, resolves the batch
// size from the Input values, checks and loads leaves, re-derives every needed node's type
// from its shape rule (so the kernels may trust their operands' shapes), and runs the kernels
// in topological order, rounding f32 results to float in f32 mode.
#include "compiler/interp/Interpreter.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <new>
#include <optional>
#include <string>

#include "compiler/interp/Kernels.h"
#include "compiler/ir/EmbeddingIds.h"
#include "compiler/ir/ShapeRules.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc {

namespace {

using interp::Kernel;
using interp::KernelArgs;

// "input 'image'" for a named leaf, "node %5 (add)" otherwise.
std::string describe(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (isLeaf(n.op) && !n.name.empty()) return std::string(opName(n.op)) + " '" + n.name + "'";
  return "node %" + std::to_string(id) + " (" + opName(n.op) + (n.name.empty() ? "" : " '" + n.name + "'") + ")";
}

std::string dimsStr(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

bool isSuppliedLeaf(OpKind op) {
  return op == OpKind::Input || op == OpKind::Param || op == OpKind::State || op == OpKind::Hyper;
}

// Marks `wanted` and everything it depends on. Operands must precede their users.
Result<std::vector<bool>> neededNodes(const Graph& g, const std::vector<NodeId>& wanted) {
  std::vector<bool> need(g.size(), false);
  for (NodeId w : wanted) {
    if (w < 0 || static_cast<size_t>(w) >= g.size())
      return makeError("interpreter: wanted node %" + std::to_string(w) + " is not in the graph (" +
                       std::to_string(g.size()) + " nodes)");
    need[static_cast<size_t>(w)] = true;
  }
  for (size_t i = g.size(); i-- > 0;) {
    if (!need[i]) continue;
    for (NodeId in : g.nodes()[i].inputs) {
      if (in < 0 || static_cast<size_t>(in) >= i)
        return makeError("interpreter: operand %" + std::to_string(in) + " of " + describe(g, static_cast<NodeId>(i)) +
                         " does not precede it");
      need[static_cast<size_t>(in)] = true;
    }
  }
  return need;
}

// The batch size: the leading dimension of the values of batched leaves, Inputs first. Every
// needed batched leaf, and every batched Input that has a value, must agree. No such value:
// no batch size (only an error if some node's shape needs one).
Result<std::optional<int64_t>> batchSize(const Graph& g, const LeafValues& leaves, const std::vector<bool>& need) {
  std::optional<int64_t> batch;
  NodeId from = kNoNode;
  for (bool inputs : {true, false}) {
    for (size_t i = 0; i < g.size(); ++i) {
      const Node& n = g.nodes()[i];
      if (!isSuppliedLeaf(n.op) || (n.op == OpKind::Input) != inputs || !n.type.shape.isBatched()) continue;
      if (!need[i] && n.op != OpKind::Input) continue;
      auto it = leaves.find(static_cast<NodeId>(i));
      if (it == leaves.end() || it->second.shape.empty()) continue;  // reported when the leaf is loaded
      int64_t b = it->second.shape[0];
      if (!batch) {
        batch = b;
        from = static_cast<NodeId>(i);
      } else if (*batch != b) {
        return makeError("interpreter: inconsistent batch sizes: " + describe(g, from) + " has " +
                         std::to_string(*batch) + " samples but " + describe(g, static_cast<NodeId>(i)) + " has " +
                         std::to_string(b));
      }
    }
  }
  return batch;
}

// A shape with `batch` resolved.
Result<std::vector<int64_t>> concreteShape(const Graph& g, NodeId id, std::optional<int64_t> batch) {
  std::vector<int64_t> dims = g.type(id).shape.dims;
  for (int64_t& d : dims) {
    if (d != kBatch) continue;
    if (!batch)
      return makeError("interpreter: " + describe(g, id) + " has a batch dimension but the batch size is unknown: " +
                       "no value was given for a batched input");
    d = *batch;
  }
  return dims;
}

double roundToFloat(double v) { return static_cast<double>(static_cast<float>(v)); }

// i32 data must hold integers in the i32 range.
Result<void> checkIntegers(const Graph& g, NodeId id, const std::vector<double>& data) {
  for (size_t i = 0; i < data.size(); ++i) {
    double v = data[i];
    if (!(v == std::trunc(v) && v >= -2147483648.0 && v <= 2147483647.0))
      return makeError("interpreter: value for " + describe(g, id) + " holds " + std::to_string(v) + " at index " +
                       std::to_string(i) + ", which is not an i32");
  }
  return {};
}

// An Input, Param, State or Hyper value, checked against the leaf's type.
Result<Tensor> loadLeaf(const Graph& g, NodeId id, const LeafValues& leaves, std::optional<int64_t> batch,
                        Precision precision) {
  const TensorType& type = g.type(id);
  auto it = leaves.find(id);
  if (it == leaves.end()) return makeError("interpreter: no value was given for " + describe(g, id) + " of type " + type.str());
  const Tensor& v = it->second;
  if (v.dtype != type.dtype)
    return makeError("interpreter: value for " + describe(g, id) + " is " + dtypeName(v.dtype) + " but its type is " +
                     type.str());
  bool shapeOk = v.shape.size() == type.shape.rank();
  for (size_t d = 0; shapeOk && d < v.shape.size(); ++d) {
    int64_t want = type.shape[d] == kBatch ? (batch ? *batch : v.shape[d]) : type.shape[d];
    shapeOk = v.shape[d] == want;
  }
  if (!shapeOk)
    return makeError("interpreter: value for " + describe(g, id) + " has shape " + dimsStr(v.shape) +
                     " but its type is " + type.str() +
                     (type.shape.isBatched() && batch ? " with batch " + std::to_string(*batch) : ""));
  if (v.size() != Tensor::count(v.shape))
    return makeError("interpreter: value for " + describe(g, id) + " holds " + std::to_string(v.size()) +
                     " numbers but its shape " + dimsStr(v.shape) + " needs " + std::to_string(Tensor::count(v.shape)));
  if (v.dtype == DType::I32) NNC_TRY(checkIntegers(g, id, v.data));
  return v;
}

// A Constant from its `values` (row-major) or `value` (a fill) attribute.
Result<Tensor> loadConstant(const Graph& g, NodeId id, std::optional<int64_t> batch) {
  const Node& n = g.node(id);
  auto shape = concreteShape(g, id, batch);
  if (!shape) return shape.error();
  Tensor t(n.type.dtype, *shape);
  const ConstantAttr c = ConstantAttr::of(n);
  if (c.values) {
    std::vector<double> values = *c.values;
    if (static_cast<int64_t>(values.size()) != t.size())
      return makeError("interpreter: " + describe(g, id) + " lists " + std::to_string(values.size()) +
                       " values for its shape " + dimsStr(*shape) + " of " + std::to_string(t.size()) + " elements");
    t.data = std::move(values);
  } else if (c.value) {
    std::fill(t.data.begin(), t.data.end(), *c.value);
  } else {
    return makeError("interpreter: " + describe(g, id) + " has neither a 'value' nor a 'values' attribute");
  }
  if (t.dtype == DType::I32) NNC_TRY(checkIntegers(g, id, t.data));
  return t;
}

// An embedding's ids must lie in [0, vocab): the one run-time check of an op's operand values.
Result<void> checkEmbeddingIds(const Graph& g, NodeId id, const Tensor& ids, int64_t vocab) {
  auto bad = findBadEmbeddingId(ids.size(), vocab, [&](int64_t i) { return ids.data[static_cast<size_t>(i)]; });
  if (!bad) return {};
  const Node& n = g.node(id);
  return makeError(embeddingIdMessage(embeddingIdSource(g, n.inputs[1]), ids.shape, *bad, vocab, embeddingLayerName(g, n)));
}

// The node's type must be what its shape rule gives for its operands' types: then the
// operands' concrete shapes satisfy everything the kernel relies on.
Result<void> checkNodeType(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  std::vector<TensorType> types;
  for (NodeId in : n.inputs) types.push_back(g.type(in));
  Result<TensorType> t = inferType(n.op, types, n.attrs);
  if (!t) return makeError("interpreter: " + describe(g, id) + " is ill-typed: " + t.error().message, n.loc);
  if (*t != n.type)
    return makeError("interpreter: " + describe(g, id) + " has type " + n.type.str() + " but its shape rule gives " +
                         t->str(),
                     n.loc);
  return {};
}

// Evaluates the needed nodes. With `keepAll`, every value is kept; otherwise a value is freed
// after its last needed use unless it is wanted.
Result<std::vector<Tensor>> evaluate(const Graph& g, const LeafValues& leaves, const std::vector<NodeId>& wanted,
                                     const std::vector<bool>& need, Precision precision, bool keepAll) {
  auto batch = batchSize(g, leaves, need);
  if (!batch) return batch.error();

  std::vector<int64_t> usesLeft(g.size(), 0);
  std::vector<bool> keep(g.size(), keepAll);
  for (NodeId w : wanted) keep[static_cast<size_t>(w)] = true;
  for (size_t i = 0; i < g.size(); ++i)
    if (need[i])
      for (NodeId in : g.nodes()[i].inputs) ++usesLeft[static_cast<size_t>(in)];

  std::vector<Tensor> values(g.size());
  for (size_t i = 0; i < g.size(); ++i) {
    if (!need[i]) continue;
    NodeId id = static_cast<NodeId>(i);
    const Node& n = g.node(id);
    Tensor out;
    if (n.op == OpKind::Constant) {
      auto t = loadConstant(g, id, *batch);
      if (!t) return t.error();
      out = std::move(*t);
    } else if (isSuppliedLeaf(n.op)) {
      auto t = loadLeaf(g, id, leaves, *batch, precision);
      if (!t) return t.error();
      out = std::move(*t);
    } else {
      NNC_TRY(checkNodeType(g, id));
      Kernel kernel = interp::kernelFor(n.op);
      if (!kernel) return makeError(std::string("interpreter: no reference kernel for op '") + opName(n.op) + "'", n.loc);
      auto shape = concreteShape(g, id, *batch);
      if (!shape) return shape.error();
      out = Tensor(n.type.dtype, *shape);
      if (n.op == OpKind::Embedding)
        NNC_TRY(checkEmbeddingIds(g, id, values[static_cast<size_t>(n.inputs[1])], g.type(n.inputs[0]).shape[0]));
      KernelArgs args{n, {}, out};
      for (NodeId in : n.inputs) args.in.push_back(&values[static_cast<size_t>(in)]);
      kernel(args);
      for (NodeId in : n.inputs)
        if (--usesLeft[static_cast<size_t>(in)] == 0 && !keep[static_cast<size_t>(in)])
          values[static_cast<size_t>(in)] = Tensor();
    }
    // f32 mode: every f32 value, leaves included, is rounded to float.
    if (precision == Precision::F32 && out.dtype == DType::F32)
      for (double& v : out.data) v = roundToFloat(v);
    values[i] = std::move(out);
  }
  return values;
}

// Runs `evaluate`, turning an allocation failure (a huge well-typed tensor) into an Error.
Result<std::vector<Tensor>> evaluateGuarded(const Graph& g, const LeafValues& leaves, const std::vector<NodeId>& wanted,
                                            const std::vector<bool>& need, Precision precision, bool keepAll) {
  try {
    return evaluate(g, leaves, wanted, need, precision, keepAll);
  } catch (const std::bad_alloc&) {
    return makeError("interpreter: out of memory");
  } catch (const std::exception& e) {
    return makeError(std::string("interpreter: ") + e.what());
  }
}

}  // namespace

Result<std::vector<Tensor>> interpret(const Graph& g, const LeafValues& leaves, const std::vector<NodeId>& wanted,
                                      Precision precision) {
  auto need = neededNodes(g, wanted);
  if (!need) return need.error();
  auto values = evaluateGuarded(g, leaves, wanted, *need, precision, /*keepAll=*/false);
  if (!values) return values.error();
  std::vector<Tensor> result;
  result.reserve(wanted.size());
  for (NodeId w : wanted) result.push_back((*values)[static_cast<size_t>(w)]);
  return result;
}

Result<std::vector<Tensor>> interpretAll(const Graph& g, const LeafValues& leaves, Precision precision) {
  std::vector<NodeId> all(g.size());
  for (size_t i = 0; i < g.size(); ++i) all[i] = static_cast<NodeId>(i);
  auto need = neededNodes(g, all);
  if (!need) return need.error();
  return evaluateGuarded(g, leaves, all, *need, precision, /*keepAll=*/true);
}

}  // namespace nnc
