// The two gradients of the 2-D convolution (see EmitConv.cpp for the forward and
// ConvKernels.h for the scheme).
//
// Input gradient, a transposed convolution:
//   dx[n, ih, iw, c] = sum over (ky, kx, f) of dy[n, oh, ow, f] * w[ky, kx, c, f]
//   where oh * sh = ih + pt - ky and ow * sw = iw + pl - kx (exactly, and in range).
// Both dy and w are contiguous along f, so each output element is a dot product over f: a
// register block of `pixels` consecutive input columns x `channels` input channels keeps
// one vector of partial sums per element (lanes run over f), reduced across lanes once at
// the end. Parallel range: input rows (n, ih). With sw = 1 the row is cut into blocks by
// planPixels (as the forward's output rows): border blocks emit, per kx, only the pixels
// whose dy column exists, and loop over the kx valid for all of them (code size: the
// borders' kx are few); with sw > 1 every column checks each kx at run time.
//
// Filter gradient:
//   dw[ky, kx, c, f] = sum over (n, oh, ow) of x[n, oh*sh - pt + ky, ow*sw - pl + kx, c] * dy[n, oh, ow, f]
// Parallel range: units (ky, kx, block of `channels` input channels), never the summed
// (n, oh, ow). Each unit's block of dw (channels x vectors of f) is accumulated in registers
// over the valid pixels of a tile of output rows (their range is computed per unit, so no
// pixel is tested), then stored; the next tile reloads it. Each element is one FMA chain
// over (n, oh, ow) in order (two chains, even and odd pixels, joined per tile, when the
// block is too small to hide the FMA latency), whatever the thread split. An input with too
// few channels to fill a block takes the window-column blocking of
// EmitConvGradFilterFewChannels.cpp instead.
#include <algorithm>
#include <optional>

#include "compiler/codegen/kernels/conv/ConvRegisterBlock.h"
#include "compiler/codegen/kernels/conv/ConvTaps.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

// ---- input gradient ----------------------------------------------------------------------

// What one input row's blocks share: r = n * H + ih, top = ih + pt (= oh * sh + ky) and its
// valid ky range.
struct DirectGradInputRow {
  Value *r, *top, *kyLo, *kyHi, *dyImageRow;
};

// One register block: np input columns from iw0, channels from c0. With sw = 1 and
// `fixedIw0` (iw0 known at compile time), each kx gets only the pixels whose dy column
// exists; without it the block is interior (every kx valid for every pixel). With `check`
// (np = 1) each kx is tested at run time.
struct DirectGradInputBlock {
  Value* iw0;
  int64_t np;
  std::optional<int64_t> fixedIw0;
  bool check;
  Value* c0;
};

class DirectConvGradInput {
 public:
  explicit DirectConvGradInput(KernelContext& kc)
      : kc_(kc), tb_(kc.entry, kc.taskName(), kc.buffers()), v_(tb_), b_(tb_.b()) {
    const Graph& g = kc.graph();
    const Node& n = kc.root();
    DY_ = n.inputs[0];
    Wt_ = n.inputs[1];
    const Shape &dys = g.type(DY_).shape, &ws = g.type(Wt_).shape, &xs = n.type.shape;
    d_ = ConvDims{xs[1], xs[2], xs[3], ws[0], ws[1], ws[3], dys[1], dys[2], ConvAttr::of(n).window(ws[0], ws[1])};
    const VectorUnit vu = convVectorUnit();
    L_ = vu.lanes;
    // Register block: pixels * channels accumulators + `channels` filter vectors (the dy
    // vector can be the FMA's memory operand).
    pixels_ = d_.geo.sw == 1 ? 4 : 1;
    channels_ = pickBlock(d_.C, (vu.registers - 1) / (pixels_ + 1));
    // Interior input columns (sw = 1): ow = iw + pl - kx lies in [0, OW) for every kx.
    int64_t iwA = std::min(d_.W, std::max<int64_t>(0, d_.KW - 1 - d_.geo.pl));
    int64_t iwB = std::max(iwA, std::min(d_.W, d_.OW - d_.geo.pl));
    plan_ = planPixels(d_.W, iwA, iwB, pixels_);
  }

