// Grouped and dilated 2-D convolutions (groups G > 1 with more than one channel per group,
// or any dilation), forward and both gradients; depthwise ones (one channel per group) go to
// EmitDepthwiseConv.cpp. The same register blocks as EmitConv.cpp / EmitConvBackward.cpp,
// run per group, with taps on padding handled by ConvTaps.h (interior blocks untested).
//   y[n, oh, ow, g*Fg + f]  = sum over (ky, kx, c < Cg) of
//                             x[n, oh*sh - pt + ky*dh, ow*sw - pl + kx*dw, g*Cg + c] * w[ky, kx, c, g*Fg + f]
// Every output element is one FMA chain in an order fixed by the shape: bit-identical for
// every thread count.
#include <algorithm>

#include "compiler/codegen/kernels/conv/ConvRegisterBlock.h"
#include "compiler/codegen/kernels/conv/ConvTaps.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

// ---- forward -----------------------------------------------------------------------------

// Parallel range: output rows (n, oh). Register block: `pixels` output pixels x `vectors`
// vectors of one group's filters, filled by broadcast-FMA over (ky, kx, c).
class GroupedConvForward : GroupedConvEmitter {
 public:
  GroupedConvForward(KernelContext& kc, const GroupedConvDims& gd) : GroupedConvEmitter(kc, gd), out_(convOutput(kc)) {
    const VectorUnit vu = convVectorUnit();
    vectors_ = std::min<int64_t>((gd.Fg + L - 1) / L, 2);
    pixels_ = std::clamp<int64_t>((vu.registers - vectors_ - 1) / vectors_, 1, 8);
  }

  void emit() {
    tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = n * OH + oh
      Value* oh = b.CreateURem(r, tb.i64(d.OH));
      Value* ihBase = sAdd(b, sMul(b, oh, geo.sh), -geo.pt);
      Value* xImageRow = sMul(b, b.CreateUDiv(r, tb.i64(d.OH)), d.H);
      // Pixel blocks outside: their input pixels stay in L1 while every group reads them. Even
      // widths (forEvenPhaseBlocks at stride 1): 56 columns in blocks of 6 left a block of 2.
      forEvenPhaseBlocks(tb, d.OW, 1, pixels_, [&](int64_t, Value* ow0, int64_t np) {
        tb.loop(tb.i64(0), tb.i64(gd.G), [&](Value* grp) {
          forBlocks(tb, 0, gd.Fg, vectors_ * L, [&](Value* fIn, int64_t fWidth) {
            block(r, ihBase, xImageRow, ow0, np, grp, fIn, fWidth);
          }, "fb");
        }, "g");
      });
    }, "row");
    const Shape& ys = out_.shape;
    Extent rows{(ys[0] == kBatch ? 1 : ys[0]) * d.OH, ys.isBatched()};
    tb.finish(rows, Extent{d.OW * d.KH * d.KW * gd.Cg * d.F * 2, false});
  }

 private:
  void block(Value* r, Value* ihBase, Value* xImageRow, Value* ow0, int64_t np, Value* grp, Value* fIn, int64_t fWidth) {
    Value* f0 = sAdd(b, sMul(b, grp, gd.Fg), fIn);  // first filter of the block
    Value* cG = sMul(b, grp, gd.Cg);                  // the group's first input channel
    RegisterBlock acc(v, np, (fWidth + L - 1) / L, fWidth);
    splitInterior(tb, blockInterior(tb, geo, d.W, ow0, np), [&](bool interior) {
      tb.loop(tb.i64(0), tb.i64(d.KH), [&](Value* ky) {
        Value* ih = sAdd(b, ihBase, sMul(b, ky, geo.dh));
        Value* rowInside = b.CreateAnd(b.CreateICmpSGE(ih, tb.i64(0)), b.CreateICmpSLT(ih, tb.i64(d.H)));
        tb.ifThen(rowInside, [&] {
          Value* xRow = sMul(b, sAdd(b, xImageRow, ih), d.W);
          tb.loop(tb.i64(0), tb.i64(d.KW), [&](Value* kx) { tap(acc, interior, ow0, xRow, cG, ky, kx, f0); }, "kx");
        });
      }, "ky");
    });
    storeOutputBlock(kc, tb, acc, out_, r, ow0, d.OW, d.F, f0);
  }

  // Tap (ky, kx) of the block: the group's channels, taps on padding zeroed unless interior.
  void tap(RegisterBlock& acc, bool interior, Value* ow0, Value* xRow, Value* cG, Value* ky, Value* kx, Value* f0) {
    std::vector<Value*> xAt, inside;
    for (int64_t p = 0; p < acc.rows(); ++p) {
      TapColumn t = tapColumn(tb, geo, d.W, sAdd(b, ow0, p), kx);
      xAt.push_back(sAdd(b, sMul(b, sAdd(b, xRow, interior ? t.column : t.clamped), d.C), cG));
      inside.push_back(t.inside);
    }
    Value* wAt = sAdd(b, sMul(b, sMul(b, sAdd(b, sMul(b, ky, d.KW), kx), gd.Cg), d.F), f0);
    tb.loop(tb.i64(0), tb.i64(gd.Cg), [&](Value* c) {
      Value* wc = sAdd(b, wAt, sMul(b, c, d.F));
      std::vector<Value*> wv;
      for (int64_t j = 0; j < acc.cols(); ++j) wv.push_back(v.load(kc.root().inputs[1], sAdd(b, wc, j * L), acc.active(j)));
      acc.outer(wv, [&](int64_t p) {
        Value* x = tb.load(kc.root().inputs[0], sAdd(b, xAt[static_cast<size_t>(p)], c));
        return v.splat(interior ? x : keepInside(tb, x, inside[static_cast<size_t>(p)]));
      });
    }, "c");
  }

  ConvOutput out_;
  int64_t vectors_ = 1, pixels_ = 1;
};

