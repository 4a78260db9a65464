// The input gradient of a convolution (groups G >= 1, any stride and dilation) as a direct
// convolution over dy with the filter transposed, in the layout of the forward's blocks:
//   dx[n, ih, iw, g*Cg + c] = sum over (ky, kx, f < Fg) of dy[n, oh, ow, g*Fg + f] * w[ky, kx, c, g*Fg + f]
//   where oh*sh = ih + pt - ky*dh and ow*sw = iw + pl - kx*dw (exactly, in range).
// The filter's [kh, kw, Cg, F] has the channels c strided by F, so each task first copies it
// to wT on its stack (per tap and group an Fg x Cg slice, by channel block: transpose(); at
// most kMaxTransposedFloats, once per task: the runtime runs at most one task per thread).
// Then a register block is `pixels` input columns x `vectors` vectors of channels, filled
// by broadcasting one dy value per pixel against the wT vectors, as the forward's; no sums
// across lanes at the end (the dot-product blocking of EmitConvBackward.cpp spends a
// reduction per element and loads as much as it multiplies). Columns go in phases (ConvTaps.h), so a block's taps are valid together and
// interior blocks run untested; each phase is cut into blocks of even widths
// (forEvenPhaseBlocks: a 4-pixel tail block ran 20% slower a pixel than the 6-pixel ones at
// conv_bench's grouped 3 x 3). Every element is one FMA chain over (ky, kx, f) in order,
// whatever the thread split.
#include <algorithm>

#include "compiler/codegen/kernels/conv/ConvRegisterBlock.h"
#include "compiler/codegen/kernels/conv/ConvTaps.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

constexpr int64_t kMaxTransposedFloats = 65536;  // 256 KiB of stack per task

class TransposedWeightsGradInput : GroupedConvEmitter {
 public:
  TransposedWeightsGradInput(KernelContext& kc, const GroupedConvDims& gd) : GroupedConvEmitter(kc, gd) {
    vectors_ = std::min<int64_t>((gd.Cg + L - 1) / L, 2);
    pixels_ = std::clamp<int64_t>((convVectorUnit().registers - vectors_ - 1) / vectors_, 1, 8);
  }

