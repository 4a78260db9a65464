// Depthwise 2-D convolutions (groups = input channels C, multiplier M = filters / C), forward
// and both gradients, vectorised over channels (not a grouped GEMM of one-channel groups):
//   y[n, oh, ow, c*M + m] = sum over (ky, kx) of x[n, oh*sh - pt + ky*dh, ow*sw - pl + kx*dw, c] * w[ky, kx, 0, c*M + m]
// A vector of L output channels f0 + [0, L) reads input channels (f0 + i) / M: with M = 1 a
// plain vector, with M dividing L a vector of L / M channels each repeated M times (one
// shuffle), with L dividing M one channel broadcast. Other multipliers, and the input
// gradient with M > 1 (a sum over m across lanes), take the generic grouped emitter.
// Taps on padding: ConvTaps.h. Every element is one FMA chain in a fixed order.
#include <algorithm>
#include <functional>

#include "compiler/codegen/kernels/conv/ConvRegisterBlock.h"
#include "compiler/codegen/kernels/conv/ConvTaps.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

bool depthwiseFits(const GroupedConvDims& gd, int64_t lanes) {
  int64_t m = gd.Fg;
  return gd.Cg == 1 && (lanes % m == 0 || m % lanes == 0);
}

// The input channels of the output-channel vector starting at f (a multiple of L) with
// `active` real lanes, at x index xPixel (the pixel's channel 0).
Value* depthwiseInput(TaskBuilder& tb, ConvVectors& v, NodeId X, Value* xPixel, Value* f, int64_t m, int64_t active) {
  auto& b = tb.b();
  const int64_t L = v.lanes();
  if (m == 1) return v.load(X, sAdd(b, xPixel, f), active);
  Value* c = b.CreateUDiv(f, tb.i64(m));
  if (m % L == 0) return v.splat(tb.load(X, sAdd(b, xPixel, c)));
  Value* raw = v.load(X, sAdd(b, xPixel, c), (active + m - 1) / m);
  std::vector<int> mask;
  for (int64_t i = 0; i < L; ++i) mask.push_back(static_cast<int>(i / m));
  return b.CreateShuffleVector(raw, mask);
}

// Parallel range: output rows (n, oh). Register block: `pixels` output pixels x `vectors`
// vectors of channels. With a narrow window, a block's taps of one filter row share their
// input columns: each column's vectors are loaded once and feed every (pixel, kx) that reads
// them, against the KW x vectors filter vectors held in registers (4 pixels x 2 vectors on
// AVX2: 18 loads for 24 FMAs per 3x3 filter row, where loading per tap took 12 for 8; one
// vector of 8 pixels measured slower, its pixels' channels a half cache line apart). Wider
// windows load per tap, with four vectors of channels (two pixels on AVX2). Either way each
// accumulator sums its taps in (ky, kx) order.
class DepthwiseConvForward : GroupedConvEmitter {
 public:
  DepthwiseConvForward(KernelContext& kc, const GroupedConvDims& gd) : GroupedConvEmitter(kc, gd), out_(convOutput(kc)) {
    const int64_t registers = convVectorUnit().registers, fVectors = (d.F + L - 1) / L;
    vectors_ = std::min<int64_t>(fVectors, 2);
    pixels_ = std::min<int64_t>((registers - d.KW * vectors_ - 1) / vectors_, 8);
    sharedColumns_ = pixels_ >= 4;
    if (!sharedColumns_) {
      vectors_ = std::min<int64_t>(fVectors, 4);
      pixels_ = std::clamp<int64_t>((registers - vectors_ - 1) / vectors_, 1, 8);
    }
  }

