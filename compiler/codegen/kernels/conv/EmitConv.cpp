// The forward 2-D convolution over NHWC tensors with filters [kh, kw, in, out]:
//   y[n, oh, ow, f] = sum over (ky, kx, c) of x[n, oh*sh - pt + ky, ow*sw - pl + kx, c] * w[ky, kx, c, f]
// (positions outside the input read as zero). See ConvKernels.h for the scheme.
//
// Parallel range: output rows (n, oh). A register block is up to `pixels` consecutive
// output pixels of the row times `vectors` vectors of output channels: for every (ky, kx, c)
// it loads the filter vectors once and broadcasts one input value per pixel. The row is cut
// into blocks by planPixels: blocks at the borders (and every block of a short row) start at
// compile-time columns, so each kx emits FMAs for exactly the pixels whose input column
// exists (no tests, no wasted work on padding); interior blocks run in a loop, and since
// their whole window row is inside the input, (kx, c) is one contiguous run of the input row
// and of the filter: their innermost loop is a single loop over kx*C + c.
//
// A fused epilogue runs on each register block right after it is stored (ConvRegisterBlock.h),
// and sums along each output row after it, when the kernel has row sums (EpilogueRowSums.h).
#include <algorithm>
#include <optional>

#include "compiler/codegen/kernels/conv/ConvRegisterBlock.h"
#include "compiler/codegen/kernels/conv/ConvTaps.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

// What one output row's blocks share: r = n * OH + oh, its valid ky range and where its
// input rows start.
struct DirectForwardRow {
  Value *r, *ihBase, *kyLo, *kyHi, *xImageRow;
};

// One register block: np pixels from output column ow0. `fixedOw0` is ow0 when it is known
// at compile time (then each kx gets only the pixels whose column is inside the input), else
// every pixel's whole window row is inside (an interior block). `clamped`: one pixel anywhere
// in the row, its kx range computed at run time (the fallback when unrolling the borders
// would emit too much code).
struct DirectForwardBlock {
  Value* ow0;
  int64_t np;
  std::optional<int64_t> fixedOw0;
  bool clamped;
  Value* f0;
};

// What a direct forward convolution reads: the forward itself, or a stride-1 input gradient
// seen as the forward convolution of dy with the filter flipped and transposed (`flipped`:
// w is the gradient's [KH, KW, d.F, d.C] filter, read through that copy).
struct DirectForwardSource {
  NodeId x, w;
  ConvDims d;
  bool flipped = false;
};

class DirectConvForward {
 public:
  DirectConvForward(KernelContext& kc, const DirectForwardSource& src)
      : kc_(kc), out_(convOutput(kc)), X_(src.x), Wt_(src.w), d_(src.d), flipped_(src.flipped),
        tb_(kc.entry, kc.taskName(), kc.buffers()), v_(tb_), b_(tb_.b()) {
    const VectorUnit vu = convVectorUnit();
    L_ = vu.lanes;
    // Register block: `vectors` filter vectors + one broadcast + pixels * vectors accumulators.
    vectors_ = std::min<int64_t>((d_.F + L_ - 1) / L_, 2);
    pixels_ = std::clamp<int64_t>((vu.registers - vectors_ - 1) / vectors_, 1, 8);
    // Interior output columns: the window row lies inside the input for every kx.
    const Window& geo = d_.geo;
    int64_t owA = std::min(d_.OW, (geo.pl + geo.sw - 1) / geo.sw);
    int64_t owB = d_.W - d_.KW + geo.pl >= 0 ? std::min(d_.OW, (d_.W - d_.KW + geo.pl) / geo.sw + 1) : 0;
    plan_ = planPixels(d_.OW, owA, std::max(owA, owB), pixels_);
  }

  void emit() {
    const Window& geo = d_.geo;
    if (flipped_) flipTransposeWeights();
    tb_.loop(tb_.begin(), tb_.end(), [&](Value* r) {  // r = n * OH + oh
      Value* oh = b_.CreateURem(r, tb_.i64(d_.OH));
      Value* ihBase = sAdd(b_, sMul(b_, oh, geo.sh), -geo.pt);
      DirectForwardRow row{r, ihBase, tb_.smax(b_.CreateNSWNeg(ihBase), tb_.i64(0)),
                           tb_.smin(b_.CreateNSWSub(tb_.i64(d_.H), ihBase), tb_.i64(d_.KH)),
                           sMul(b_, b_.CreateUDiv(r, tb_.i64(d_.OH)), d_.H)};
      // Row sums after the epilogue (EpilogueRowSums.h): a row is this task's alone.
      const bool rowSums = out_.epilogue && !kc_.kernel.fused.empty();
      if (rowSums) emitEpilogueRowSumsBegin(tb_, kc_.kernel, r);
      forBlocks(tb_, 0, d_.F, vectors_ * L_, [&](Value* f0, int64_t fWidth) { channelBlock(row, f0, fWidth); }, "fb");
      if (rowSums) emitEpilogueRowSumsEnd(tb_, kc_.kernel, r);
    }, "row");
    const Shape& ys = out_.shape;
    Extent rows{(ys[0] == kBatch ? 1 : ys[0]) * d_.OH, ys.isBatched()};
    tb_.finish(rows, Extent{d_.OW * d_.KH * d_.KW * d_.C * d_.F * 2, false});
  }