// ---- input gradient ----------------------------------------------------------------------

// dx[n, ih, iw, g*Cg + c] = sum over (ky, kx, f < Fg) of dy[n, oh, ow, g*Fg + f] *
// w[ky, kx, c, g*Fg + f] where oh*sh = ih + pt - ky*dh and ow*sw = iw + pl - kx*dw (exactly, in
// range). Each element is a dot product over f: a block of `pixels` input columns x `channels`
// channels keeps one vector of partial sums per element (lanes over f), reduced at the end.
// Parallel range: input rows (n, ih).
class GroupedConvGradInput : GroupedConvEmitter {
 public:
  GroupedConvGradInput(KernelContext& kc, const GroupedConvDims& gd) : GroupedConvEmitter(kc, gd) {
    channels_ = pickBlock(gd.Cg, (convVectorUnit().registers - 1) / (kPixels + 1));
  }

  void emit() {
    tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = n * H + ih
      // Pixel blocks outside (their dy stays in L1 for every group and channel block), in
      // phases, so that a block's taps are valid together (ConvTaps.h).
      forPhaseBlocks(tb, d.W, geo.sw, kPixels, [&](int64_t ph, Value* q0, int64_t np) {
        tb.loop(tb.i64(0), tb.i64(gd.G), [&](Value* grp) {
          forBlocks(tb, 0, gd.Cg, channels_, [&](Value* c0, int64_t nc) { block(r, ph, q0, np, grp, c0, nc); }, "cb");
        }, "g");
      });
    }, "row");
    const Shape& xs = kc.root().type.shape;
    Extent rows{(xs[0] == kBatch ? 1 : xs[0]) * d.H, xs.isBatched()};
    tb.finish(rows, Extent{d.W * d.KH * d.KW * gd.Cg * d.F * 2 / std::max<int64_t>(geo.sh * geo.sw, 1) + d.W * d.C, false});
  }

 private:
  static constexpr int64_t kPixels = 4;

  void block(Value* r, int64_t ph, Value* q0, int64_t np, Value* grp, Value* c0, int64_t nc) {
    Value* ih = b.CreateURem(r, tb.i64(d.H));
    Value* dyImageRow = sMul(b, b.CreateUDiv(r, tb.i64(d.H)), d.OH);
    Value* fG = sMul(b, grp, gd.Fg);
    RegisterBlock acc(v, np, nc);
    forPhaseBlockTaps(tb, d, ih, dyImageRow, ph, q0, np, [&](bool inner, const PhaseTap& t, Value* dyRow, Value* ky, Value* kx) {
      tap(acc, inner, t, dyRow, fG, ky, kx, c0);
    });
    Value* dxRow = sMul(b, r, d.W * d.C);
    acc.storeSums(kc.kernel.root, [&](int64_t p) {
      Value* iw = sAdd(b, sMul(b, sAdd(b, q0, p), geo.sw), ph);
      return sAdd(b, sAdd(b, sAdd(b, dxRow, sMul(b, iw, d.C)), sMul(b, grp, gd.Cg)), c0);
    });
  }

  void tap(RegisterBlock& acc, bool inner, const PhaseTap& t, Value* dyRow, Value* fG, Value* ky, Value* kx, Value* c0) {
    std::vector<Value*> dyAt;
    for (int64_t p = 0; p < acc.rows(); ++p) {
      const size_t pi = static_cast<size_t>(p);
      dyAt.push_back(sAdd(b, sMul(b, sAdd(b, dyRow, inner ? t.unclamped[pi] : t.column[pi]), d.F), fG));
    }
    Value* wRow = sAdd(b, sMul(b, sAdd(b, sMul(b, sAdd(b, sMul(b, ky, d.KW), kx), gd.Cg), c0), d.F), fG);
    forBlocks(tb, 0, gd.Fg, L, [&](Value* f, int64_t fw) {
      std::vector<Value*> wv;
      for (int64_t q = 0; q < acc.cols(); ++q) wv.push_back(v.load(kc.root().inputs[1], sAdd(b, sAdd(b, wRow, q * d.F), f), fw));
      acc.outer(wv, [&](int64_t p) {
        Value* dyv = v.load(kc.root().inputs[0], sAdd(b, dyAt[static_cast<size_t>(p)], f), fw);
        return inner ? dyv : keepInside(tb, dyv, t.inside[static_cast<size_t>(p)]);
      });
    }, "f");
  }

  int64_t channels_ = 1;
};