  void emit() {
    const Window& geo = d_.geo;
    tb_.loop(tb_.begin(), tb_.end(), [&](Value* r) {  // r = n * H + ih
      Value* top = sAdd(b_, b_.CreateURem(r, tb_.i64(d_.H)), geo.pt);
      // ky with 0 <= top - ky <= (OH - 1) * sh; divisibility is checked when sh > 1.
      DirectGradInputRow row{r, top, tb_.smax(sAdd(b_, top, -(d_.OH - 1) * geo.sh), tb_.i64(0)),
                             tb_.smin(sAdd(b_, top, 1), tb_.i64(d_.KH)), sMul(b_, b_.CreateUDiv(r, tb_.i64(d_.H)), d_.OH)};
      forBlocks(tb_, 0, d_.C, channels_, [&](Value* c0, int64_t nc) { channelBlock(row, c0, nc); }, "cb");
    }, "row");
    const Shape& xs = kc_.root().type.shape;
    Extent rows{(xs[0] == kBatch ? 1 : xs[0]) * d_.H, xs.isBatched()};
    tb_.finish(rows,
               Extent{d_.W * d_.KH * d_.KW * d_.C * d_.F * 2 / std::max<int64_t>(geo.sh * geo.sw, 1) + d_.W * d_.C, false});
  }

 private:
  void channelBlock(const DirectGradInputRow& row, Value* c0, int64_t nc) {
    // With sw > 1, or when unrolling the borders would emit too much code (huge kernels),
    // every column tests each kx at run time.
    if (d_.geo.sw != 1 || static_cast<int64_t>(plan_.fixed.size()) * d_.KW > kMaxUnrolledColumns) {
      tb_.loop(tb_.i64(0), tb_.i64(d_.W), [&](Value* iw) { block(row, {iw, 1, std::nullopt, true, c0}, nc); }, "iw");
      return;
    }
    for (auto [iw0, np] : plan_.fixed) block(row, {tb_.i64(iw0), np, iw0, false, c0}, nc);
    forBlocks(tb_, plan_.loopLo, plan_.loopHi, pixels_,
              [&](Value* iw0, int64_t np) { block(row, {iw0, np, std::nullopt, false, c0}, nc); }, "iwb");
  }

  void block(const DirectGradInputRow& row, const DirectGradInputBlock& k, int64_t nc) {
    RegisterBlock acc(v_, k.np, nc);
    tb_.loop(row.kyLo, row.kyHi, [&](Value* ky) {
      Value* t = b_.CreateNSWSub(row.top, ky);  // >= 0
      auto rowBody = [&] {
        Value* dyRow = sMul(b_, sAdd(b_, row.dyImageRow, b_.CreateUDiv(t, tb_.i64(d_.geo.sh))), d_.OW);
        if (k.fixedIw0) return borderColumns(acc, k, ky, dyRow);
        runTimeColumns(acc, k, ky, dyRow);
      };
      if (d_.geo.sh == 1) return rowBody();
      tb_.ifThen(b_.CreateICmpEQ(b_.CreateURem(t, tb_.i64(d_.geo.sh)), tb_.i64(0)), rowBody);
    }, "ky");
    Value* dxRow = sMul(b_, row.r, d_.W * d_.C);
    acc.storeSums(kc_.kernel.root, [&](int64_t p) { return sAdd(b_, sAdd(b_, dxRow, sMul(b_, sAdd(b_, k.iw0, p), d_.C)), k.c0); });
  }

  bool valid(const DirectGradInputBlock& k, int64_t p, int64_t kx) const {
    if (!k.fixedIw0) return true;
    int64_t ow = *k.fixedIw0 + p + d_.geo.pl - kx;
    return ow >= 0 && ow < d_.OW;
  }

  // The dot products over f of pixels `ps` at kx: dy of pixel p at dyPix + p * F.
  void column(RegisterBlock& acc, Value* c0, Value* ky, Value* kx, Value* dyPix, const std::vector<int64_t>& ps) {
    Value* wRow = sMul(b_, sAdd(b_, sMul(b_, sAdd(b_, sMul(b_, ky, d_.KW), kx), d_.C), c0), d_.F);
    forBlocks(tb_, 0, d_.F, L_, [&](Value* f, int64_t fw) {
      std::vector<Value*> wv;
      for (int64_t q = 0; q < acc.cols(); ++q) wv.push_back(v_.load(Wt_, sAdd(b_, sAdd(b_, wRow, q * d_.F), f), fw));
      acc.outer(wv, [&](int64_t p) { return v_.load(DY_, sAdd(b_, sAdd(b_, dyPix, p * d_.F), f), fw); }, ps);
    }, "f");
  }

