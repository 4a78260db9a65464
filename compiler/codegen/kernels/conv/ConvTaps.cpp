#include "compiler/codegen/kernels/conv/ConvTaps.h"

#include <algorithm>

#include "compiler/ir/OpAttrs.h"

namespace nnc::codegen {

using llvm::Value;

GroupedConvDims groupedConvDims(const Node& n, const Shape& x, const Shape& w, const Shape& y) {
  GroupedConvDims g;
  g.G = ConvAttr::of(n).groups;
  g.d = ConvDims{x[1], x[2], x[3], w[0], w[1], w[3], y[1], y[2], ConvAttr::of(n).window(w[0], w[1])};
  g.Cg = x[3] / g.G;
  g.Fg = w[3] / g.G;
  return g;
}

bool needsGroupedConv(const Node& n) {
  return ConvAttr::of(n).groups != 1 || ConvAttr::of(n).window(1, 1).dilated();
}

TapColumn tapColumn(TaskBuilder& tb, const Window& geo, int64_t width, Value* ow, Value* kx) {
  auto& b = tb.b();
  Value* col = sAdd(b, sAdd(b, sMul(b, ow, geo.sw), sMul(b, kx, geo.dw)), -geo.pl);
  Value* inside = b.CreateAnd(b.CreateICmpSGE(col, tb.i64(0)), b.CreateICmpSLT(col, tb.i64(width)));
  Value* clamped = tb.smin(tb.smax(col, tb.i64(0)), tb.i64(width - 1));
  return {col, inside, clamped};
}

Value* blockInterior(TaskBuilder& tb, const Window& geo, int64_t width, Value* ow0, int64_t np) {
  auto& b = tb.b();
  Value* first = sAdd(b, sMul(b, ow0, geo.sw), -geo.pl);
  Value* last = sAdd(b, first, (np - 1) * geo.sw + (geo.kw - 1) * geo.dw);
  return b.CreateAnd(b.CreateICmpSGE(first, tb.i64(0)), b.CreateICmpSLT(last, tb.i64(width)));
}

void splitInterior(TaskBuilder& tb, Value* interior, const std::function<void(bool)>& body) {
  tb.ifThen(interior, [&] { body(true); });
  tb.ifThen(tb.b().CreateNot(interior), [&] { body(false); });
}

void forPhaseBlocks(TaskBuilder& tb, int64_t width, int64_t s, int64_t pixels,
                    const std::function<void(int64_t, Value*, int64_t)>& body) {
  for (int64_t ph = 0; ph < std::min(s, width); ++ph) {
    int64_t count = (width - ph + s - 1) / s;
    forBlocks(tb, 0, count, pixels, [&](Value* q0, int64_t np) { body(ph, q0, np); }, "qb");
  }
}

void forEvenPhaseBlocks(TaskBuilder& tb, int64_t width, int64_t s, int64_t pixels,
                        const std::function<void(int64_t, Value*, int64_t)>& body) {
  pixels = std::max<int64_t>(pixels, 1);
  for (int64_t ph = 0; ph < std::min(s, width); ++ph) {
    int64_t count = (width - ph + s - 1) / s;
    // `blocks` blocks: `wide` of base + 1 columns, then the rest of base (base <= pixels).
    int64_t blocks = (count + pixels - 1) / pixels, base = count / blocks, wide = count % blocks;
    auto run = [&](Value* q0, int64_t np) { body(ph, q0, np); };
    forBlocks(tb, 0, wide * (base + 1), base + 1, run, "qb");
    forBlocks(tb, wide * (base + 1), count, base, run, "qn");
  }
}

PhaseTap phaseTap(TaskBuilder& tb, int64_t ph, int64_t pad, int64_t s, int64_t dilation, int64_t outSize, Value* k,
                  Value* q0, int64_t np) {
  auto& b = tb.b();
  PhaseTap t;
  Value* t0 = b.CreateNSWSub(tb.i64(ph + pad), sMul(b, k, dilation));
  t.uniform = s == 1 ? b.getTrue() : b.CreateICmpEQ(b.CreateSRem(t0, tb.i64(s)), tb.i64(0));
  Value* base = sAdd(b, s == 1 ? t0 : b.CreateSDiv(t0, tb.i64(s)), q0);
  for (int64_t p = 0; p < np; ++p) {
    Value* o = sAdd(b, base, p);
    t.inside.push_back(b.CreateAnd(b.CreateICmpSGE(o, tb.i64(0)), b.CreateICmpSLT(o, tb.i64(outSize))));
    t.column.push_back(tb.smin(tb.smax(o, tb.i64(0)), tb.i64(outSize - 1)));
    t.unclamped.push_back(o);
  }
  return t;
}

Value* phaseBlockInterior(TaskBuilder& tb, int64_t ph, int64_t pad, int64_t s, int64_t dilation, int64_t taps,
                          int64_t outSize, Value* q0, int64_t np) {
  auto& b = tb.b();
  auto floorDiv = [](int64_t a, int64_t d) { return a / d - (a % d != 0 && a < 0 ? 1 : 0); };
  // The lowest column read is that of the last tap at pixel 0, the highest the first tap's at
  // pixel np - 1 (rounded outwards: the exact taps only read columns between the two).
  int64_t lo = floorDiv(ph + pad - (taps - 1) * dilation, s), hi = floorDiv(ph + pad, s) + np - 1;
  return b.CreateAnd(b.CreateICmpSGE(sAdd(b, q0, lo), tb.i64(0)), b.CreateICmpSLT(sAdd(b, q0, hi), tb.i64(outSize)));
}

std::pair<Value*, Value*> gradientOutput(TaskBuilder& tb, Value* t, int64_t s, int64_t size) {
  auto& b = tb.b();
  Value* o = s == 1 ? t : b.CreateSDiv(t, tb.i64(s));
  Value* ok = b.CreateAnd(b.CreateICmpSGE(t, tb.i64(0)), b.CreateICmpSLT(o, tb.i64(size)));
  if (s != 1) ok = b.CreateAnd(ok, b.CreateICmpEQ(b.CreateSRem(t, tb.i64(s)), tb.i64(0)));
  return {tb.smin(tb.smax(o, tb.i64(0)), tb.i64(size - 1)), ok};
}

void forPhaseBlockTaps(TaskBuilder& tb, const ConvDims& d, Value* ih, Value* dyImageRow, int64_t ph, Value* q0, int64_t np,
                       const PhaseTapBody& tap) {
  auto& b = tb.b();
  const Window& geo = d.geo;
  Value* interior = phaseBlockInterior(tb, ph, geo.pl, geo.sw, geo.dw, d.KW, d.OW, q0, np);
  splitInterior(tb, interior, [&](bool inner) {
    tb.loop(tb.i64(0), tb.i64(d.KH), [&](Value* ky) {
      auto [oh, rowOk] = gradientOutput(tb, b.CreateNSWSub(sAdd(b, ih, geo.pt), sMul(b, ky, geo.dh)), geo.sh, d.OH);
      tb.ifThen(rowOk, [&] {
        Value* dyRow = sMul(b, sAdd(b, dyImageRow, oh), d.OW);
        tb.loop(tb.i64(0), tb.i64(d.KW), [&](Value* kx) {
          PhaseTap t = phaseTap(tb, ph, geo.pl, geo.sw, geo.dw, d.OW, kx, q0, np);
          tb.ifThen(t.uniform, [&] { tap(inner, t, dyRow, ky, kx); });
        }, "kx");
      });
    }, "ky");
  });
}

Value* keepInside(TaskBuilder& tb, Value* value, Value* inside) {
  return tb.b().CreateSelect(inside, value, llvm::Constant::getNullValue(value->getType()));
}

}  // namespace nnc::codegen