// ---- filter gradient ---------------------------------------------------------------------

// dw[ky, kx, c, g*Fg + f] = sum over (n, oh, ow) of
// x[n, oh*sh - pt + ky*dh, ow*sw - pl + kx*dw, g*Cg + c] * dy[n, oh, ow, g*Fg + f].
// Parallel range: units (ky, kx, group, block of `channels` channels), never the summed
// (n, oh, ow): each unit's block (channels x vectors of f) sums the valid pixels of a tile of
// output rows in registers (their ranges computed per unit, untested), then is stored.
struct GroupedGradFilterUnit {
  Value *cb, *grp, *kk, *kyOff, *kxOff, *c0, *xC, *dwRow;
  Value *img, *ohLo, *ohHi, *owLo, *owHi;
};

class GroupedConvGradFilter : GroupedConvEmitter {
 public:
  GroupedConvGradFilter(KernelContext& kc, const GroupedConvDims& gd, Extent N) : GroupedConvEmitter(kc, gd), N_(N) {
    const VectorUnit vu = convVectorUnit();
    vectors_ = std::min<int64_t>((gd.Fg + L - 1) / L, 2);
    channels_ = pickBlock(gd.Cg, (vu.registers - vectors_ - 1) / vectors_);
    cBlocks_ = (gd.Cg + channels_ - 1) / channels_;
  }

  void emit() {
    // Tiles of output rows whose dy (about 16 KiB) stays in L1 (as EmitConvBackward.cpp's).
    int64_t tileRows = std::clamp<int64_t>(16384 / std::max<int64_t>(1, d.OW * d.F * 4), 1, d.OH);
    forFilterGradientTiles(tb, N_, d.OH, tileRows, [&](Value* u) { zero(u); }, [&](Value* img, Value* tileLo, Value* u) {
      GroupedGradFilterUnit un = unitOf(u);
      un.img = img;
      un.ohLo = tb.smax(firstValidOutput(tb, un.kyOff, geo.pt, geo.sh), tileLo);
      un.ohHi = tb.smin(endValidOutput(tb, un.kyOff, geo.pt, geo.sh, d.H, d.OH), sAdd(b, tileLo, tileRows));
      un.owLo = firstValidOutput(tb, un.kxOff, geo.pl, geo.sw);
      un.owHi = endValidOutput(tb, un.kxOff, geo.pl, geo.sw, d.W, d.OW);
      withTailWidth(tb, b.CreateICmpEQ(un.cb, tb.i64(cBlocks_ - 1)), channels_, gd.Cg % channels_, [&](int64_t nc) {
        forBlocks(tb, 0, gd.Fg, vectors_ * L, [&](Value* fIn, int64_t fWidth) { block(un, nc, fIn, fWidth); }, "fb");
      });
    });
    tb.finish(Extent{d.KH * d.KW * gd.G * cBlocks_, false}, Extent{N_.k * d.OH * d.OW * channels_ * gd.Fg * 2, N_.batched});
  }

