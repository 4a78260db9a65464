// Data-movement ONNX ops on run-time tensors (their import-time forms fold in OnnxFold.cpp):
// Reshape and its relatives keep nnc's rule that `batch` stays the first dimension.
#include <algorithm>
#include <numeric>

#include "compiler/ir/TypedAttrs.h"
#include "compiler/onnx/OnnxContext.h"

namespace nnc::onnximport {
namespace {


// ONNX Reshape's target (0 copies, -1 infers) resolved against `in`, `batch` kept first.
Result<std::vector<int64_t>> resolveReshape(ImportContext& ctx, const Shape& in, std::vector<int64_t> target,
                                            bool allowZero) {
  int64_t infer = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == 0 && !allowZero) {
      if (i >= in.rank()) return ctx.error("shape copies dimension " + std::to_string(i) + " the input lacks");
      target[i] = in[i] == kBatch ? kBatchInt : in[i];
    }
    if (target[i] == -1) {
      if (infer >= 0) return ctx.error("shape has two -1 dimensions");
      infer = static_cast<int64_t>(i);
    } else if (target[i] == kBatchInt && i != 0) {
      return ctx.error("the batch dimension would move from the first position");
    } else if (target[i] < 0 && target[i] != kBatchInt) {
      return ctx.error("shape has the negative dimension " + std::to_string(target[i]));
    }
  }
  int64_t perSample = in.numElementsPerBatchRow();
  if (in.isBatched()) {
    bool batchFirst = !target.empty() && target[0] == kBatchInt;
    if (!batchFirst) {
      if (infer != 0)
        return ctx.error("reshaping " + in.str() + " must keep the batch as the first dimension (write it as -1 or "
                         "as the input's size(0))");
      target[0] = kBatchInt;
      infer = -1;
    }
  }
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i)
    if (static_cast<int64_t>(i) != infer && target[i] != kBatchInt && __builtin_mul_overflow(known, target[i], &known))
      return ctx.error("shape's dimensions multiply past 2^63 elements");
  if (infer >= 0) {
    if (known == 0 || perSample % known != 0)
      return ctx.error("cannot reshape " + in.str() + " to a shape with " + std::to_string(known) + " elements per sample");
    target[size_t(infer)] = perSample / known;
  }
  for (int64_t& d : target)
    if (d == kBatchInt) d = kBatch;
  return target;
}

Result<void> mapReshape(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  auto target = ctx.ints(1, "shape");
  if (!target) return target.error();
  auto dims = resolveReshape(ctx, ctx.shape(x), *target, ctx.attrInt("allowzero", 0) != 0);
  if (!dims) return dims.error();
  TRY_NODE(r, ctx.reshape(x, *dims));
  ctx.setOutput(0, r, ctx.elemType(0));
  return {};
}

Result<void> mapFlatten(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  const Shape& s = ctx.shape(x);
  int64_t axis = normAxis(ctx.attrInt("axis", 1), s.rank());
  if (axis < 0 || axis > static_cast<int64_t>(s.rank())) return ctx.error("axis out of range");
  int64_t outer = 1, inner = 1;
  bool batched = s.isBatched();
  for (int64_t i = 0; i < axis; ++i) outer *= s[size_t(i)] == kBatch ? 1 : s[size_t(i)];
  for (size_t i = size_t(axis); i < s.rank(); ++i) inner *= s[i] == kBatch ? 1 : s[i];
  if (batched && axis != 1) return ctx.error("Flatten of a batched tensor needs axis 1 (the batch stays first)");
  TRY_NODE(r, ctx.reshape(x, {batched ? kBatch : outer, inner}));
  ctx.setOutput(0, r, ctx.elemType(0));
  return {};
}

Result<std::vector<int64_t>> axesArg(ImportContext& ctx, size_t input) {
  if (ctx.hasInput(input)) return ctx.ints(input, "axes");
  return ctx.attrInts("axes").value_or(std::vector<int64_t>{});
}