 private:
  // The row's blocks of the channels [f0, f0 + fWidth): the borders at compile-time columns,
  // the interior in a loop.
  void channelBlock(const DirectForwardRow& row, Value* f0, int64_t fWidth) {
    if (static_cast<int64_t>(plan_.fixed.size()) * d_.KW > kMaxUnrolledColumns) {
      tb_.loop(tb_.i64(0), tb_.i64(d_.OW), [&](Value* ow) { block(row, {ow, 1, std::nullopt, true, f0}, fWidth); }, "ow");
      return;
    }
    for (auto [ow0, np] : plan_.fixed) block(row, {tb_.i64(ow0), np, ow0, false, f0}, fWidth);
    forBlocks(tb_, plan_.loopLo, plan_.loopHi, pixels_,
              [&](Value* ow0, int64_t np) { block(row, {ow0, np, std::nullopt, false, f0}, fWidth); }, "owb");
  }

  // The copy of a gradient's filter, once per task (the runtime runs at most one task per
  // thread): wT[ky, kx, c, f] = w[KH - 1 - ky, KW - 1 - kx, f, c], written in order.
  void flipTransposeWeights() {
    const int64_t taps = d_.KH * d_.KW;
    wT_ = tb_.local(llvm::ArrayType::get(b_.getFloatTy(), static_cast<uint64_t>(taps * d_.C * d_.F)), "wT");
    tb_.loop(tb_.i64(0), tb_.i64(taps * d_.C), [&](Value* tc) {  // tc = tap * C + c
      Value* mirror = b_.CreateNSWSub(tb_.i64(taps - 1), b_.CreateUDiv(tc, tb_.i64(d_.C)));
      Value* from = sAdd(b_, sMul(b_, mirror, d_.F * d_.C), b_.CreateURem(tc, tb_.i64(d_.C)));
      tb_.loop(tb_.i64(0), tb_.i64(d_.F), [&](Value* f) {
        Value* to = b_.CreateInBoundsGEP(b_.getFloatTy(), wT_, sAdd(b_, sMul(b_, tc, d_.F), f));
        b_.CreateStore(tb_.load(Wt_, sAdd(b_, from, sMul(b_, f, d_.C))), to);
      }, "tf");
    }, "tc");
  }

  Value* weights(Value* index, int64_t active) {
    if (!flipped_) return v_.load(Wt_, index, active);
    return v_.loadAt(b_.CreateInBoundsGEP(b_.getFloatTy(), wT_, index), active);
  }

  bool valid(const DirectForwardBlock& k, int64_t p, int64_t kx) const {
    if (!k.fixedOw0) return true;
    int64_t iw = (*k.fixedOw0 + p) * d_.geo.sw - d_.geo.pl + kx;
    return iw >= 0 && iw < d_.W;
  }

  void block(const DirectForwardRow& row, const DirectForwardBlock& k, int64_t fWidth) {
    bool allValid = true;
    for (int64_t p = 0; p < k.np; ++p)
      for (int64_t kx = 0; kx < d_.KW; ++kx) allValid = allValid && valid(k, p, kx);
    RegisterBlock acc(v_, k.np, (fWidth + L_ - 1) / L_, fWidth);
    tb_.loop(row.kyLo, row.kyHi, [&](Value* ky) {
      Value* xRow = sMul(b_, sAdd(b_, row.xImageRow, sAdd(b_, row.ihBase, ky)), d_.W);
      Value* wKy = sAdd(b_, sMul(b_, ky, d_.KW * d_.C * d_.F), k.f0);
      if (allValid)
        contiguousTaps(acc, k, xRow, wKy);
      else
        borderTaps(acc, k, xRow, wKy);
    }, "ky");
    storeOutputBlock(kc_, tb_, acc, out_, row.r, k.ow0, d_.OW, d_.F, k.f0);
  }

  // FMAs of the pixels `ps` for one (kx, c) position: filter at wAt, input at xAt[p] + t.
  void step(RegisterBlock& acc, Value* wAt, const std::vector<int64_t>& ps, const std::vector<Value*>& xAt, Value* t) {
    std::vector<Value*> wv;
    for (int64_t j = 0; j < acc.cols(); ++j) wv.push_back(weights(sAdd(b_, wAt, j * L_), acc.active(j)));
    acc.outer(wv, [&](int64_t p) { return v_.splat(tb_.load(X_, sAdd(b_, xAt[static_cast<size_t>(p)], t))); }, ps);
  }