  void emit() {
    tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = n * OH + oh
      // Pixel blocks outside, channel blocks inside: the block's input pixels (all channels)
      // stay in L1 while every channel block reads them.
      forBlocks(tb, 0, d.OW, pixels_, [&](Value* ow0, int64_t np) {
        forBlocks(tb, 0, d.F, vectors_ * L, [&](Value* f0, int64_t fWidth) { block(r, ow0, np, f0, fWidth); }, "fb");
      }, "owb");
    }, "row");
    const Shape& ys = out_.shape;
    Extent rows{(ys[0] == kBatch ? 1 : ys[0]) * d.OH, ys.isBatched()};
    tb.finish(rows, Extent{d.OW * d.KH * d.KW * d.F * 2, false});
  }

 private:
  void block(Value* r, Value* ow0, int64_t np, Value* f0, int64_t fWidth) {
    Value* ihBase = sAdd(b, sMul(b, b.CreateURem(r, tb.i64(d.OH)), geo.sh), -geo.pt);
    Value* xImageRow = sMul(b, b.CreateUDiv(r, tb.i64(d.OH)), d.H);
    RegisterBlock acc(v, np, (fWidth + L - 1) / L, fWidth);
    splitInterior(tb, blockInterior(tb, geo, d.W, ow0, np), [&](bool interior) {
      tb.loop(tb.i64(0), tb.i64(d.KH), [&](Value* ky) {
        Value* ih = sAdd(b, ihBase, sMul(b, ky, geo.dh));
        Value* rowInside = b.CreateAnd(b.CreateICmpSGE(ih, tb.i64(0)), b.CreateICmpSLT(ih, tb.i64(d.H)));
        tb.ifThen(rowInside, [&] {
          Value* xRow = sMul(b, sAdd(b, xImageRow, ih), d.W);
          if (sharedColumns_) return filterRow(acc, interior, ow0, xRow, ky, f0);
          tb.loop(tb.i64(0), tb.i64(d.KW), [&](Value* kx) { tap(acc, interior, ow0, xRow, ky, kx, f0); }, "kx");
        });
      }, "ky");
    });
    storeOutputBlock(kc, tb, acc, out_, r, ow0, d.OW, d.F, f0);
  }

  // Filter row ky of the block: input column e (from the block's first) feeds pixel p at tap
  // kx when p * sw + kx * dw = e; columns outside the input read as zero unless interior.
  void filterRow(RegisterBlock& acc, bool interior, Value* ow0, Value* xRow, Value* ky, Value* f0) {
    std::vector<std::vector<Value*>> wv(static_cast<size_t>(d.KW));
    for (int64_t kx = 0; kx < d.KW; ++kx) {
      Value* wAt = sAdd(b, sMul(b, sAdd(b, sMul(b, ky, d.KW), kx), d.F), f0);
      for (int64_t j = 0; j < acc.cols(); ++j)
        wv[static_cast<size_t>(kx)].push_back(v.load(kc.root().inputs[1], sAdd(b, wAt, j * L), acc.active(j)));
    }
    Value* first = sAdd(b, sMul(b, ow0, geo.sw), -geo.pl);
    for (int64_t e = 0; e <= (acc.rows() - 1) * geo.sw + (d.KW - 1) * geo.dw; ++e) {
      std::vector<std::pair<int64_t, int64_t>> users;  // (pixel, kx)
      for (int64_t kx = 0; kx < d.KW; ++kx)
        if (e >= kx * geo.dw && (e - kx * geo.dw) % geo.sw == 0 && (e - kx * geo.dw) / geo.sw < acc.rows())
          users.push_back({(e - kx * geo.dw) / geo.sw, kx});
      if (users.empty()) continue;
      Value* col = sAdd(b, first, e);
      Value* inside = b.CreateAnd(b.CreateICmpSGE(col, tb.i64(0)), b.CreateICmpSLT(col, tb.i64(d.W)));
      if (!interior) col = tb.smin(tb.smax(col, tb.i64(0)), tb.i64(d.W - 1));
      Value* xPixel = sMul(b, sAdd(b, xRow, col), d.C);
      for (int64_t j = 0; j < acc.cols(); ++j) {
        Value* xv = depthwiseInput(tb, v, kc.root().inputs[0], xPixel, sAdd(b, f0, j * L), gd.Fg, acc.active(j));
        if (!interior) xv = keepInside(tb, xv, inside);
        for (auto [p, kx] : users) acc.fma(p, j, xv, wv[static_cast<size_t>(kx)][static_cast<size_t>(j)]);
      }
    }
  }

  void tap(RegisterBlock& acc, bool interior, Value* ow0, Value* xRow, Value* ky, Value* kx, Value* f0) {
    Value* wAt = sAdd(b, sMul(b, sAdd(b, sMul(b, ky, d.KW), kx), d.F), f0);
    std::vector<Value*> wv;
    for (int64_t j = 0; j < acc.cols(); ++j) wv.push_back(v.load(kc.root().inputs[1], sAdd(b, wAt, j * L), acc.active(j)));
    for (int64_t p = 0; p < acc.rows(); ++p) {
      TapColumn t = tapColumn(tb, geo, d.W, sAdd(b, ow0, p), kx);
      Value* xPixel = sMul(b, sAdd(b, xRow, interior ? t.column : t.clamped), d.C);
      for (int64_t j = 0; j < acc.cols(); ++j) {
        Value* xv = depthwiseInput(tb, v, kc.root().inputs[0], xPixel, sAdd(b, f0, j * L), gd.Fg, acc.active(j));
        acc.fma(p, j, interior ? xv : keepInside(tb, xv, t.inside), wv[static_cast<size_t>(j)]);
      }
    }
  }

  ConvOutput out_;
  int64_t vectors_ = 1, pixels_ = 1;
  bool sharedColumns_ = false;
};