Result<void> mapUnsqueeze(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  auto axes = axesArg(ctx, 1);
  if (!axes) return axes.error();
  std::vector<int64_t> dims = ctx.shape(x).dims;
  size_t rank = dims.size() + axes->size();
  std::vector<int64_t> sorted;
  for (int64_t a : *axes) sorted.push_back(normAxis(a, rank));
  std::sort(sorted.begin(), sorted.end());
  for (int64_t a : sorted) {
    if (a < 0 || a > static_cast<int64_t>(dims.size())) return ctx.error("axis out of range");
    dims.insert(dims.begin() + a, 1);
  }
  TRY_NODE(r, ctx.reshape(x, dims));
  ctx.setOutput(0, r, ctx.elemType(0));
  return {};
}

Result<void> mapSqueeze(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  auto axes = axesArg(ctx, 1);
  if (!axes) return axes.error();
  const Shape& s = ctx.shape(x);
  std::vector<bool> drop(s.rank(), false);
  if (axes->empty())
    for (size_t i = 0; i < s.rank(); ++i) drop[i] = s[i] == 1;
  for (int64_t a : *axes) {
    a = normAxis(a, s.rank());
    if (a < 0 || a >= static_cast<int64_t>(s.rank()) || s[size_t(a)] != 1)
      return ctx.error("cannot squeeze axis " + std::to_string(a) + " of " + s.str());
    drop[size_t(a)] = true;
  }
  std::vector<int64_t> dims;
  for (size_t i = 0; i < s.rank(); ++i)
    if (!drop[i]) dims.push_back(s[i]);
  TRY_NODE(r, ctx.reshape(x, dims));
  ctx.setOutput(0, r, ctx.elemType(0));
  return {};
}

Result<void> mapTranspose(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  std::vector<int64_t> perm(ctx.rank(x));
  std::iota(perm.rbegin(), perm.rend(), 0);
  if (auto p = ctx.attrInts("perm"); p && !p->empty()) perm = *p;
  TRY_NODE(r, ctx.transpose(x, perm));
  ctx.setOutput(0, r, ctx.elemType(0));
  return {};
}

Result<void> mapConcat(ImportContext& ctx) {
  std::vector<NodeId> in;
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    TRY_NODE(x, ctx.in(i));
    if (ctx.shape(x).numElements(1) == 0) continue;  // empty operands add nothing
    in.push_back(x);
  }
  if (in.empty()) return ctx.error("every operand is empty");
  int64_t axis = normAxis(ctx.attrInt("axis", 0), ctx.rank(in[0]));
  NodeId r = in[0];
  if (in.size() > 1) {
    TRY_NODE(c, ctx.op(OpKind::Concat, in, AxisAttr{axis}.attrs()));
    r = c;
  }
  ctx.setOutput(0, r, ctx.elemType(0));
  return {};
}

// x[begin:end] along `axis` (step 1); the whole axis is x itself.
Result<NodeId> sliceAxis(ImportContext& ctx, NodeId x, int64_t axis, int64_t begin, int64_t end) {
  int64_t d = ctx.shape(x)[size_t(axis)];
  if (begin == 0 && (end == d || d == kBatch)) return x;
  if (d == kBatch) return ctx.error("slicing the batch dimension is not supported");
  return ctx.op(OpKind::Slice, {x}, SliceAttr{axis, begin, end}.attrs());
}