  // Every kx valid for every pixel: (kx, c) is one contiguous run of the input row and of
  // the filter, one loop over t = kx * C + c.
  void contiguousTaps(RegisterBlock& acc, const DirectForwardBlock& k, Value* xRow, Value* wKy) {
    const Window& geo = d_.geo;
    std::vector<int64_t> ps;
    std::vector<Value*> xAt;  // x index of (pixel p, kx = 0, c = 0); may be negative when clamped
    for (int64_t p = 0; p < k.np; ++p) {
      ps.push_back(p);
      xAt.push_back(sMul(b_, sAdd(b_, xRow, sAdd(b_, sMul(b_, sAdd(b_, k.ow0, p), geo.sw), -geo.pl)), d_.C));
    }
    Value *tLo = tb_.i64(0), *tHi = tb_.i64(d_.KW * d_.C);
    if (k.clamped) {
      Value* start = sAdd(b_, sMul(b_, k.ow0, geo.sw), -geo.pl);  // input column of kx = 0
      tLo = sMul(b_, tb_.smax(b_.CreateNSWNeg(start), tb_.i64(0)), d_.C);
      tHi = sMul(b_, tb_.smin(b_.CreateNSWSub(tb_.i64(d_.W), start), tb_.i64(d_.KW)), d_.C);
    }
    tb_.loop(tLo, tHi, [&](Value* t) { step(acc, sAdd(b_, wKy, sMul(b_, t, d_.F)), ps, xAt, t); }, "t");
  }

  // A border block (compile-time columns): each kx with exactly its valid pixels.
  void borderTaps(RegisterBlock& acc, const DirectForwardBlock& k, Value* xRow, Value* wKy) {
    const Window& geo = d_.geo;
    for (int64_t kx = 0; kx < d_.KW; ++kx) {
      std::vector<int64_t> ps;
      std::vector<Value*> xAt(static_cast<size_t>(k.np), nullptr);  // x index of (p, kx, c = 0)
      for (int64_t p = 0; p < k.np; ++p) {
        if (!valid(k, p, kx)) continue;
        ps.push_back(p);
        xAt[static_cast<size_t>(p)] = sMul(b_, sAdd(b_, xRow, (*k.fixedOw0 + p) * geo.sw - geo.pl + kx), d_.C);
      }
      if (ps.empty()) continue;
      Value* wKx = sAdd(b_, wKy, kx * d_.C * d_.F);
      tb_.loop(tb_.i64(0), tb_.i64(d_.C), [&](Value* c) { step(acc, sAdd(b_, wKx, sMul(b_, c, d_.F)), ps, xAt, c); }, "c");
    }
  }

  KernelContext& kc_;
  ConvOutput out_;
  NodeId X_, Wt_;
  ConvDims d_;
  bool flipped_;
  llvm::AllocaInst* wT_ = nullptr;
  int64_t L_ = 8, vectors_ = 1, pixels_ = 1;
  PixelPlan plan_;
  TaskBuilder tb_;
  ConvVectors v_;
  llvm::IRBuilder<>& b_;
};

}  // namespace

Result<void> emitConv2D(KernelContext& kc) {
  const Node& n = kc.root();
  if (needsGroupedConv(n)) return emitConv2DVariant(kc);  // grouped, depthwise, dilated: ConvTaps.h
  const Shape &xs = kc.graph().type(n.inputs[0]).shape, &ws = kc.graph().type(n.inputs[1]).shape, &ys = n.type.shape;
  ConvDims d{xs[1], xs[2], xs[3], ws[0], ws[1], ws[3], ys[1], ys[2], ConvAttr::of(n).window(ws[0], ws[1])};
  DirectConvForward(kc, {n.inputs[0], n.inputs[1], d}).emit();
  return {};
}

bool gradInputRunsForward(const ConvDims& d, int64_t lanes) {
  const Window& geo = d.geo;
  return geo.sh == 1 && geo.sw == 1 && !geo.dilated() && d.C >= lanes && geo.pt < d.KH && geo.pl < d.KW &&
         d.KH * d.KW * d.C * d.F <= kMaxFlippedWeightFloats;
}

Result<void> emitConv2DGradInputAsForward(KernelContext& kc, const ConvDims& d) {
  const Node& n = kc.root();
  // dx is the forward convolution of dy (OH x OW x F) with padding KH - 1 - pt, KW - 1 - pl.
  ConvDims fd{d.OH, d.OW, d.F, d.KH, d.KW, d.C, d.H, d.W, d.geo};
  fd.geo.pt = d.KH - 1 - d.geo.pt;
  fd.geo.pl = d.KW - 1 - d.geo.pl;
  fd.geo.pb = d.KH - 1 - d.geo.pb;
  fd.geo.pr = d.KW - 1 - d.geo.pr;
  DirectConvForward(kc, {n.inputs[0], n.inputs[1], fd, true}).emit();
  return {};
}

}  // namespace nnc::codegen
