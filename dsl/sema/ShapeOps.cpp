// Data movement: flatten, reshape (the shape of one sample; -1 inferred), transpose, concat.
#include <cstdio>

#include "compiler/ir/TypedAttrs.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

std::string countStr(long double n) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.0Lf", n);
  return buf;
}

// A requested shape as the user meant it: "[batch, -1, 5]".
std::string targetStr(bool batched, const std::vector<int64_t>& dims) {
  std::string s = batched ? "[batch" : "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i || batched ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

std::optional<NodeId> buildFlatten(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  const Shape shape = s.type(x).shape;
  int64_t rest = 1;
  for (size_t i = 1; i < shape.rank(); ++i) rest *= shape[i];
  return s.reshape(x, {shape[0], rest}, b.loc);
}

std::optional<NodeId> buildReshape(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  const TensorType t = s.type(x);
  const bool batched = t.shape.isBatched();
  const std::vector<int64_t>& dims = b.arg("shape").ints;
  const SourceLoc loc = b.arg("shape").loc;
  const std::string target = targetStr(batched, dims);
  int inferred = -1;
  long double known = 1;  // long double: user dimensions may overflow any integer product
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      if (inferred >= 0) {
        s.error(loc, "reshape: only one dimension may be -1, got " + target);
        return std::nullopt;
      }
      inferred = static_cast<int>(i);
    } else if (dims[i] <= 0) {
      s.error(loc, "reshape: dimensions must be positive (or -1 once), got " + target);
      return std::nullopt;
    } else {
      known *= static_cast<long double>(dims[i]);
    }
  }
  const int64_t have = t.shape.numElementsPerBatchRow();
  const std::string per = batched ? " elements per sample" : " elements";
  std::vector<int64_t> full = dims;
  if (inferred >= 0) {
    int64_t k = known > static_cast<long double>(have) ? 0 : static_cast<int64_t>(known);
    if (k == 0 || have % k != 0) {
      s.error(loc, "reshape: cannot reshape " + t.str() + " to " + target + ": " + std::to_string(have) + per +
                       " do not divide into parts of " + countStr(known));
      return std::nullopt;
    }
    full[static_cast<size_t>(inferred)] = have / k;
  } else if (known != static_cast<long double>(have)) {
    s.error(loc, "reshape: cannot reshape " + t.str() + " (" + std::to_string(have) + per + ") to " + target + " (" +
                     countStr(known) + per + ")");
    return std::nullopt;
  }
  if (batched) full.insert(full.begin(), kBatch);
  return s.reshape(x, std::move(full), b.loc);
}

std::optional<NodeId> buildTranspose(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  const TensorType t = s.type(x);
  std::vector<int64_t> perm = b.arg("perm").ints;
  const SourceLoc loc = b.arg("perm").loc;
  const size_t rank = t.shape.rank();
  auto permStr = [&] { return attrValueStr(b.arg("perm").ints); };
  if (perm.size() != rank) {
    s.error(loc, "transpose: perm " + permStr() + " has " + std::to_string(perm.size()) + " axes but " + t.str() +
                     " has " + std::to_string(rank));
    return std::nullopt;
  }
  std::vector<bool> seen(rank, false);
  for (int64_t& p : perm) {
    int64_t n = normalizeAxis(p, rank);
    if (n < 0 || seen[static_cast<size_t>(n)]) {
      s.error(loc, "transpose: perm " + permStr() + " is not a permutation of the " + std::to_string(rank) +
                       " axes of " + t.str());
      return std::nullopt;
    }
    seen[static_cast<size_t>(n)] = true;
    p = n;
  }
  if (t.shape.isBatched() && perm[0] != 0) {
    s.error(loc, "transpose: the batch axis must stay first, got perm " + permStr() + " for " + t.str());
    return std::nullopt;
  }
  return s.emit(OpKind::Transpose, {x}, PermAttr{perm}.attrs(), b.loc);
}

std::optional<NodeId> buildConcat(Sema& s, const BoundCall& b) {
  const std::vector<NodeId>& xs = b.arg("xs").tensors;
  const TensorType first = s.type(xs[0]);
  int64_t axis = b.integer("axis");
  int64_t n = normalizeAxis(axis, first.shape.rank());
  if (n < 0) {
    s.error(b.arg("axis").loc, "concat: axis " + std::to_string(axis) + " is out of range for " + first.str());
    return std::nullopt;
  }
  for (NodeId x : xs) {
    const TensorType t = s.type(x);
    if (t.dtype != first.dtype) {
      s.error(b.loc, "concat: operands have different dtypes: " + first.str() + " and " + t.str());
      return std::nullopt;
    }
    bool ok = t.shape.rank() == first.shape.rank();
    for (size_t d = 0; ok && d < t.shape.rank(); ++d)
      ok = static_cast<int64_t>(d) == n || t.shape[d] == first.shape[d];
    if (!ok) {
      s.error(b.loc, "concat: " + first.str() + " and " + t.str() + " differ outside axis " + std::to_string(n));
      return std::nullopt;
    }
  }
  return s.emit(OpKind::Concat, xs, AxisAttr{n}.attrs(), b.loc);
}

Callable make(const char* name, std::vector<ParamSpec> params, TensorBuilder build, const char* kind) {
  Callable c;
  c.name = name;
  c.params = std::move(params);
  c.build = build;
  c.summaryKind = kind;
  return c;
}

}  // namespace

void addShapeOps(Registry& r) {
  TensorReq anyInput = spec::req(DTypeReq::Any);
  TensorReq ranked = spec::req(DTypeReq::Any, 1);
  r.add(make("flatten", {spec::tensor("x", ranked)}, buildFlatten, "Flatten"));
  r.add(make("reshape", {spec::tensor("x", anyInput), spec::intList("shape")}, buildReshape, "Reshape"));
  r.add(make("transpose", {spec::tensor("x", anyInput), spec::intList("perm")}, buildTranspose, "Permute"));
  r.add(make("concat", {spec::tensorList("xs", spec::req(DTypeReq::Any, 1)), spec::integer("axis", spec::num(-1))},
             buildConcat, "Concatenate"));
}

}  // namespace nnc::sema