Result<void> mapSlice(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  auto starts = ctx.ints(1, "starts");
  if (!starts) return starts.error();
  auto ends = ctx.ints(2, "ends");
  if (!ends) return ends.error();
  size_t r = ctx.rank(x);
  std::vector<int64_t> axes(starts->size()), steps(starts->size(), 1);
  std::iota(axes.begin(), axes.end(), 0);
  if (ctx.hasInput(3)) {
    auto a = ctx.ints(3, "axes");
    if (!a) return a.error();
    axes = *a;
  }
  if (ctx.hasInput(4)) {
    auto s = ctx.ints(4, "steps");
    if (!s) return s.error();
    steps = *s;
  }
  if (axes.size() != starts->size() || ends->size() != starts->size() || steps.size() != starts->size())
    return ctx.error("starts, ends, axes and steps differ in length");
  NodeId cur = x;
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t a = normAxis(axes[k], r);
    if (a < 0 || a >= static_cast<int64_t>(r)) return ctx.error("axis out of range");
    if (steps[k] != 1) return ctx.error("slices with a step other than 1 are not supported");
    int64_t d = ctx.shape(cur)[size_t(a)];
    int64_t s = (*starts)[k], e = (*ends)[k];
    if (d == kBatch) {
      if (s != 0 || e < INT32_MAX) return ctx.error("slicing the batch dimension is not supported");
      continue;
    }
    if (s < 0) s += d;
    if (e < 0) e += d;
    s = std::clamp<int64_t>(s, 0, d);
    e = std::clamp<int64_t>(e, s, d);
    if (e == s) return ctx.error("empty slices are not supported");
    TRY_NODE(n, sliceAxis(ctx, cur, a, s, e));
    cur = n;
  }
  ctx.setOutput(0, cur, ctx.elemType(0));
  return {};
}

Result<void> mapSplit(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  const Shape& s = ctx.shape(x);
  int64_t axis = normAxis(ctx.attrInt("axis", 0), s.rank());
  if (axis < 0 || axis >= static_cast<int64_t>(s.rank())) return ctx.error("axis out of range");
  int64_t d = s[size_t(axis)];
  std::vector<int64_t> sizes;
  if (ctx.hasInput(1)) {
    auto sp = ctx.ints(1, "split");
    if (!sp) return sp.error();
    sizes = *sp;
  } else if (auto a = ctx.attrInts("split")) {
    sizes = *a;
  } else {
    int64_t n = static_cast<int64_t>(ctx.numOutputs());
    if (d == kBatch || d % n != 0) return ctx.error("cannot split " + s.str() + " evenly in " + std::to_string(n));
    sizes.assign(size_t(n), d / n);
  }
  if (sizes.size() != ctx.numOutputs()) return ctx.error("split sizes do not match the outputs");
  int64_t begin = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    TRY_NODE(part, sliceAxis(ctx, x, axis, begin, begin + sizes[i]));
    ctx.setOutput(i, part, ctx.elemType(0));
    begin += sizes[i];
  }
  if (begin != d) return ctx.error("split sizes do not add up to the dimension");
  return {};
}

Result<void> mapTile(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  auto reps = ctx.ints(1, "repeats");
  if (!reps) return reps.error();
  if (reps->size() != ctx.rank(x)) return ctx.error("repeats must have one entry per axis");
  NodeId cur = x;
  for (size_t a = 0; a < reps->size(); ++a) {
    int64_t r = (*reps)[a];
    if (r < 1) return ctx.error("repeats below 1 are not supported");
    if (r == 1) continue;
    if (ctx.shape(cur)[a] == kBatch) return ctx.error("tiling the batch dimension is not supported");
    TRY_NODE(c, ctx.op(OpKind::Concat, std::vector<NodeId>(size_t(r), cur), AxisAttr{int64_t(a)}.attrs()));
    cur = c;
  }
  ctx.setOutput(0, cur, ctx.elemType(0));
  return {};
}

Result<void> mapExpand(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  auto shape = ctx.ints(1, "shape");
  if (!shape) return shape.error();
  std::vector<int64_t> in = ctx.shape(x).dims, target = *shape;
  for (int64_t& d : target)
    if (d == kBatchInt) d = kBatch;
  size_t rank = std::max(in.size(), target.size());
  in.insert(in.begin(), rank - in.size(), 1);
  target.insert(target.begin(), rank - target.size(), 1);
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    if (in[i] == target[i] || target[i] == 1) out[i] = in[i];
    else if (in[i] == 1) out[i] = target[i];
    else return ctx.error("cannot expand " + ctx.shape(x).str() + " to the requested shape");
  }
  NodeId r = x;
  if (out != ctx.shape(x).dims) {
    TRY_NODE(b, ctx.op(OpKind::BroadcastTo, {x}, ShapeAttr{out}.attrs()));
    r = b;
  }
  ctx.setOutput(0, r, ctx.elemType(0));
  return {};
}

