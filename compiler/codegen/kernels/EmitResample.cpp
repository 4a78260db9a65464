// upsample and pad, and their gradients, as one table-driven gather over NHWC images. Each
// axis's taps (compiler/ir/ImageTaps.h, the interpreter's definition) become constant tables:
// for every destination row (and column), the range of its taps, their source offsets and
// weights. The forward ops gather through the forward taps; the gradients gather through
// their transpose (each input cell's list of the output cells that read it, with weights),
// so that every destination cell is written by one thread without atomics.
//
// Parallel over destination rows (n, h); the innermost loop runs over channels (vectorised).
#include <algorithm>

#include "compiler/codegen/Emit.h"
#include "compiler/ir/ImageTaps.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

// One axis's gather table: destination index d reads entries [start[d], start[d + 1]).
struct ResampleTable {
  std::vector<int64_t> start{0};
  std::vector<int64_t> offset;  // the source index times the axis's element stride
  std::vector<float> weight;
};

ResampleTable gatherTable(const AxisTaps& taps, int64_t sources, bool transpose, int64_t stride) {
  ResampleTable t;
  if (!transpose) {
    for (const auto& list : taps) {
      for (const ImageTap& tap : list) t.offset.push_back(tap.src * stride), t.weight.push_back(float(tap.weight));
      t.start.push_back(static_cast<int64_t>(t.offset.size()));
    }
    return t;
  }
  std::vector<std::vector<ImageTap>> readers(static_cast<size_t>(sources));
  for (size_t o = 0; o < taps.size(); ++o)
    for (const ImageTap& tap : taps[o]) readers[static_cast<size_t>(tap.src)].push_back({static_cast<int64_t>(o), tap.weight});
  for (const auto& list : readers) {
    for (const ImageTap& r : list) t.offset.push_back(r.src * stride), t.weight.push_back(float(r.weight));
    t.start.push_back(static_cast<int64_t>(t.offset.size()));
  }
  return t;
}

llvm::GlobalVariable* resampleConstantArray(TaskBuilder& tb, llvm::Constant* init, const std::string& name) {
  auto* gv = new llvm::GlobalVariable(tb.entry().module, init->getType(), true, llvm::GlobalValue::PrivateLinkage, init, name);
  gv->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  gv->setAlignment(llvm::Align(16));
  return gv;
}

struct TableValues {
  llvm::GlobalVariable *start, *offset, *weight;
};

TableValues tableGlobals(TaskBuilder& tb, const ResampleTable& t, const std::string& name) {
  std::vector<uint64_t> start(t.start.begin(), t.start.end()), offset(t.offset.begin(), t.offset.end());
  std::vector<float> weight = t.weight;
  if (offset.empty()) offset.push_back(0), weight.push_back(0);  // no zero-length arrays
  return {resampleConstantArray(tb, llvm::ConstantDataArray::get(tb.ctx(), start), name + ".start"),
          resampleConstantArray(tb, llvm::ConstantDataArray::get(tb.ctx(), offset), name + ".offset"),
          resampleConstantArray(tb, llvm::ConstantDataArray::get(tb.ctx(), weight), name + ".weight")};
}

Value* loadAt(TaskBuilder& tb, llvm::GlobalVariable* array, llvm::Type* t, Value* i) {
  auto& b = tb.b();
  return b.CreateLoad(t, b.CreateInBoundsGEP(t, array, i));
}

Result<void> emitResample(KernelContext& kc, bool isPad, bool gradient) {
  const Node& n = kc.root();
  NodeId S = n.inputs[0], D = kc.kernel.root;
  const Shape &ss = kc.graph().type(S).shape, &ds = n.type.shape;
  const Shape& xs = gradient ? ds : ss;  // the forward op's input
  const int64_t SH = ss[1], SW = ss[2], C = ss[3], DH = ds[1], DW = ds[2];
  AxisTaps th = resampleAxisTaps(isPad, n.attrs, 0, xs[1]), tw = resampleAxisTaps(isPad, n.attrs, 1, xs[2]);
  ResampleTable rows = gatherTable(th, DH, gradient, SW * C), cols = gatherTable(tw, DW, gradient, C);
  int64_t most = 1;  // the most taps of one destination cell (the work estimate)
  for (size_t i = 0; i + 1 < rows.start.size(); ++i) {
    for (size_t j = 0; j + 1 < cols.start.size(); ++j)
      most = std::max(most, (rows.start[i + 1] - rows.start[i]) * (cols.start[j + 1] - cols.start[j]));
  }
  const double fill = isPad && !gradient ? PadAttr::of(n).value : 0.0;

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  TableValues hT = tableGlobals(tb, rows, kc.taskName(".rows")), wT = tableGlobals(tb, cols, kc.taskName(".cols"));
  llvm::Type *i64 = b.getInt64Ty(), *f32 = b.getFloatTy();
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = image * DH + h
    Value* image = b.CreateUDiv(r, tb.i64(DH));
    Value* h = b.CreateURem(r, tb.i64(DH));
    Value* sourceImage = tb.mul(image, tb.i64(SH * SW * C));
    Value* h0 = loadAt(tb, hT.start, i64, h);
    Value* h1 = loadAt(tb, hT.start, i64, tb.add(h, tb.i64(1)));
    tb.loop(tb.i64(0), tb.i64(DW), [&](Value* w) {
      Value* dBase = tb.mul(tb.add(tb.mul(r, tb.i64(DW)), w), tb.i64(C));
      Value* w0 = loadAt(tb, wT.start, i64, w);
      Value* w1 = loadAt(tb, wT.start, i64, tb.add(w, tb.i64(1)));
      Value* init = tb.f32(0.0);
      if (fill != 0.0) {  // pad's constant where either axis has no tap
        Value* outside = b.CreateOr(b.CreateICmpEQ(h0, h1), b.CreateICmpEQ(w0, w1));
        init = b.CreateSelect(outside, tb.f32(fill), tb.f32(0.0));
      }
      tb.loop(tb.i64(0), tb.i64(C), [&](Value* c) { tb.store(D, tb.add(dBase, c), init); }, "c");
      tb.loop(h0, h1, [&](Value* a) {
        Value* rowBase = tb.add(sourceImage, loadAt(tb, hT.offset, i64, a));
        Value* wh = loadAt(tb, hT.weight, f32, a);
        tb.loop(w0, w1, [&](Value* e) {
          Value* sBase = tb.add(rowBase, loadAt(tb, wT.offset, i64, e));
          Value* weight = b.CreateFMul(wh, loadAt(tb, wT.weight, f32, e));
          tb.loop(tb.i64(0), tb.i64(C), [&](Value* c) {
            Value* at = tb.add(dBase, c);
            Value* v = b.CreateFMul(weight, tb.load(S, tb.add(sBase, c)));
            tb.store(D, at, b.CreateFAdd(tb.load(D, at), v));
          }, "c");
        }, "tw");
      }, "th");
    }, "w");
  }, "row");
  const Extent images = dimExtent(ds[0]);
  tb.finish(Extent{images.k * DH, images.batched},
            Extent{DW * C * (2 * most + 1), false});
  return {};
}

}  // namespace

Result<void> emitUpsample(KernelContext& kc) { return emitResample(kc, false, false); }
Result<void> emitUpsampleGrad(KernelContext& kc) { return emitResample(kc, false, true); }
Result<void> emitPad(KernelContext& kc) { return emitResample(kc, true, false); }
Result<void> emitPadGrad(KernelContext& kc) { return emitResample(kc, true, true); }

}  // namespace nnc::codegen