// Input gradient with M = 1: dx[n, ih, iw, c] = sum over (ky, kx) of dy[n, oh, ow, c] * w[ky, kx, 0, c]
// where oh*sh = ih + pt - ky*dh and ow*sw = iw + pl - kx*dw. Vectors over c, blocks of
// `pixels` input columns of one phase of the stride; parallel range: input rows (n, ih).
// In a phase, the taps kx that reach a dy column are fixed (PhaseTap::uniform), and pixel p
// of the block reads dy column q0 + base(kx) + p: as in the forward, consecutive pixels
// share columns across taps. So when the phase's filter vectors of a row fit the registers
// beside the block (4 pixels x 2 vectors on AVX2 with a 3-wide window at stride 1), each dy
// column of the row is loaded once for every (pixel, kx) that reads it (18 loads for 24
// FMAs where loading per tap took 36). Wider windows load per tap (forPhaseBlockTaps). Both
// give each accumulator its taps in (ky, kx) order: the same sums, bit for bit.
class DepthwiseConvGradInput : GroupedConvEmitter {
 public:
  DepthwiseConvGradInput(KernelContext& kc, const GroupedConvDims& gd) : GroupedConvEmitter(kc, gd) {
    const int64_t registers = convVectorUnit().registers, cVectors = (d.C + L - 1) / L;
    int64_t phaseTaps = 0;
    for (int64_t ph = 0; ph < std::min(geo.sw, d.W); ++ph)
      phaseTaps = std::max<int64_t>(phaseTaps, static_cast<int64_t>(sharedTaps(ph).size()));
    vectors_ = std::min<int64_t>(cVectors, 2);
    pixels_ = std::min<int64_t>((registers - phaseTaps * vectors_ - 1) / vectors_, 8);
    sharedColumns_ = pixels_ >= 4;
    if (!sharedColumns_) {
      vectors_ = std::min<int64_t>(cVectors, 4);  // as the forward's blocks
      pixels_ = std::clamp<int64_t>((registers - vectors_ - 1) / vectors_, 1, 8);
    }
  }