  void emit() {
    wT_ = tb.local(llvm::ArrayType::get(b.getFloatTy(), static_cast<uint64_t>(d.KH * d.KW * d.F * gd.Cg)), "wT");
    transpose();
    tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = n * H + ih
      // Pixel blocks outside: their dy stays in L1 while every group and channel block reads it.
      forEvenPhaseBlocks(tb, d.W, geo.sw, pixels_, [&](int64_t ph, Value* q0, int64_t np) {
        tb.loop(tb.i64(0), tb.i64(gd.G), [&](Value* grp) {
          forBlocks(tb, 0, gd.Cg, vectors_ * L, [&](Value* c0, int64_t cWidth) {
            block(r, ph, q0, np, grp, c0, cWidth);
          }, "cb");
        }, "g");
      });
    }, "row");
    const Shape& xs = kc.root().type.shape;
    Extent rows{(xs[0] == kBatch ? 1 : xs[0]) * d.H, xs.isBatched()};
    tb.finish(rows, Extent{d.W * d.KH * d.KW * gd.Cg * d.F * 2 / std::max<int64_t>(geo.sh * geo.sw, 1) + d.W * d.C, false});
  }

 private:
  Value* wTAt(Value* index) { return b.CreateInBoundsGEP(b.getFloatTy(), wT_, index); }

  // The filter of tap (ky, kx) and group g is a Fg x Cg slice of wT at ((ky * KW + kx) * G + g)
  // * Fg * Cg, stored by channel block: block [c0, c0 + width) (width = the block's channels,
  // vectors_ * L or the last block's rest) at c0 * Fg, a row of `width` channels per filter f:
  //   wT[slice + c0 * Fg + f * width + (c - c0)] = w[ky, kx, c, g * Fg + f].
  // So a register block streams one contiguous run of whole cache lines, f after f (rows of
  // all Cg channels made it use half of each line it brought into L1, at 16 of 32 channels).
  // Written in the order w is read.
  void transpose() {
    const NodeId Wt = kc.root().inputs[1];
    const int64_t blockWidth = vectors_ * L;
    tb.loop(tb.i64(0), tb.i64(d.KH * d.KW * gd.Cg), [&](Value* tc) {  // tc = tap * Cg + c
      Value* tap = b.CreateUDiv(tc, tb.i64(gd.Cg));
      Value* c = b.CreateURem(tc, tb.i64(gd.Cg));
      Value* c0 = b.CreateNSWSub(c, b.CreateURem(c, tb.i64(blockWidth)));
      Value* width = tb.smin(tb.i64(blockWidth), b.CreateNSWSub(tb.i64(gd.Cg), c0));
      Value* inBlock = sAdd(b, sMul(b, c0, gd.Fg), b.CreateNSWSub(c, c0));
      tb.loop(tb.i64(0), tb.i64(gd.G), [&](Value* grp) {
        Value* to = sAdd(b, sMul(b, sAdd(b, sMul(b, tap, gd.G), grp), gd.Fg * gd.Cg), inBlock);
        Value* from = sAdd(b, sMul(b, tc, d.F), sMul(b, grp, gd.Fg));
        tb.loop(tb.i64(0), tb.i64(gd.Fg), [&](Value* f) {
          b.CreateStore(tb.load(Wt, sAdd(b, from, f)), wTAt(sAdd(b, to, b.CreateNSWMul(f, width))));
        }, "tf");
      }, "tg");
    }, "tc");
  }

  void block(Value* r, int64_t ph, Value* q0, int64_t np, Value* grp, Value* c0, int64_t cWidth) {
    Value* ih = b.CreateURem(r, tb.i64(d.H));
    Value* dyImageRow = sMul(b, b.CreateUDiv(r, tb.i64(d.H)), d.OH);
    RegisterBlock acc(v, np, (cWidth + L - 1) / L, cWidth);
    forPhaseBlockTaps(tb, d, ih, dyImageRow, ph, q0, np, [&](bool inner, const PhaseTap& t, Value* dyRow, Value* ky, Value* kx) {
      tap(acc, inner, t, dyRow, grp, ky, kx, c0);
    });
    Value* dxRow = sMul(b, r, d.W * d.C);
    acc.store(kc.kernel.root, [&](int64_t p) {
      Value* iw = sAdd(b, sMul(b, sAdd(b, q0, p), geo.sw), ph);
      return sAdd(b, sAdd(b, sAdd(b, dxRow, sMul(b, iw, d.C)), sMul(b, grp, gd.Cg)), c0);
    });
  }

  // Tap (ky, kx): for each of the group's filters f, the wT vectors of the block's channels
  // against one dy value per pixel (zero on padding unless the block is interior).
  void tap(RegisterBlock& acc, bool inner, const PhaseTap& t, Value* dyRow, Value* grp, Value* ky, Value* kx, Value* c0) {
    const NodeId DY = kc.root().inputs[0];
    std::vector<Value*> dyAt;
    for (int64_t p = 0; p < acc.rows(); ++p) {
      const size_t pi = static_cast<size_t>(p);
      dyAt.push_back(sAdd(b, sMul(b, sAdd(b, dyRow, inner ? t.unclamped[pi] : t.column[pi]), d.F), sMul(b, grp, gd.Fg)));
    }
    // The block's run of wT for tap (ky, kx) and group g (transpose()): filter f's channels
    // at wRow + f * width.
    const int64_t width = acc.width();
    Value* slice = sMul(b, sAdd(b, sMul(b, sAdd(b, sMul(b, ky, d.KW), kx), gd.G), grp), gd.Fg * gd.Cg);
    Value* wRow = sAdd(b, slice, sMul(b, c0, gd.Fg));
    // Filters in pairs: the loop's index arithmetic, which the optimizer otherwise leaves as
    // several integer operations a filter, is spent once per two (f in order either way).
    forBlocks(tb, 0, gd.Fg, kFiltersPerTrip, [&](Value* fTrip, int64_t count) {
      for (int64_t k = 0; k < count; ++k) {
        Value* f = sAdd(b, fTrip, k);
        Value* wf = sAdd(b, wRow, sMul(b, f, width));
        std::vector<Value*> wv;
        for (int64_t j = 0; j < acc.cols(); ++j) wv.push_back(v.loadAt(wTAt(sAdd(b, wf, j * L)), acc.active(j)));
        acc.outer(wv, [&](int64_t p) {
          Value* dy = tb.load(DY, sAdd(b, dyAt[static_cast<size_t>(p)], f));
          return v.splat(inner ? dy : keepInside(tb, dy, t.inside[static_cast<size_t>(p)]));
        });
      }
    }, "f");
  }

  static constexpr int64_t kFiltersPerTrip = 2;

  llvm::AllocaInst* wT_ = nullptr;
  int64_t vectors_ = 1, pixels_ = 1;
};

}  // namespace

bool gradInputTransposesWeights(const GroupedConvDims& gd, int64_t lanes) {
  const ConvDims& d = gd.d;
  return gd.Cg >= lanes && d.KH * d.KW * gd.Cg * d.F <= kMaxTransposedFloats;
}

Result<void> emitConv2DGradInputTransposedWeights(KernelContext& kc, const GroupedConvDims& gd) {
  TransposedWeightsGradInput(kc, gd).emit();
  return {};
}

}  // namespace nnc::codegen