  // A block at compile-time columns (sw = 1). Each pixel's valid kx form a range, so the kx
  // valid for every pixel of the block do too: [kxA, kxB), one run-time loop. Only the kx
  // before and after it (at the borders) are emitted one by one, with their valid pixels;
  // the order of kx, and so every sum, stays the same.
  void borderColumns(RegisterBlock& acc, const DirectGradInputBlock& k, Value* ky, Value* dyRow) {
    auto validPixels = [&](int64_t kx) {
      std::vector<int64_t> ps;
      for (int64_t p = 0; p < k.np; ++p)
        if (valid(k, p, kx)) ps.push_back(p);
      return ps;
    };
    const size_t all = static_cast<size_t>(k.np);
    int64_t kxA = 0;
    while (kxA < d_.KW && validPixels(kxA).size() != all) ++kxA;
    int64_t kxB = kxA;
    while (kxB < d_.KW && validPixels(kxB).size() == all) ++kxB;
    // ow of pixel 0 may be negative; pixel p's is that plus p.
    auto dyPixAt = [&](Value* kx) { return sMul(b_, b_.CreateNSWSub(sAdd(b_, dyRow, *k.fixedIw0 + d_.geo.pl), kx), d_.F); };
    auto one = [&](int64_t kx) {
      std::vector<int64_t> ps = validPixels(kx);
      if (!ps.empty()) column(acc, k.c0, ky, tb_.i64(kx), dyPixAt(tb_.i64(kx)), ps);
    };
    for (int64_t kx = 0; kx < kxA; ++kx) one(kx);
    if (kxB - kxA == 1) one(kxA);
    if (kxB - kxA > 1)
      tb_.loop(tb_.i64(kxA), tb_.i64(kxB), [&](Value* kx) { column(acc, k.c0, ky, kx, dyPixAt(kx), validPixels(kxA)); }, "kxv");
    for (int64_t kx = kxB; kx < d_.KW; ++kx) one(kx);
  }

  // An interior block, or (with check) one column anywhere: every kx at run time.
  void runTimeColumns(RegisterBlock& acc, const DirectGradInputBlock& k, Value* ky, Value* dyRow) {
    const int64_t sw = d_.geo.sw;
    std::vector<int64_t> all;
    for (int64_t p = 0; p < k.np; ++p) all.push_back(p);
    tb_.loop(tb_.i64(0), tb_.i64(d_.KW), [&](Value* kx) {
      Value* u = b_.CreateNSWSub(sAdd(b_, k.iw0, d_.geo.pl), kx);  // ow * sw
      auto body = [&] { column(acc, k.c0, ky, kx, sMul(b_, sAdd(b_, dyRow, b_.CreateUDiv(u, tb_.i64(sw))), d_.F), all); };
      if (!k.check) return body();
      Value* ok = b_.CreateAnd(b_.CreateICmpSGE(u, tb_.i64(0)),
                               b_.CreateAnd(b_.CreateICmpEQ(b_.CreateURem(u, tb_.i64(sw)), tb_.i64(0)),
                                            b_.CreateICmpULT(b_.CreateUDiv(u, tb_.i64(sw)), tb_.i64(d_.OW))));
      tb_.ifThen(ok, body);
    }, "kx");
  }

  KernelContext& kc_;
  NodeId DY_ = kNoNode, Wt_ = kNoNode;
  ConvDims d_;
  int64_t L_ = 8, pixels_ = 1, channels_ = 1;
  PixelPlan plan_;
  TaskBuilder tb_;
  ConvVectors v_;
  llvm::IRBuilder<>& b_;
};

// ---- filter gradient ---------------------------------------------------------------------

// A unit u = (ky * KW + kx) * cBlocks + channel block, and the output pixels whose window
// position (ky, kx) lands inside the input, in the current tile.
struct DirectGradFilterUnit {
  Value *ky, *kx, *c0, *block, *dwRow;
  Value *img, *ohLo, *ohHi, *owLo, *owHi;
};