  void emit() {
    tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = n * H + ih
      // Pixels outside, as the forward; in phases, so that a block's taps are valid together.
      forPhaseBlocks(tb, d.W, geo.sw, pixels_, [&](int64_t ph, Value* q0, int64_t np) {
        forBlocks(tb, 0, d.C, vectors_ * L, [&](Value* c0, int64_t cWidth) { block(r, ph, q0, np, c0, cWidth); }, "cb");
      });
    }, "row");
    const Shape& xs = kc.root().type.shape;
    Extent rows{(xs[0] == kBatch ? 1 : xs[0]) * d.H, xs.isBatched()};
    tb.finish(rows, Extent{d.W * d.KH * d.KW * d.C * 2, false});
  }

 private:
  void block(Value* r, int64_t ph, Value* q0, int64_t np, Value* c0, int64_t cWidth) {
    Value* ih = b.CreateURem(r, tb.i64(d.H));
    Value* dyImageRow = sMul(b, b.CreateUDiv(r, tb.i64(d.H)), d.OH);
    RegisterBlock acc(v, np, (cWidth + L - 1) / L, cWidth);
    if (sharedColumns_)
      sharedColumnTaps(acc, ih, dyImageRow, ph, q0, c0);
    else
      forPhaseBlockTaps(tb, d, ih, dyImageRow, ph, q0, np, [&](bool inner, const PhaseTap& t, Value* dyRow, Value* ky, Value* kx) {
        tap(acc, inner, t, dyRow, ky, kx, c0);
      });
    Value* dxRow = sMul(b, r, d.W * d.C);
    acc.store(kc.kernel.root, [&](int64_t p) {
      Value* iw = sAdd(b, sMul(b, sAdd(b, q0, p), geo.sw), ph);
      return sAdd(b, sAdd(b, dxRow, sMul(b, iw, d.C)), c0);
    });
  }

  // The taps kx of phase ph that reach dy columns, with base(kx): pixel p reads column
  // q0 + base + p (compile time: the division is exact).
  std::vector<std::pair<int64_t, int64_t>> sharedTaps(int64_t ph) const {
    std::vector<std::pair<int64_t, int64_t>> taps;
    for (int64_t kx = 0; kx < d.KW; ++kx) {
      int64_t t0 = ph + geo.pl - kx * geo.dw;
      if (t0 % geo.sw == 0) taps.push_back({kx, t0 / geo.sw});
    }
    return taps;
  }

  // The block's taps with each dy column of a filter row loaded once: columns from the
  // highest down, so every pixel takes its taps kx in increasing order (base falls as kx
  // grows). Columns outside dy read as zero unless the block is interior.
  void sharedColumnTaps(RegisterBlock& acc, Value* ih, Value* dyImageRow, int64_t ph, Value* q0, Value* c0) {
    const std::vector<std::pair<int64_t, int64_t>> taps = sharedTaps(ph);
    if (taps.empty()) return;
    const int64_t np = acc.rows();
    int64_t lo = taps.front().second, hi = taps.front().second;
    for (const auto& t : taps) lo = std::min(lo, t.second), hi = std::max(hi, t.second);
    hi += np - 1;
    Value* interior = phaseBlockInterior(tb, ph, geo.pl, geo.sw, geo.dw, d.KW, d.OW, q0, np);
    splitInterior(tb, interior, [&](bool inner) {
      tb.loop(tb.i64(0), tb.i64(d.KH), [&](Value* ky) {
        auto [oh, rowOk] = gradientOutput(tb, b.CreateNSWSub(sAdd(b, ih, geo.pt), sMul(b, ky, geo.dh)), geo.sh, d.OH);
        tb.ifThen(rowOk, [&] {
          Value* dyRow = sMul(b, sAdd(b, dyImageRow, oh), d.OW);
          std::vector<std::vector<Value*>> wv(taps.size());
          for (size_t i = 0; i < taps.size(); ++i) {
            Value* wAt = sAdd(b, sMul(b, sAdd(b, sMul(b, ky, d.KW), taps[i].first), d.F), c0);
            for (int64_t j = 0; j < acc.cols(); ++j) wv[i].push_back(v.load(kc.root().inputs[1], sAdd(b, wAt, j * L), acc.active(j)));
          }
          for (int64_t e = hi; e >= lo; --e) {
            std::vector<std::pair<int64_t, size_t>> users;  // (pixel, tap)
            for (size_t i = 0; i < taps.size(); ++i)
              if (e - taps[i].second >= 0 && e - taps[i].second < np) users.push_back({e - taps[i].second, i});
            if (users.empty()) continue;
            Value* col = sAdd(b, q0, e);
            Value* inside = nullptr;
            if (!inner) {
              inside = b.CreateAnd(b.CreateICmpSGE(col, tb.i64(0)), b.CreateICmpSLT(col, tb.i64(d.OW)));
              col = tb.smin(tb.smax(col, tb.i64(0)), tb.i64(d.OW - 1));
            }
            Value* dyAt = sAdd(b, sMul(b, sAdd(b, dyRow, col), d.F), c0);
            for (int64_t j = 0; j < acc.cols(); ++j) {
              Value* dyv = v.load(kc.root().inputs[0], sAdd(b, dyAt, j * L), acc.active(j));
              if (!inner) dyv = keepInside(tb, dyv, inside);
              for (auto [p, i] : users) acc.fma(p, j, dyv, wv[i][static_cast<size_t>(j)]);
            }
          }
        });
      }, "ky");
    });
  }

  void tap(RegisterBlock& acc, bool inner, const PhaseTap& t, Value* dyRow, Value* ky, Value* kx, Value* c0) {
    Value* wAt = sAdd(b, sMul(b, sAdd(b, sMul(b, ky, d.KW), kx), d.F), c0);
    std::vector<Value*> wv;
    for (int64_t j = 0; j < acc.cols(); ++j) wv.push_back(v.load(kc.root().inputs[1], sAdd(b, wAt, j * L), acc.active(j)));
    for (int64_t p = 0; p < acc.rows(); ++p) {
      const size_t pi = static_cast<size_t>(p);
      Value* dyAt = sAdd(b, sMul(b, sAdd(b, dyRow, inner ? t.unclamped[pi] : t.column[pi]), d.F), c0);
      for (int64_t j = 0; j < acc.cols(); ++j) {
        Value* dyv = v.load(kc.root().inputs[0], sAdd(b, dyAt, j * L), acc.active(j));
        acc.fma(p, j, inner ? dyv : keepInside(tb, dyv, t.inside[pi]), wv[static_cast<size_t>(j)]);
      }
    }
  }

  int64_t vectors_ = 1, pixels_ = 1;
  bool sharedColumns_ = false;
};