 private:
  // A unit u = ((ky * KW + kx) * G + group) * cBlocks + block.
  GroupedGradFilterUnit unitOf(Value* u) {
    GroupedGradFilterUnit un{};
    un.cb = b.CreateURem(u, tb.i64(cBlocks_));
    Value* rest = b.CreateUDiv(u, tb.i64(cBlocks_));
    un.grp = b.CreateURem(rest, tb.i64(gd.G));
    un.kk = b.CreateUDiv(rest, tb.i64(gd.G));
    un.kyOff = sMul(b, b.CreateUDiv(un.kk, tb.i64(d.KW)), geo.dh);
    un.kxOff = sMul(b, b.CreateURem(un.kk, tb.i64(d.KW)), geo.dw);
    un.c0 = sMul(b, un.cb, channels_);
    un.xC = sAdd(b, sMul(b, un.grp, gd.Cg), un.c0);
    un.dwRow = sAdd(b, sMul(b, un.kk, gd.Cg), un.c0);  // dw row of (ky, kx, c0)
    return un;
  }

  // Zero the unit's block of dw: the sums start from +0.
  void zero(Value* u) {
    GroupedGradFilterUnit un = unitOf(u);
    Value* rows = b.CreateNSWSub(tb.smin(sAdd(b, un.c0, channels_), tb.i64(gd.Cg)), un.c0);
    tb.loop(tb.i64(0), rows, [&](Value* q) {
      Value* at = sAdd(b, sMul(b, sAdd(b, un.dwRow, q), d.F), sMul(b, un.grp, gd.Fg));
      tb.loop(tb.i64(0), tb.i64(gd.Fg), [&](Value* f) { tb.store(kc.kernel.root, sAdd(b, at, f), tb.f32(0.0)); }, "zf");
    }, "zq");
  }

  void block(const GroupedGradFilterUnit& un, int64_t nc, Value* fIn, int64_t fWidth) {
    const NodeId X = kc.root().inputs[0], DY = kc.root().inputs[1], DW = kc.kernel.root;
    Value* f0 = sAdd(b, sMul(b, un.grp, gd.Fg), fIn);
    Value* dwAt = sAdd(b, sMul(b, un.dwRow, d.F), f0);
    auto dwRowAt = [&](int64_t q) { return sAdd(b, dwAt, q * d.F); };
    RegisterBlock acc(v, nc, (fWidth + L - 1) / L, fWidth);
    acc.load(DW, dwRowAt);
    tb.loop(un.ohLo, un.ohHi, [&](Value* oh) {
      Value* ih = sAdd(b, sAdd(b, sMul(b, oh, geo.sh), un.kyOff), -geo.pt);
      Value* xRow = sMul(b, sAdd(b, sMul(b, un.img, d.H), ih), d.W);
      Value* dyRow = sMul(b, sAdd(b, sMul(b, un.img, d.OH), oh), d.OW);
      tb.loop(un.owLo, un.owHi, [&](Value* ow) {
        Value* iw = sAdd(b, sAdd(b, sMul(b, ow, geo.sw), un.kxOff), -geo.pl);
        Value* xAt = sAdd(b, sMul(b, sAdd(b, xRow, iw), d.C), un.xC);
        Value* dyAt = sAdd(b, sMul(b, sAdd(b, dyRow, ow), d.F), f0);
        std::vector<Value*> dyv;
        for (int64_t j = 0; j < acc.cols(); ++j) dyv.push_back(v.load(DY, sAdd(b, dyAt, j * L), acc.active(j)));
        acc.outer(dyv, [&](int64_t q) { return v.splat(tb.load(X, sAdd(b, xAt, q))); });
      }, "ow");
    }, "oh");
    acc.store(DW, dwRowAt);
  }

  Extent N_;
  int64_t vectors_ = 1, channels_ = 1, cBlocks_ = 1;
};

}  // namespace

Result<void> emitGroupedConv2D(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  GroupedConvForward(kc, groupedConvDims(n, g.type(n.inputs[0]).shape, g.type(n.inputs[1]).shape, n.type.shape)).emit();
  return {};
}

Result<void> emitGroupedConv2DGradInput(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  GroupedConvGradInput(kc, groupedConvDims(n, n.type.shape, g.type(n.inputs[1]).shape, g.type(n.inputs[0]).shape)).emit();
  return {};
}

Result<void> emitGroupedConv2DGradFilter(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  const Shape& xs = g.type(n.inputs[0]).shape;
  GroupedConvGradFilter(kc, groupedConvDims(n, xs, n.type.shape, g.type(n.inputs[1]).shape), dimExtent(xs[0])).emit();
  return {};
}

}  // namespace nnc::codegen