class DirectConvGradFilter {
 public:
  DirectConvGradFilter(KernelContext& kc, const ConvDims& d, Extent N, int64_t vectors, int64_t channels)
      : kc_(kc), d_(d), N_(N), vectors_(vectors), channels_(channels),
        tb_(kc.entry, kc.taskName(), kc.buffers()), v_(tb_), b_(tb_.b()) {
    const Node& n = kc.root();
    X_ = n.inputs[0];
    DY_ = n.inputs[1];
    L_ = v_.lanes();
    cBlocks_ = (d.C + channels - 1) / channels;
  }

  void emit() {
    const Window& geo = d_.geo;
    // Output rows in tiles whose dy (about 16 KiB) stays in L1 while every unit of the task
    // reads it: without tiling, each unit would stream the whole image's dy.
    int64_t tileRows = std::clamp<int64_t>(16384 / std::max<int64_t>(1, d_.OW * d_.F * 4), 1, d_.OH);
    forFilterGradientTiles(tb_, N_, d_.OH, tileRows, [&](Value* u) { zero(u); }, [&](Value* img, Value* tileLo, Value* u) {
      DirectGradFilterUnit un = unitOf(u);
      un.img = img;
      un.ohLo = tb_.smax(firstValidOutput(tb_, un.ky, geo.pt, geo.sh), tileLo);
      un.ohHi = tb_.smin(endValidOutput(tb_, un.ky, geo.pt, geo.sh, d_.H, d_.OH), sAdd(b_, tileLo, tileRows));
      un.owLo = firstValidOutput(tb_, un.kx, geo.pl, geo.sw);
      un.owHi = endValidOutput(tb_, un.kx, geo.pl, geo.sw, d_.W, d_.OW);
      Value* last = b_.CreateICmpEQ(un.block, tb_.i64(cBlocks_ - 1));
      withTailWidth(tb_, last, channels_, d_.C % channels_, [&](int64_t nc) {
        forBlocks(tb_, 0, d_.F, vectors_ * L_, [&](Value* f0, int64_t fWidth) { block(un, nc, f0, fWidth); }, "fb");
      });
    });
    tb_.finish(Extent{d_.KH * d_.KW * cBlocks_, false}, Extent{N_.k * d_.OH * d_.OW * channels_ * d_.F * 2, N_.batched});
  }

 private:
  DirectGradFilterUnit unitOf(Value* u) {
    Value* kk = b_.CreateUDiv(u, tb_.i64(cBlocks_));
    Value* cb = b_.CreateURem(u, tb_.i64(cBlocks_));
    Value* c0 = sMul(b_, cb, channels_);
    DirectGradFilterUnit un{};
    un.ky = b_.CreateUDiv(kk, tb_.i64(d_.KW));
    un.kx = b_.CreateURem(kk, tb_.i64(d_.KW));
    un.c0 = c0;
    un.block = cb;
    un.dwRow = sAdd(b_, sMul(b_, kk, d_.C), c0);
    return un;
  }

  // Zero the unit's block of dw: the sums start from +0.
  void zero(Value* u) {
    DirectGradFilterUnit un = unitOf(u);
    Value* cEnd = tb_.smin(sAdd(b_, un.c0, channels_), tb_.i64(d_.C));
    Value* lo = sMul(b_, un.dwRow, d_.F);
    Value* hi = sMul(b_, sAdd(b_, un.dwRow, b_.CreateNSWSub(cEnd, un.c0)), d_.F);
    tb_.loop(lo, hi, [&](Value* i) { tb_.store(kc_.kernel.root, i, tb_.f32(0.0)); }, "z");
  }