// Filter gradient: dw[ky, kx, 0, f] = sum over (n, oh, ow) of x[n, ih, iw, f / M] * dy[n, oh, ow, f].
// Parallel range: units (vector of filters, block of taps); each unit keeps one accumulator
// per tap of its block in registers, taps on padding zeroed (ConvTaps.h). The units of a task
// share the cache lines of every pixel (a unit reads one vector of its channels), so they take
// turns over strips of an output row small enough to stay in L1 (forFilterGradientStrips);
// without strips each unit would fetch every line from L2 again. Pixels go in pairs, whose
// taps share input columns (stride 1: 4 columns per filter row for the pair's 6 taps).
class DepthwiseConvGradFilter : GroupedConvEmitter {
 public:
  DepthwiseConvGradFilter(KernelContext& kc, const GroupedConvDims& gd, Extent N) : GroupedConvEmitter(kc, gd), N_(N) {
    taps_ = d.KH * d.KW;
    tapBlock_ = std::clamp<int64_t>(convVectorUnit().registers - 3, 1, taps_);
    tapBlocks_ = (taps_ + tapBlock_ - 1) / tapBlock_;
    fBlocks_ = (d.F + L - 1) / L;
  }

  void emit() {
    // The widest strip whose x (KH input rows of its columns) and dy fit 24 KiB of L1.
    const int64_t span = (d.KW - 1) * geo.dw + 1, budget = 24576;
    auto stripBytes = [&](int64_t cols) { return (d.KH * ((cols - 1) * geo.sw + span) * d.C + cols * d.F) * 4; };
    int64_t stripCols = 2;
    while (stripCols < d.OW && stripBytes(stripCols + 1) <= budget) ++stripCols;
    auto zero = [&](Value* u) {
      forUnit(u, [&](Value* f0, int64_t act, int64_t t0) {
        for (int64_t t = t0; t < std::min(t0 + tapBlock_, taps_); ++t)
          v.store(kc.kernel.root, sAdd(b, f0, t * d.F), v.zero(), act);
      });
    };
    forFilterGradientStrips(tb, N_, d.OH, d.OW, stripCols, zero, [&](Value* img, Value* oh, Value* owLo, Value* owHi, Value* u) {
      forUnit(u, [&](Value* f0, int64_t act, int64_t t0) { unitStrip(img, oh, owLo, owHi, f0, act, t0); });
    });
    tb.finish(Extent{fBlocks_ * tapBlocks_, false},
              Extent{N_.k * d.OH * d.OW * L * std::min(tapBlock_, taps_) * 2, N_.batched});
  }

