// Data movement that is not a strided read of one operand: concatenation and one-hot rows.
// (Reshape is a view; transpose, slice and broadcast are strided reads inside fused loops.)
#include "compiler/codegen/Emit.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

// Product of a shape's dims in [from, to), as an extent.
Extent span(const Shape& s, size_t from, size_t to) {
  Extent e;
  for (size_t d = from; d < to && d < s.rank(); ++d) {
    if (s[d] == kBatch)
      e.batched = true;
    else
      e.k *= s[d];
  }
  return e;
}

}  // namespace

// out[o, off_i + j] = in_i[o, j] with o over the dims before the axis and j over the operand's
// block (its extent along the axis times everything after). Parallel over o.
Result<void> emitConcat(KernelContext& kc) {
  const Node& n = kc.root();
  const Shape& out = n.type.shape;
  size_t axis = static_cast<size_t>(normalizeAxis(AxisAttr::of(n).axis, out.rank()));
  Extent outer = span(out, 0, axis);
  int64_t inner = span(out, axis + 1, out.rank()).k;
  int64_t outBlock = out[axis] * inner;
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  tb.loop(tb.begin(), tb.end(), [&](Value* o) {
    int64_t offset = 0;
    for (NodeId in : n.inputs) {
      int64_t block = kc.graph().type(in).shape[axis] * inner;
      Value* src = tb.mul(o, tb.i64(block));
      Value* dst = tb.add(tb.mul(o, tb.i64(outBlock)), tb.i64(offset));
      tb.loop(tb.i64(0), tb.i64(block), [&](Value* j) { tb.store(kc.kernel.root, tb.add(dst, j), tb.load(in, tb.add(src, j))); }, "j");
      offset += block;
    }
  }, "o");
  tb.finish(outer, Extent{outBlock, false});
  return {};
}

// out[r, d] = labels[r] == d ? 1 : 0 (an out-of-range label gives a row of zeros).
Result<void> emitOneHot(KernelContext& kc) {
  const Node& n = kc.root();
  NodeId labels = n.inputs[0];
  int64_t depth = n.type.shape.dims.back();
  Extent rows = elementsOf(kc.graph().type(labels).shape);
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {
    Value* label = b.CreateSExt(tb.load(labels, r), b.getInt64Ty());
    Value* row = tb.mul(r, tb.i64(depth));
    tb.loop(tb.i64(0), tb.i64(depth), [&](Value* d) {
      tb.store(kc.kernel.root, tb.add(row, d), b.CreateSelect(b.CreateICmpEQ(label, d), tb.f32(1.0), tb.f32(0.0)));
    }, "d");
  }, "r");
  tb.finish(rows, Extent{depth, false});
  return {};
}

}  // namespace nnc::codegen