Result<void> mapGather(ImportContext& ctx) {
  TRY_NODE(data, ctx.in(0));
  const Shape& s = ctx.shape(data);
  int64_t axis = normAxis(ctx.attrInt("axis", 0), s.rank());
  if (axis < 0 || axis >= static_cast<int64_t>(s.rank())) return ctx.error("axis out of range");
  int64_t n = s[size_t(axis)];
  if (n == kBatch) return ctx.error("gathering along the batch dimension is not supported");
  std::vector<int64_t> outDims(s.dims.begin(), s.dims.begin() + axis);
  if (const ConstTensor* idx = ctx.constant(1)) {
    // Known indices: slices of the data, concatenated, then the indices' shape.
    std::vector<NodeId> parts;
    for (double v : idx->values) {
      int64_t i = static_cast<int64_t>(v);
      if (i < 0) i += n;
      if (i < 0 || i >= n) return ctx.error("index " + std::to_string(static_cast<int64_t>(v)) + " is out of range");
      TRY_NODE(p, sliceAxis(ctx, data, axis, i, i + 1));
      parts.push_back(p);
    }
    if (parts.empty()) return ctx.error("empty indices are not supported");
    NodeId cat = parts[0];
    if (parts.size() > 1) {
      TRY_NODE(c, ctx.op(OpKind::Concat, parts, AxisAttr{axis}.attrs()));
      cat = c;
    }
    outDims.insert(outDims.end(), idx->dims.begin(), idx->dims.end());
    outDims.insert(outDims.end(), s.dims.begin() + axis + 1, s.dims.end());
    TRY_NODE(r, ctx.reshape(cat, outDims));
    ctx.setOutput(0, r, ctx.elemType(0));
    return {};
  }
  // Run-time indices along axis 0 (embeddings).
  if (axis != 0) return ctx.error("run-time indices are supported along axis 0 only");
  TRY_NODE(idx, ctx.in(1));
  if (ctx.g.type(idx).dtype != DType::I32) return ctx.error("indices must be integers");
  if (ctx.g.type(data).dtype != DType::F32) return ctx.error("run-time gathers read float tables only");
  // nnc's embedding gather (PyTorch's nn.Embedding exports this Gather): the table's rows,
  // not a one-hot product whose cost grows with the vocabulary; its gradient scatters into
  // the rows read. A negative index counts from the end (i + n where i < 0); an index
  // outside [-n, n) is a run-time error, as ONNX leaves it undefined.
  TRY_NODE(zeroI, ctx.materialize(ConstTensor{7, {}, {0.0}}));
  TRY_NODE(negative, ctx.op(OpKind::Greater, {zeroI, idx}));
  TRY_NODE(negativeI, ctx.op(OpKind::Cast, {negative}, DTypeAttr{"i32"}.attrs()));
  TRY_NODE(nConst, ctx.materialize(ConstTensor{7, {}, {double(n)}}));
  TRY_NODE(shift, ctx.op(OpKind::Mul, {negativeI, nConst}));
  TRY_NODE(wrapped, ctx.op(OpKind::Add, {idx, shift}));
  int64_t inner = 1;
  for (size_t i = 1; i < s.rank(); ++i) inner *= s[i];
  TRY_NODE(table, ctx.reshape(data, {n, inner}));
  TRY_NODE(rows, ctx.op(OpKind::Embedding, {table, wrapped}));
  std::vector<int64_t> dims = ctx.shape(idx).dims;
  dims.insert(dims.end(), s.dims.begin() + 1, s.dims.end());
  TRY_NODE(r, ctx.reshape(rows, dims));
  ctx.setOutput(0, r, ctx.elemType(0));
  return {};
}