 private:
  // Calls body(f0, active lanes, first tap) for unit u = tap block * fBlocks + filter vector.
  void forUnit(Value* u, const std::function<void(Value*, int64_t, int64_t)>& body) {
    Value* fb = b.CreateURem(u, tb.i64(fBlocks_));
    Value* tblk = b.CreateUDiv(u, tb.i64(fBlocks_));
    Value* f0 = sMul(b, fb, L);
    for (int64_t tbk = 0; tbk < tapBlocks_; ++tbk)
      tb.ifThen(b.CreateICmpEQ(tblk, tb.i64(tbk)), [&] {
        withTailWidth(tb, b.CreateICmpEQ(fb, tb.i64(fBlocks_ - 1)), L, d.F % L,
                      [&](int64_t act) { body(f0, act, tbk * tapBlock_); });
      });
  }

  // The unit's taps over the output pixels [owLo, owHi) of row oh, in pairs.
  void unitStrip(Value* img, Value* oh, Value* owLo, Value* owHi, Value* f0, int64_t act, int64_t t0) {
    const NodeId DW = kc.kernel.root;
    int64_t nt = std::min(tapBlock_, taps_ - t0);
    RegisterBlock acc(v, nt, 1, act);
    auto dwAt = [&](int64_t t) { return sAdd(b, f0, (t0 + t) * d.F); };
    acc.load(DW, dwAt);
    Value* ihBase = sAdd(b, sMul(b, oh, geo.sh), -geo.pt);
    Value* rowsInside = b.CreateAnd(b.CreateICmpSGE(ihBase, tb.i64(0)),
                                    b.CreateICmpSLT(sAdd(b, ihBase, (d.KH - 1) * geo.dh), tb.i64(d.H)));
    Value* dyRow = sMul(b, sAdd(b, sMul(b, img, d.OH), oh), d.OW);
    auto run = [&](Value* ow0, int64_t np) {
      std::vector<Value*> dyv;
      for (int64_t p = 0; p < np; ++p)
        dyv.push_back(v.load(kc.root().inputs[1], sAdd(b, sMul(b, sAdd(b, dyRow, sAdd(b, ow0, p)), d.F), f0), act));
      Value* interior = b.CreateAnd(rowsInside, blockInterior(tb, geo, d.W, ow0, np));
      splitInterior(tb, interior, [&](bool inner) { pixels(acc, inner, img, ihBase, ow0, dyv, f0, t0); });
    };
    Value* count = b.CreateNSWSub(owHi, owLo);
    Value* pairs = b.CreateUDiv(count, tb.i64(2));
    tb.loop(tb.i64(0), pairs, [&](Value* i) { run(sAdd(b, owLo, sMul(b, i, 2)), 2); }, "ow2");
    tb.ifThen(b.CreateICmpNE(b.CreateURem(count, tb.i64(2)), tb.i64(0)), [&] { run(b.CreateNSWSub(owHi, tb.i64(1)), 1); });
    acc.store(DW, dwAt);
  }

