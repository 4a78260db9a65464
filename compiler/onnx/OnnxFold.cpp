// Import-time evaluation of the ops that compute shapes: PyTorch's exports carry chains such
// as Shape -> Gather -> Unsqueeze -> Concat -> Reshape over int64, and the node tests pass
// shapes and axes as inputs. When every operand is known at import, the result is too, and
// nothing of the chain reaches the graph. Shape of a batched tensor gives the batch marker
// in its first element, which moves through Gather/Concat/... but never through arithmetic.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <set>

#include "compiler/onnx/OnnxContext.h"

namespace nnc::onnximport {
namespace {

// Folded tensors stay small: a larger one is left to the graph (or refused by its mapper).
constexpr int64_t kMaxFoldElements = int64_t(1) << 22;

using Tensors = std::vector<ConstTensor>;

std::vector<int64_t> stridesOf(const std::vector<int64_t>& dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

Result<std::vector<int64_t>> broadcastDims(ImportContext& ctx, const std::vector<const ConstTensor*>& in) {
  size_t rank = 0;
  for (auto* t : in) rank = std::max(rank, t->dims.size());
  std::vector<int64_t> out(rank, 1);
  for (auto* t : in)
    for (size_t i = 0; i < t->dims.size(); ++i) {
      int64_t d = t->dims[i];
      int64_t& o = out[rank - t->dims.size() + i];
      if (o == 1) o = d;
      else if (d != 1 && d != o) return ctx.error("operands of shapes that do not broadcast");
    }
  return out;
}

// Element `flat` of the broadcast result, read from `t`.
double broadcastAt(const ConstTensor& t, const std::vector<int64_t>& outDims, const std::vector<int64_t>& outStrides,
                   int64_t flat) {
  int64_t offset = 0, stride = 1;
  size_t lead = outDims.size() - t.dims.size();
  for (size_t i = t.dims.size(); i-- > 0;) {
    int64_t coord = (flat / outStrides[lead + i]) % outDims[lead + i];
    if (t.dims[i] != 1) offset += coord * stride;
    stride *= t.dims[i];
  }
  return t.values[static_cast<size_t>(offset)];
}

Result<ConstTensor> elementwise(ImportContext& ctx, const std::vector<const ConstTensor*>& in, int32_t outType,
                                const std::function<double(const std::vector<double>&)>& f, bool allowBatch = false) {
  auto dims = broadcastDims(ctx, in);
  if (!dims) return dims.error();
  ConstTensor out;
  out.elemType = outType;
  out.dims = *dims;
  int64_t n = elementCount(out.dims);
  if (n < 0 || n > kMaxFoldElements) return ctx.error("the folded result is too large");
  std::vector<int64_t> strides = stridesOf(out.dims);
  std::vector<double> args(in.size());
  out.values.resize(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    for (size_t j = 0; j < in.size(); ++j) {
      args[j] = broadcastAt(*in[j], out.dims, strides, k);
      if (args[j] == kBatchMarker && !allowBatch)
        return ctx.error("this arithmetic uses the run-time batch size, which nnc cannot fold into a constant");
    }
    double v = f(args);
    if (outType == kFloat) v = static_cast<double>(static_cast<float>(v));
    if (outType == kBool) v = v != 0 ? 1 : 0;
    out.values[static_cast<size_t>(k)] = v;
  }
  return out;
}


Result<ConstTensor> castTo(ConstTensor t, int32_t to, ImportContext& ctx) {
  for (double& v : t.values) {
    if (v == kBatchMarker) continue;
    if (to == kBool) v = v != 0 ? 1 : 0;
    else if (isIntegerType(to)) v = std::trunc(v);
    else if (to == kFloat) v = static_cast<double>(static_cast<float>(v));
  }
  t.elemType = to;
  return t;
}

// The axes input (opset 13+) or attribute (older) of Squeeze/Unsqueeze/Reduce*.
Result<std::vector<int64_t>> axesOf(ImportContext& ctx, size_t input) {
  if (ctx.hasInput(input)) return ctx.ints(input, "axes");
  return ctx.attrInts("axes").value_or(std::vector<int64_t>{});
}

Result<Tensors> fold(ImportContext& ctx, const std::string& op) {
  auto C = [&](size_t i) { return ctx.constant(i); };
  if (op == "Constant") {
    const onnx::AttributeProto* a = nullptr;
    for (const auto& at : ctx.node->attribute()) a = &at;
    if (!a) return ctx.error("Constant without a value");
    ConstTensor t;
    if (a->name() == "value") {
      auto r = tensorFromProto(a->t());
      if (!r) return ctx.error(r.error().message);
      t = std::move(*r);
    } else if (a->name() == "value_float") {
      t = ConstTensor{kFloat, {}, {static_cast<double>(a->f())}};
    } else if (a->name() == "value_floats") {
      t = ConstTensor{kFloat, {a->floats_size()}, {a->floats().begin(), a->floats().end()}};
    } else if (a->name() == "value_int") {
      t = ConstTensor{kInt64, {}, {static_cast<double>(a->i())}};
    } else if (a->name() == "value_ints") {
      t = ConstTensor{kInt64, {a->ints_size()}, {}};
      for (int64_t v : a->ints()) t.values.push_back(static_cast<double>(v));
    } else {
      return ctx.error("Constant with attribute '" + a->name() + "' is not supported");
    }
    return Tensors{t};
  }
  if (op == "Shape") {
    ConstTensor t{kInt64, {}, {}};
    std::vector<int64_t> dims;
    if (const ConstTensor* c = C(0)) dims = c->dims;
    else {
      auto id = ctx.in(0);
      if (!id) return id.error();
      dims = ctx.shape(*id).dims;
    }
    int64_t r = static_cast<int64_t>(dims.size());
    int64_t start = std::clamp(normAxis(ctx.attrInt("start", 0), dims.size()), int64_t(0), r);
    int64_t end = std::clamp(normAxis(ctx.attrInt("end", r), dims.size()), int64_t(0), r);
    for (int64_t i = start; i < end; ++i)
      t.values.push_back(dims[size_t(i)] == kBatch ? kBatchMarker : static_cast<double>(dims[size_t(i)]));
    t.dims = {static_cast<int64_t>(t.values.size())};
    return Tensors{t};
  }
  if (op == "Size") {
    std::vector<int64_t> dims;
    if (const ConstTensor* c = C(0)) dims = c->dims;
    else {
      auto id = ctx.in(0);
      if (!id) return id.error();
      if (ctx.shape(*id).isBatched()) return ctx.error("Size of a tensor with a batch dimension is not known at compile time");
      dims = ctx.shape(*id).dims;
    }
    return Tensors{ConstTensor{kInt64, {}, {static_cast<double>(elementCount(dims))}}};
  }
  if (op == "EyeLike") {
    std::vector<int64_t> dims;
    int32_t type = kFloat;
    if (const ConstTensor* c = C(0)) dims = c->dims, type = c->elemType;
    else {
      auto id = ctx.in(0);
      if (!id) return id.error();
      dims = ctx.shape(*id).dims;
      type = ctx.elemType(0);
    }
    if (dims.size() != 2 || dims[0] < 0 || dims[1] < 0 || elementCount(dims) > kMaxFoldElements)
      return ctx.error("EyeLike needs a static two-dimensional input");
    type = static_cast<int32_t>(ctx.attrInt("dtype", type));
    int64_t k = ctx.attrInt("k", 0);
    ConstTensor t{type, dims, {}};
    for (int64_t i = 0; i < dims[0]; ++i)
      for (int64_t j = 0; j < dims[1]; ++j) t.values.push_back(j - i == k ? 1 : 0);
    return Tensors{t};
  }
  if (op == "ConstantOfShape") {
    auto dims = ctx.ints(0, "shape");
    if (!dims) return dims.error();
    int64_t n = elementCount(*dims);
    if (n < 0 || n > kMaxFoldElements) return ctx.error("ConstantOfShape of an unsupported size");
    ConstTensor t{kFloat, *dims, {}};
    if (const auto* a = ctx.attr("value")) {
      auto v = tensorFromProto(a->t());
      if (!v || v->values.size() != 1) return ctx.error("its value must be a one-element tensor");
      t.elemType = v->elemType;
      t.values.assign(size_t(n), v->values[0]);
    } else {
      t.values.assign(size_t(n), 0.0);
    }
    return Tensors{t};
  }
  if (op == "Range") {
    const ConstTensor *s = C(0), *l = C(1), *d = C(2);
    if (s->values.size() != 1 || l->values.size() != 1 || d->values.size() != 1)
      return ctx.error("start, limit and delta must be scalars");
    double start = s->values[0], limit = l->values[0], delta = d->values[0];
    if (delta == 0) return ctx.error("delta is 0");
    double count = std::max(0.0, std::ceil((limit - start) / delta));
    if (count > double(kMaxFoldElements)) return ctx.error("the range is too long");
    ConstTensor t{s->elemType, {static_cast<int64_t>(count)}, {}};
    for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) t.values.push_back(start + double(i) * delta);
    return Tensors{t};
  }
  // Every other folded op needs all its operands known.
  for (size_t i = 0; i < ctx.numInputs(); ++i)
    if (ctx.hasInput(i) && !C(i)) return ctx.error("internal: fold of unknown operands");
  const ConstTensor* x = C(0);
  if (op == "Identity") return Tensors{*x};
  if (op == "Cast") return Tensors{*castTo(*x, static_cast<int32_t>(ctx.attrInt("to", kFloat)), ctx)};
  if (op == "Unsqueeze" || op == "Squeeze") {
    auto axes = axesOf(ctx, 1);
    if (!axes) return axes.error();
    ConstTensor t = *x;
    if (op == "Unsqueeze") {
      size_t rank = x->dims.size() + axes->size();
      std::vector<int64_t> sorted;
      for (int64_t a : *axes) sorted.push_back(normAxis(a, rank));
      std::sort(sorted.begin(), sorted.end());
      for (int64_t a : sorted) {
        if (a < 0 || a > static_cast<int64_t>(t.dims.size())) return ctx.error("axis out of range");
        t.dims.insert(t.dims.begin() + a, 1);
      }
    } else {
      std::vector<bool> drop(x->dims.size(), false);
      if (axes->empty())
        for (size_t i = 0; i < x->dims.size(); ++i) drop[i] = x->dims[i] == 1;
      for (int64_t a : *axes) {
        a = normAxis(a, x->dims.size());
        if (a < 0 || a >= static_cast<int64_t>(x->dims.size()) || x->dims[size_t(a)] != 1)
          return ctx.error("cannot squeeze axis " + std::to_string(a));
        drop[size_t(a)] = true;
      }
      t.dims.clear();
      for (size_t i = 0; i < x->dims.size(); ++i)
        if (!drop[i]) t.dims.push_back(x->dims[i]);
    }
    return Tensors{t};
  }
  if (op == "Concat") {
    int64_t axis = normAxis(ctx.attrInt("axis", 0), x->dims.size());
    if (axis < 0 || axis >= static_cast<int64_t>(x->dims.size())) return ctx.error("axis out of range");
    ConstTensor t{x->elemType, x->dims, {}};
    t.dims[size_t(axis)] = 0;
    int64_t outer = 1;
    for (int64_t i = 0; i < axis; ++i) outer *= x->dims[size_t(i)];
    for (size_t i = 0; i < ctx.numInputs(); ++i) {
      if (C(i)->dims.size() != x->dims.size()) return ctx.error("operands of different ranks");
      t.dims[size_t(axis)] += C(i)->dims[size_t(axis)];
    }
    for (int64_t o = 0; o < outer; ++o)
      for (size_t i = 0; i < ctx.numInputs(); ++i) {
        const ConstTensor* c = C(i);
        int64_t block = outer == 0 ? 0 : static_cast<int64_t>(c->values.size()) / outer;
        t.values.insert(t.values.end(), c->values.begin() + o * block, c->values.begin() + (o + 1) * block);
      }
    return Tensors{t};
  }
  if (op == "Gather") {
    const ConstTensor* idx = C(1);
    int64_t axis = normAxis(ctx.attrInt("axis", 0), x->dims.size());
    if (axis < 0 || axis >= static_cast<int64_t>(x->dims.size())) return ctx.error("axis out of range");
    int64_t n = x->dims[size_t(axis)], outer = 1, inner = 1;
    for (int64_t i = 0; i < axis; ++i) outer *= x->dims[size_t(i)];
    for (size_t i = size_t(axis) + 1; i < x->dims.size(); ++i) inner *= x->dims[i];
    ConstTensor t{x->elemType, {}, {}};
    t.dims.assign(x->dims.begin(), x->dims.begin() + axis);
    t.dims.insert(t.dims.end(), idx->dims.begin(), idx->dims.end());
    t.dims.insert(t.dims.end(), x->dims.begin() + axis + 1, x->dims.end());
    for (int64_t o = 0; o < outer; ++o)
      for (double iv : idx->values) {
        int64_t i = static_cast<int64_t>(iv);
        if (i < 0) i += n;
        if (i < 0 || i >= n) return ctx.error("index " + std::to_string(static_cast<int64_t>(iv)) + " is out of range");
        auto first = x->values.begin() + (o * n + i) * inner;
        t.values.insert(t.values.end(), first, first + inner);
      }
    return Tensors{t};
  }
  if (op == "Reshape" || op == "Flatten") {
    std::vector<int64_t> dims;
    int64_t total = static_cast<int64_t>(x->values.size());
    if (op == "Flatten") {
      int64_t axis = normAxis(ctx.attrInt("axis", 1), x->dims.size());
      int64_t a = 1;
      for (int64_t i = 0; i < axis; ++i) a *= x->dims[size_t(i)];
      dims = {a, a == 0 ? 0 : total / a};
    } else {
      auto target = ctx.ints(1, "shape");
      if (!target) return target.error();
      int64_t known = 1, infer = -1;
      for (size_t i = 0; i < target->size(); ++i) {
        int64_t d = (*target)[i];
        if (d == 0 && !ctx.attrInt("allowzero", 0)) d = i < x->dims.size() ? x->dims[i] : 0;
        if (d == -1) infer = static_cast<int64_t>(i);
        else known *= d;
        dims.push_back(d);
      }
      if (infer >= 0) dims[size_t(infer)] = known == 0 ? 0 : total / known;
      if (elementCount(dims) != total) return ctx.error("cannot reshape " + std::to_string(total) + " elements");
    }
    ConstTensor t = *x;
    t.dims = dims;
    return Tensors{t};
  }
  if (op == "Slice") {
    auto starts = ctx.ints(1, "starts"), ends = ctx.ints(2, "ends");
    if (!starts || !ends) return ctx.error("starts and ends must be known");
    std::vector<int64_t> axes(starts->size()), steps(starts->size(), 1);
    std::iota(axes.begin(), axes.end(), 0);
    if (ctx.hasInput(3)) axes = *ctx.ints(3, "axes");
    if (ctx.hasInput(4)) steps = *ctx.ints(4, "steps");
    if (axes.size() != starts->size() || ends->size() != starts->size() || steps.size() != starts->size())
      return ctx.error("starts, ends, axes and steps differ in length");
    size_t r = x->dims.size();
    std::vector<int64_t> begin(r, 0), stepOf(r, 1), count(x->dims);
    for (size_t k = 0; k < axes.size(); ++k) {
      int64_t a = normAxis(axes[k], r);
      if (a < 0 || a >= int64_t(r)) return ctx.error("axis out of range");
      int64_t d = x->dims[size_t(a)], st = steps[k];
      if (st == 0) return ctx.error("step 0");
      int64_t s = (*starts)[k], e = (*ends)[k];
      if (s < 0) s += d;
      if (e < 0) e += d;
      if (st > 0) {
        s = std::clamp<int64_t>(s, 0, d);
        e = std::clamp<int64_t>(e, 0, d);
        count[size_t(a)] = std::max<int64_t>(0, (e - s + st - 1) / st);
      } else {
        s = std::clamp<int64_t>(s, -1, d - 1);
        e = std::clamp<int64_t>(e, -1, d - 1);
        count[size_t(a)] = std::max<int64_t>(0, (s - e + (-st) - 1) / (-st));
      }
      begin[size_t(a)] = s;
      stepOf[size_t(a)] = st;
    }
    ConstTensor t{x->elemType, count, {}};
    std::vector<int64_t> inStrides = stridesOf(x->dims), outStrides = stridesOf(count);
    int64_t n = elementCount(count);
    for (int64_t k = 0; k < n; ++k) {
      int64_t off = 0;
      for (size_t i = 0; i < r; ++i) off += (begin[i] + ((k / outStrides[i]) % count[i]) * stepOf[i]) * inStrides[i];
      t.values.push_back(x->values[size_t(off)]);
    }
    return Tensors{t};
  }
  if (op == "Expand") {
    auto shape = ctx.ints(1, "shape");
    if (!shape) return shape.error();
    ConstTensor ones{x->elemType, *shape, {}};
    for (int64_t& d : ones.dims) d = std::max<int64_t>(d, 1);
    ones.values.assign(size_t(std::max<int64_t>(elementCount(ones.dims), 0)), 0.0);
    auto r = elementwise(ctx, {x, &ones}, x->elemType, [](const std::vector<double>& a) { return a[0]; }, true);
    if (!r) return r.error();
    return Tensors{*r};
  }
  if (op == "Where") {
    auto r = elementwise(ctx, {x, C(1), C(2)}, C(1)->elemType,
                         [](const std::vector<double>& a) { return a[0] != 0 ? a[1] : a[2]; }, true);
    if (!r) return r.error();
    return Tensors{*r};
  }
  using F = std::function<double(const std::vector<double>&)>;
  bool integer = isIntegerType(x->elemType);
  static const std::map<std::string, std::pair<F, bool>> binary = {
      {"Add", {[](const std::vector<double>& a) { return a[0] + a[1]; }, false}},
      {"Sub", {[](const std::vector<double>& a) { return a[0] - a[1]; }, false}},
      {"Mul", {[](const std::vector<double>& a) { return a[0] * a[1]; }, false}},
      {"Div", {[](const std::vector<double>& a) { return a[0] / a[1]; }, false}},
      {"Pow", {[](const std::vector<double>& a) { return std::pow(a[0], a[1]); }, false}},
      {"Max", {[](const std::vector<double>& a) { return *std::max_element(a.begin(), a.end()); }, false}},
      {"Min", {[](const std::vector<double>& a) { return *std::min_element(a.begin(), a.end()); }, false}},
      {"Equal", {[](const std::vector<double>& a) { return double(a[0] == a[1]); }, true}},
      {"Less", {[](const std::vector<double>& a) { return double(a[0] < a[1]); }, true}},
      {"Greater", {[](const std::vector<double>& a) { return double(a[0] > a[1]); }, true}},
      {"LessOrEqual", {[](const std::vector<double>& a) { return double(a[0] <= a[1]); }, true}},
      {"GreaterOrEqual", {[](const std::vector<double>& a) { return double(a[0] >= a[1]); }, true}},
      {"And", {[](const std::vector<double>& a) { return double(a[0] != 0 && a[1] != 0); }, true}},
      {"Or", {[](const std::vector<double>& a) { return double(a[0] != 0 || a[1] != 0); }, true}},
      {"Neg", {[](const std::vector<double>& a) { return -a[0]; }, false}},
      {"Abs", {[](const std::vector<double>& a) { return std::fabs(a[0]); }, false}},
      {"Not", {[](const std::vector<double>& a) { return double(a[0] == 0); }, true}},
      {"Sqrt", {[](const std::vector<double>& a) { return std::sqrt(a[0]); }, false}},
      {"Floor", {[](const std::vector<double>& a) { return std::floor(a[0]); }, false}},
      {"Ceil", {[](const std::vector<double>& a) { return std::ceil(a[0]); }, false}},
  };
  auto it = binary.find(op);
  if (it == binary.end()) return ctx.error("internal: no folding rule");
  std::vector<const ConstTensor*> operands;
  for (size_t i = 0; i < ctx.numInputs(); ++i) operands.push_back(C(i));
  F f = it->second.first;
  if (op == "Div" && integer) {
    for (double d : C(1)->values)
      if (d == 0) return ctx.error("integer division by zero");
    f = [](const std::vector<double>& a) { return std::trunc(a[0] / a[1]); };
  }
  bool exactOnBatch = op == "Max" || op == "Min" || op == "Equal";
  auto r = elementwise(ctx, operands, it->second.second ? kBool : x->elemType, f, exactOnBatch && false);
  if (!r) return r.error();
  return Tensors{*r};
}

}  // namespace

std::optional<Result<std::vector<ConstTensor>>> foldNode(ImportContext& ctx) {
  static const std::set<std::string> always = {"Constant", "Shape", "Size", "EyeLike"};
  static const std::set<std::string> whenKnown = {
      "ConstantOfShape", "Range", "Identity", "Cast", "Unsqueeze", "Squeeze", "Concat", "Gather", "Reshape", "Flatten",
      "Slice", "Expand", "Where", "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "Less", "Greater",
      "LessOrEqual", "GreaterOrEqual", "And", "Or", "Neg", "Abs", "Not", "Sqrt", "Floor", "Ceil"};
  const std::string& op = ctx.node->op_type();
  if (!always.count(op)) {
    if (!whenKnown.count(op)) return std::nullopt;
    bool any = false;
    for (size_t i = 0; i < ctx.numInputs(); ++i) {
      if (!ctx.hasInput(i)) continue;
      if (!ctx.constant(i)) return std::nullopt;
      any = true;
    }
    if (!any) return std::nullopt;
    // Folding a large float computation would move the model's work into the importer.
    if (op != "ConstantOfShape" && op != "Range")
      for (size_t i = 0; i < ctx.numInputs(); ++i)
        if (ctx.hasInput(i) && static_cast<int64_t>(ctx.constant(i)->values.size()) > kMaxFoldElements)
          return std::nullopt;
  }
  auto r = fold(ctx, op);
  if (!r) return Result<std::vector<ConstTensor>>(r.error());
  return Result<std::vector<ConstTensor>>(std::move(*r));
}

}  // namespace nnc::onnximport