// DepthToSpace / SpaceToDepth on NCHW: a reshape, a transpose and a reshape.
Result<void> mapDepthSpace(ImportContext& ctx, bool toSpace) {
  TRY_NODE(x, ctx.in(0));
  const Shape& s = ctx.shape(x);
  if (s.rank() != 4) return ctx.error("the input must be NCHW");
  int64_t b = ctx.attrInt("blocksize", 0), n = s[0], c = s[1], h = s[2], w = s[3];
  if (b < 1) return ctx.error("blocksize must be positive");
  std::vector<int64_t> split, perm, out;
  if (toSpace) {
    if (c % (b * b) != 0) return ctx.error("channels are not a multiple of blocksize^2");
    if (ctx.attrString("mode", "DCR") == "CRD") {
      split = {n, c / (b * b), b, b, h, w};
      perm = {0, 1, 4, 2, 5, 3};
    } else {
      split = {n, b, b, c / (b * b), h, w};
      perm = {0, 3, 4, 1, 5, 2};
    }
    out = {n, c / (b * b), h * b, w * b};
  } else {
    if (h % b != 0 || w % b != 0) return ctx.error("height and width are not multiples of blocksize");
    split = {n, c, h / b, b, w / b, b};
    perm = {0, 3, 5, 1, 2, 4};
    out = {n, c * b * b, h / b, w / b};
  }
  TRY_NODE(a, ctx.reshape(x, split));
  TRY_NODE(t, ctx.transpose(a, perm));
  TRY_NODE(r, ctx.reshape(t, out));
  ctx.setOutput(0, r, ctx.elemType(0));
  return {};
}

Result<void> passThrough(ImportContext& ctx) {
  TRY_NODE(x, ctx.in(0));
  ctx.setOutput(0, x, ctx.elemType(0));
  return {};
}

}  // namespace

void addShapeOps(OpTable& t) {
  t["Identity"] = passThrough;
  t["Reshape"] = mapReshape;
  t["Flatten"] = mapFlatten;
  t["Unsqueeze"] = mapUnsqueeze;
  t["Squeeze"] = mapSqueeze;
  t["Transpose"] = mapTranspose;
  t["Concat"] = mapConcat;
  t["Slice"] = mapSlice;
  t["Split"] = mapSplit;
  t["Tile"] = mapTile;
  t["Expand"] = mapExpand;
  t["Gather"] = mapGather;
  t["DepthToSpace"] = [](ImportContext& c) { return mapDepthSpace(c, true); };
  t["SpaceToDepth"] = [](ImportContext& c) { return mapDepthSpace(c, false); };
  // Dropout as nnc's mode-dependent op (active while training, the input in inference),
  // with the ratio known at import. A graph that reads the mask, or computes the ratio at
  // run time, gets inference's semantics: the input, and a mask of ones.
  t["Dropout"] = [](ImportContext& ctx) -> Result<void> {
    TRY_NODE(x, ctx.in(0));
    const ConstTensor* ratio = ctx.hasInput(1) ? ctx.constant(1) : nullptr;
    bool ratioKnown = !ctx.hasInput(1) || (ratio && ratio->values.size() == 1);
    if (!ctx.outputUsed(1) && ratioKnown && ctx.elemType(0) == kFloat) {
      double rate = ratio ? ratio->values[0] : 0.5;
      if (!(rate >= 0 && rate < 1)) return ctx.error("the ratio must be in [0, 1)");
      TRY_NODE(d, ctx.op(OpKind::Dropout, {x}, RateAttr{rate}.attrs()));
      ctx.setOutput(0, d);
      return {};
    }
    ctx.setOutput(0, x, ctx.elemType(0));
    if (ctx.wantsOutput(1)) {
      TRY_NODE(ones, ctx.op(OpKind::Equal, {x, x}));
      ctx.setOutput(1, ones, 9);
    }
    return {};
  };
}

}  // namespace nnc::onnximport