  // The FMAs of the output pixels ow0 + p (dy vectors dyv[p]) into the taps [t0, t0 + rows)
  // of the block. Each input column of a filter row is loaded once for every (pixel, tap)
  // that reads it; columns go left to right, so each tap takes its pixels in order.
  void pixels(RegisterBlock& acc, bool inner, Value* img, Value* ihBase, Value* ow0, const std::vector<Value*>& dyv,
              Value* f0, int64_t t0) {
    const int64_t np = static_cast<int64_t>(dyv.size());
    Value* xImageRow = sMul(b, img, d.H);
    Value* first = sAdd(b, sMul(b, ow0, geo.sw), -geo.pl);  // pixel 0's column at kx = 0
    for (int64_t ky = t0 / d.KW; ky <= (t0 + acc.rows() - 1) / d.KW; ++ky) {
      Value* ih = sAdd(b, ihBase, ky * geo.dh);
      Value* rowInside = nullptr;
      if (!inner) {
        rowInside = b.CreateAnd(b.CreateICmpSGE(ih, tb.i64(0)), b.CreateICmpSLT(ih, tb.i64(d.H)));
        ih = tb.smin(tb.smax(ih, tb.i64(0)), tb.i64(d.H - 1));
      }
      Value* xRow = sMul(b, sAdd(b, xImageRow, ih), d.W);
      for (int64_t e = 0; e <= (np - 1) * geo.sw + (d.KW - 1) * geo.dw; ++e) {
        std::vector<std::pair<int64_t, int64_t>> users;  // (pixel, tap of the block)
        for (int64_t p = 0; p < np; ++p) {
          int64_t rest = e - p * geo.sw;
          if (rest < 0 || rest % geo.dw != 0 || rest / geo.dw >= d.KW) continue;
          int64_t t = ky * d.KW + rest / geo.dw - t0;
          if (t >= 0 && t < acc.rows()) users.push_back({p, t});
        }
        if (users.empty()) continue;
        Value* col = sAdd(b, first, e);
        Value* inside = nullptr;
        if (!inner) {
          inside = b.CreateAnd(rowInside, b.CreateAnd(b.CreateICmpSGE(col, tb.i64(0)), b.CreateICmpSLT(col, tb.i64(d.W))));
          col = tb.smin(tb.smax(col, tb.i64(0)), tb.i64(d.W - 1));
        }
        Value* xv = depthwiseInput(tb, v, kc.root().inputs[0], sMul(b, sAdd(b, xRow, col), d.C), f0, gd.Fg, acc.active(0));
        if (!inner) xv = keepInside(tb, xv, inside);
        for (auto [p, t] : users) acc.fma(t, 0, xv, dyv[static_cast<size_t>(p)]);
      }
    }
  }

  Extent N_;
  int64_t taps_ = 1, tapBlock_ = 1, tapBlocks_ = 1, fBlocks_ = 1;
};

}  // namespace

Result<void> emitConv2DVariant(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  GroupedConvDims gd = groupedConvDims(n, g.type(n.inputs[0]).shape, g.type(n.inputs[1]).shape, n.type.shape);
  if (!depthwiseFits(gd, convVectorUnit().lanes)) return emitGroupedConv2D(kc);
  DepthwiseConvForward(kc, gd).emit();
  return {};
}

Result<void> emitConv2DGradInputVariant(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  GroupedConvDims gd = groupedConvDims(n, n.type.shape, g.type(n.inputs[1]).shape, g.type(n.inputs[0]).shape);
  if (gd.Cg != 1 || gd.Fg != 1) return emitGroupedConv2DGradInput(kc);
  DepthwiseConvGradInput(kc, gd).emit();
  return {};
}

Result<void> emitConv2DGradFilterVariant(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  GroupedConvDims gd = groupedConvDims(n, g.type(n.inputs[0]).shape, n.type.shape, g.type(n.inputs[1]).shape);
  if (!depthwiseFits(gd, convVectorUnit().lanes)) return emitGroupedConv2DGradFilter(kc);
  DepthwiseConvGradFilter(kc, gd, dimExtent(g.type(n.inputs[0]).shape[0])).emit();
  return {};
}

}  // namespace nnc::codegen