  // nc channels x the vectors of [f0, f0 + fWidth) over the unit's pixels of the tile.
  void block(const DirectGradFilterUnit& un, int64_t nc, Value* f0, int64_t fWidth) {
    const Window& geo = d_.geo;
    const NodeId DW = kc_.kernel.root;
    int64_t nv = (fWidth + L_ - 1) / L_;
    // Too few accumulators to hide the FMA latency (the first layer, C = 1): a second set
    // takes the odd pixels of each row and joins the first at the end of the tile.
    RegisterBlock acc(v_, nc, nv, fWidth, nc * nv < 8 ? 2 : 1);
    Value* dwAt = sAdd(b_, sMul(b_, un.dwRow, d_.F), f0);
    auto dwRowAt = [&](int64_t q) { return sAdd(b_, dwAt, q * d_.F); };
    acc.load(DW, dwRowAt);
    Value* xImageRow = sMul(b_, un.img, d_.H);
    Value* dyImageRow = sMul(b_, un.img, d_.OH);
    tb_.loop(un.ohLo, un.ohHi, [&](Value* oh) {
      Value* ih = sAdd(b_, sMul(b_, oh, geo.sh), un.ky);
      Value* xRow = sMul(b_, sAdd(b_, xImageRow, sAdd(b_, ih, -geo.pt)), d_.W);
      Value* dyRow = sMul(b_, sAdd(b_, dyImageRow, oh), d_.OW);
      forPixelSets(tb_, un.owLo, un.owHi, nc * nv < 8 ? 2 : 1, [&](Value* ow, int64_t set) {
        Value* iw = sAdd(b_, sAdd(b_, sMul(b_, ow, geo.sw), un.kx), -geo.pl);
        Value* xAt = sAdd(b_, sMul(b_, sAdd(b_, xRow, iw), d_.C), un.c0);
        Value* dyAt = sAdd(b_, sMul(b_, sAdd(b_, dyRow, ow), d_.F), f0);
        std::vector<Value*> dyv;
        for (int64_t j = 0; j < nv; ++j) dyv.push_back(v_.load(DY_, sAdd(b_, dyAt, j * L_), acc.active(j)));
        acc.outer(dyv, [&](int64_t q) { return v_.splat(tb_.load(X_, sAdd(b_, xAt, q))); }, {}, set);
      });
    }, "oh");
    acc.store(DW, dwRowAt);
  }

  KernelContext& kc_;
  ConvDims d_;
  Extent N_;
  int64_t vectors_, channels_, cBlocks_ = 1, L_ = 8;
  NodeId X_ = kNoNode, DY_ = kNoNode;
  TaskBuilder tb_;
  ConvVectors v_;
  llvm::IRBuilder<>& b_;
};

}  // namespace

Result<void> emitConv2DGradInput(KernelContext& kc) {
  const Node& n = kc.root();
  GroupedConvDims gd = groupedConvDims(n, n.type.shape, kc.graph().type(n.inputs[1]).shape, kc.graph().type(n.inputs[0]).shape);
  const int64_t lanes = convVectorUnit().lanes;
  if (gd.G == 1 && gradInputRunsForward(gd.d, lanes)) return emitConv2DGradInputAsForward(kc, gd.d);
  if (gradInputTransposesWeights(gd, lanes)) return emitConv2DGradInputTransposedWeights(kc, gd);
  if (needsGroupedConv(n)) return emitConv2DGradInputVariant(kc);  // grouped, depthwise, dilated: ConvTaps.h
  DirectConvGradInput(kc).emit();
  return {};
}

Result<void> emitConv2DGradFilter(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  if (needsGroupedConv(n)) return emitConv2DGradFilterVariant(kc);  // grouped, depthwise, dilated: ConvTaps.h
  const Shape &xs = g.type(n.inputs[0]).shape, &dys = g.type(n.inputs[1]).shape, &dws = n.type.shape;
  ConvDims d{xs[1], xs[2], xs[3], dws[0], dws[1], dws[3], dys[1], dys[2], ConvAttr::of(n).window(dws[0], dws[1])};
  Extent N = dimExtent(xs[0]);
  const VectorUnit vu = convVectorUnit();
  // Register block: channels * vectors accumulators + `vectors` dy vectors + one broadcast.
  int64_t vectors = std::min<int64_t>((d.F + vu.lanes - 1) / vu.lanes, 2);
  int64_t channels = pickBlock(d.C, (vu.registers - vectors - 1) / vectors);
  // Too few channels to fill a block (the first layer): block the window columns instead.
  if (channels * vectors < 8 && d.KW > 1) return emitConv2DGradFilterFewChannels(kc, d, N);
  DirectConvGradFilter(kc, d, N, vectors, channels).emit();
  return {};
}

}  // namespace nnc::codegen
