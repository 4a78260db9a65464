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
// A fused epilogue (Kernel::epilogue: bias add, activation, ... see Lowering.cpp) runs on
// each register block right after it is stored, while its few cache lines are still in L1:
// the convolution's value never makes a separate pass through memory.
#include <algorithm>
#include <optional>

#include "compiler/codegen/kernels/conv/ConvKernels.h"
#include "compiler/codegen/kernels/conv/ConvTaps.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::codegen {

using llvm::Value;

Result<void> emitConv2D(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  if (needsGroupedConv(n)) return emitConv2DVariant(kc);  // grouped, depthwise, dilated: ConvTaps.h
  // With an epilogue, the last member's buffer receives the sums, then the epilogue's result.
  bool epilogue = !kc.kernel.epilogue.empty();
  NodeId X = n.inputs[0], Wt = n.inputs[1], Y = epilogue ? kc.kernel.epilogue.back() : kc.kernel.root;
  const Shape &xs = g.type(X).shape, &ws = g.type(Wt).shape, &ys = n.type.shape;
  ConvDims d{xs[1], xs[2], xs[3], ws[0], ws[1], ws[3], ys[1], ys[2], {}};
  d.geo = ConvAttr::of(n).window(d.KH, d.KW);
  const Window& geo = d.geo;

  const VectorUnit vu = convVectorUnit();
  const int64_t L = vu.lanes;
  // Register block: `vectors` filter vectors + one broadcast + pixels * vectors accumulators.
  int64_t vectors = std::min<int64_t>((d.F + L - 1) / L, 2);
  int64_t pixels = std::clamp<int64_t>((vu.registers - vectors - 1) / vectors, 1, 8);
  // Interior output columns: the window row lies inside the input for every kx.
  int64_t owA = std::min(d.OW, (geo.pl + geo.sw - 1) / geo.sw);
  int64_t owB = d.W - d.KW + geo.pl >= 0 ? std::min(d.OW, (d.W - d.KW + geo.pl) / geo.sw + 1) : 0;
  if (owB < owA) owB = owA;
  PixelPlan plan = planPixels(d.OW, owA, owB, pixels);

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  ConvVectors v(tb);
  auto& b = tb.b();
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = n * OH + oh
    Value* img = b.CreateUDiv(r, tb.i64(d.OH));
    Value* oh = b.CreateURem(r, tb.i64(d.OH));
    Value* ihBase = sAdd(b, sMul(b, oh, geo.sh), -geo.pt);
    Value* kyLo = tb.smax(b.CreateNSWNeg(ihBase), tb.i64(0));
    Value* kyHi = tb.smin(b.CreateNSWSub(tb.i64(d.H), ihBase), tb.i64(d.KH));
    Value* xImageRow = sMul(b, img, d.H);  // x row index of (img, 0)
    Value* yRow = sMul(b, r, d.OW * d.F);

    forBlocks(tb, 0, d.F, vectors * L, [&](Value* f0, int64_t fWidth) {
      int64_t nv = (fWidth + L - 1) / L;
      auto active = [&](int64_t j) { return std::min<int64_t>(L, fWidth - j * L); };
      // One register block: np pixels from output column ow0; `fixedOw0` is ow0 when it is
      // known at compile time (then each kx gets only the pixels whose column is inside the
      // input), else every pixel's whole window row is inside (an interior block).
      // `clamped`: one pixel anywhere in the row, its kx range computed at run time (the
      // fallback when unrolling the borders would emit too much code).
      auto block = [&](Value* ow0, int64_t np, std::optional<int64_t> fixedOw0, bool clamped = false) {
        auto valid = [&](int64_t p, int64_t kx) {
          if (!fixedOw0) return true;
          int64_t iw = (*fixedOw0 + p) * geo.sw - geo.pl + kx;
          return iw >= 0 && iw < d.W;
        };
        bool allValid = true;
        for (int64_t p = 0; p < np; ++p)
          for (int64_t kx = 0; kx < d.KW; ++kx) allValid = allValid && valid(p, kx);
        std::vector<llvm::AllocaInst*> acc = v.accumulators(static_cast<size_t>(np * nv));
        for (llvm::AllocaInst* a : acc) v.set(a, v.zero());
        // FMAs of the pixels `ps` for one (kx, c) position: filter at wAt, input at xAt[p] + t.
        auto step = [&](Value* wAt, const std::vector<int64_t>& ps, const std::vector<Value*>& xAt, Value* t) {
          std::vector<Value*> wv;
          for (int64_t j = 0; j < nv; ++j) wv.push_back(v.load(Wt, sAdd(b, wAt, j * L), active(j)));
          for (int64_t p : ps) {
            Value* xb = v.splat(tb.load(X, sAdd(b, xAt[static_cast<size_t>(p)], t)));
            for (int64_t j = 0; j < nv; ++j) {
              llvm::AllocaInst* a = acc[static_cast<size_t>(p * nv + j)];
              v.set(a, v.fma(xb, wv[static_cast<size_t>(j)], v.get(a)));
            }
          }
        };
        tb.loop(kyLo, kyHi, [&](Value* ky) {
          Value* xRow = sMul(b, sAdd(b, xImageRow, sAdd(b, ihBase, ky)), d.W);
          Value* wKy = sAdd(b, sMul(b, ky, d.KW * d.C * d.F), f0);
          if (allValid) {
            // (kx, c) is one contiguous run of the input row and of the filter.
            std::vector<int64_t> ps;
            std::vector<Value*> xAt;  // x index of (pixel p, kx = 0, c = 0); may be negative when clamped
            for (int64_t p = 0; p < np; ++p) {
              ps.push_back(p);
              xAt.push_back(sMul(b, sAdd(b, xRow, sAdd(b, sMul(b, sAdd(b, ow0, p), geo.sw), -geo.pl)), d.C));
            }
            Value *tLo = tb.i64(0), *tHi = tb.i64(d.KW * d.C);
            if (clamped) {
              Value* start = sAdd(b, sMul(b, ow0, geo.sw), -geo.pl);  // input column of kx = 0
              tLo = sMul(b, tb.smax(b.CreateNSWNeg(start), tb.i64(0)), d.C);
              tHi = sMul(b, tb.smin(b.CreateNSWSub(tb.i64(d.W), start), tb.i64(d.KW)), d.C);
            }
            tb.loop(tLo, tHi, [&](Value* t) {  // t = kx * C + c
              step(sAdd(b, wKy, sMul(b, t, d.F)), ps, xAt, t);
            }, "t");
            return;
          }
          for (int64_t kx = 0; kx < d.KW; ++kx) {
            std::vector<int64_t> ps;
            std::vector<Value*> xAt(static_cast<size_t>(np), nullptr);  // x index of (p, kx, c = 0)
            for (int64_t p = 0; p < np; ++p) {
              if (!valid(p, kx)) continue;
              ps.push_back(p);
              xAt[static_cast<size_t>(p)] = sMul(b, sAdd(b, xRow, (*fixedOw0 + p) * geo.sw - geo.pl + kx), d.C);
            }
            if (ps.empty()) continue;
            Value* wKx = sAdd(b, wKy, kx * d.C * d.F);
            tb.loop(tb.i64(0), tb.i64(d.C), [&](Value* c) { step(sAdd(b, wKx, sMul(b, c, d.F)), ps, xAt, c); }, "c");
          }
        }, "ky");
        for (int64_t p = 0; p < np; ++p) {
          Value* yAt = sAdd(b, sAdd(b, yRow, sMul(b, sAdd(b, ow0, p), d.F)), f0);
          for (int64_t j = 0; j < nv; ++j)
            v.store(Y, sAdd(b, yAt, j * L), v.get(acc[static_cast<size_t>(p * nv + j)]), active(j));
          if (epilogue) {
            Value* pixel = sAdd(b, sMul(b, r, d.OW), sAdd(b, ow0, p));  // flat over (n, oh, ow)
            tb.loop(tb.i64(0), tb.i64(fWidth), [&](Value* c) {
              emitEpilogueElement(tb, kc.kernel, Y, ys, pixel, sAdd(b, f0, c), sAdd(b, yAt, c));
            }, "ec");
          }
        }
      };
      if (static_cast<int64_t>(plan.fixed.size()) * d.KW > kMaxUnrolledColumns) {
        tb.loop(tb.i64(0), tb.i64(d.OW), [&](Value* ow) { block(ow, 1, std::nullopt, true); }, "ow");
        return;
      }
      for (auto [ow0, np] : plan.fixed) block(tb.i64(ow0), np, ow0);
      forBlocks(tb, plan.loopLo, plan.loopHi, pixels, [&](Value* ow0, int64_t np) { block(ow0, np, std::nullopt); },
                "owb");
    }, "fb");
  }, "row");
  Extent rows{(ys[0] == kBatch ? 1 : ys[0]) * d.OH, ys.isBatched()};
  tb.finish(rows, Extent{d.OW * d.KH * d.KW * d.C * d.F * 2, false});
  return {};
}

}  // namespace nnc::codegen
