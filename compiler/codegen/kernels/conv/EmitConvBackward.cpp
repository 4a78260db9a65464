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

#include "compiler/codegen/kernels/conv/ConvKernels.h"
#include "compiler/codegen/kernels/conv/ConvTaps.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::codegen {

using llvm::Value;

Result<void> emitConv2DGradInput(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  if (needsGroupedConv(n)) return emitConv2DGradInputVariant(kc);  // grouped, depthwise, dilated: ConvTaps.h
  NodeId DY = n.inputs[0], Wt = n.inputs[1], DX = kc.kernel.root;
  const Shape &dys = g.type(DY).shape, &ws = g.type(Wt).shape, &xs = n.type.shape;
  ConvDims d{xs[1], xs[2], xs[3], ws[0], ws[1], ws[3], dys[1], dys[2], {}};
  d.geo = ConvAttr::of(n).window(d.KH, d.KW);
  const Window& geo = d.geo;

  const VectorUnit vu = convVectorUnit();
  const int64_t L = vu.lanes;
  // Register block: pixels * channels accumulators + `channels` filter vectors (the dy
  // vector can be the FMA's memory operand).
  int64_t pixels = geo.sw == 1 ? 4 : 1;
  int64_t channels = pickBlock(d.C, (vu.registers - 1) / (pixels + 1));
  // Interior input columns (sw = 1): ow = iw + pl - kx lies in [0, OW) for every kx.
  int64_t iwA = std::min(d.W, std::max<int64_t>(0, d.KW - 1 - geo.pl));
  int64_t iwB = std::max(iwA, std::min(d.W, d.OW - geo.pl));
  PixelPlan plan = planPixels(d.W, iwA, iwB, pixels);

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  ConvVectors v(tb);
  auto& b = tb.b();
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = n * H + ih
    Value* img = b.CreateUDiv(r, tb.i64(d.H));
    Value* ih = b.CreateURem(r, tb.i64(d.H));
    Value* top = sAdd(b, ih, geo.pt);  // oh * sh + ky
    // ky with 0 <= top - ky <= (OH - 1) * sh; divisibility is checked when sh > 1.
    Value* kyLo = tb.smax(sAdd(b, top, -(d.OH - 1) * geo.sh), tb.i64(0));
    Value* kyHi = tb.smin(sAdd(b, top, 1), tb.i64(d.KH));
    Value* dyImageRow = sMul(b, img, d.OH);
    Value* dxRow = sMul(b, r, d.W * d.C);

    forBlocks(tb, 0, d.C, channels, [&](Value* c0, int64_t nc) {
      // One register block: np input columns from iw0. With sw = 1 and `fixedIw0` (iw0 known
      // at compile time), each kx gets only the pixels whose dy column exists; without it the
      // block is interior (every kx valid for every pixel). With `check` (np = 1) each kx is
      // tested at run time.
      auto block = [&](Value* iw0, int64_t np, std::optional<int64_t> fixedIw0, bool check) {
        auto valid = [&](int64_t p, int64_t kx) {
          if (!fixedIw0) return true;
          int64_t ow = *fixedIw0 + p + geo.pl - kx;
          return ow >= 0 && ow < d.OW;
        };
        std::vector<llvm::AllocaInst*> acc = v.accumulators(static_cast<size_t>(np * nc));
        for (llvm::AllocaInst* a : acc) v.set(a, v.zero());
        // The dot products over f of pixels `ps` at kx: dy of pixel p at dyPix + p * F.
        auto column = [&](Value* ky, Value* kx, Value* dyPix, const std::vector<int64_t>& ps) {
          Value* wRow = sMul(b, sAdd(b, sMul(b, sAdd(b, sMul(b, ky, d.KW), kx), d.C), c0), d.F);
          forBlocks(tb, 0, d.F, L, [&](Value* f, int64_t fw) {
            std::vector<Value*> wv;
            for (int64_t q = 0; q < nc; ++q) wv.push_back(v.load(Wt, sAdd(b, sAdd(b, wRow, q * d.F), f), fw));
            for (int64_t p : ps) {
              Value* dyv = v.load(DY, sAdd(b, sAdd(b, dyPix, p * d.F), f), fw);
              for (int64_t q = 0; q < nc; ++q) {
                llvm::AllocaInst* a = acc[static_cast<size_t>(p * nc + q)];
                v.set(a, v.fma(dyv, wv[static_cast<size_t>(q)], v.get(a)));
              }
            }
          }, "f");
        };
        tb.loop(kyLo, kyHi, [&](Value* ky) {
          Value* t = b.CreateNSWSub(top, ky);  // >= 0
          auto rowBody = [&] {
            Value* dyRow = sMul(b, sAdd(b, dyImageRow, b.CreateUDiv(t, tb.i64(geo.sh))), d.OW);
            std::vector<int64_t> all;
            for (int64_t p = 0; p < np; ++p) all.push_back(p);
            if (fixedIw0) {
              // Each pixel's valid kx form a range, so the kx valid for every pixel of the
              // block do too: [kxA, kxB), one run-time loop. Only the kx before and after it
              // (at the borders) are emitted one by one, with their valid pixels; the order
              // of kx, and so every sum, stays the same.
              auto validPixels = [&](int64_t kx) {
                std::vector<int64_t> ps;
                for (int64_t p = 0; p < np; ++p)
                  if (valid(p, kx)) ps.push_back(p);
                return ps;
              };
              int64_t kxA = 0;
              while (kxA < d.KW && validPixels(kxA).size() != all.size()) ++kxA;
              int64_t kxB = kxA;
              while (kxB < d.KW && validPixels(kxB).size() == all.size()) ++kxB;
              // ow of pixel 0 may be negative; pixel p's is that plus p.
              auto dyPixAt = [&](Value* kx) { return sMul(b, b.CreateNSWSub(sAdd(b, dyRow, *fixedIw0 + geo.pl), kx), d.F); };
              auto one = [&](int64_t kx) {
                std::vector<int64_t> ps = validPixels(kx);
                if (!ps.empty()) column(ky, tb.i64(kx), dyPixAt(tb.i64(kx)), ps);
              };
              for (int64_t kx = 0; kx < kxA; ++kx) one(kx);
              if (kxB - kxA == 1) one(kxA);
              if (kxB - kxA > 1)
                tb.loop(tb.i64(kxA), tb.i64(kxB), [&](Value* kx) { column(ky, kx, dyPixAt(kx), all); }, "kxv");
              for (int64_t kx = kxB; kx < d.KW; ++kx) one(kx);
              return;
            }
            tb.loop(tb.i64(0), tb.i64(d.KW), [&](Value* kx) {
              Value* u = b.CreateNSWSub(sAdd(b, iw0, geo.pl), kx);  // ow * sw
              auto body = [&] { column(ky, kx, sMul(b, sAdd(b, dyRow, b.CreateUDiv(u, tb.i64(geo.sw))), d.F), all); };
              if (!check) return body();
              Value* ok = b.CreateAnd(b.CreateICmpSGE(u, tb.i64(0)),
                                      b.CreateAnd(b.CreateICmpEQ(b.CreateURem(u, tb.i64(geo.sw)), tb.i64(0)),
                                                  b.CreateICmpULT(b.CreateUDiv(u, tb.i64(geo.sw)), tb.i64(d.OW))));
              tb.ifThen(ok, body);
            }, "kx");
          };
          if (geo.sh == 1) return rowBody();
          tb.ifThen(b.CreateICmpEQ(b.CreateURem(t, tb.i64(geo.sh)), tb.i64(0)), rowBody);
        }, "ky");
        for (int64_t p = 0; p < np; ++p) {
          Value* at = sAdd(b, sAdd(b, dxRow, sMul(b, sAdd(b, iw0, p), d.C)), c0);
          for (int64_t q = 0; q < nc; ++q)
            tb.store(DX, sAdd(b, at, q), v.sum(v.get(acc[static_cast<size_t>(p * nc + q)])));
        }
      };
      // With sw > 1, or when unrolling the borders would emit too much code (huge kernels),
      // every column tests each kx at run time.
      if (geo.sw != 1 || static_cast<int64_t>(plan.fixed.size()) * d.KW > kMaxUnrolledColumns) {
        tb.loop(tb.i64(0), tb.i64(d.W), [&](Value* iw) { block(iw, 1, std::nullopt, true); }, "iw");
        return;
      }
      for (auto [iw0, np] : plan.fixed) block(tb.i64(iw0), np, iw0, false);
      forBlocks(
          tb, plan.loopLo, plan.loopHi, pixels,
          [&](Value* iw0, int64_t np) { block(iw0, np, std::nullopt, false); }, "iwb");
    }, "cb");
  }, "row");
  Extent rows{(xs[0] == kBatch ? 1 : xs[0]) * d.H, xs.isBatched()};
  tb.finish(rows, Extent{d.W * d.KH * d.KW * d.C * d.F * 2 / std::max<int64_t>(geo.sh * geo.sw, 1) + d.W * d.C, false});
  return {};
}

Result<void> emitConv2DGradFilter(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  if (needsGroupedConv(n)) return emitConv2DGradFilterVariant(kc);  // grouped, depthwise, dilated: ConvTaps.h
  NodeId X = n.inputs[0], DY = n.inputs[1], DW = kc.kernel.root;
  const Shape &xs = g.type(X).shape, &dys = g.type(DY).shape, &dws = n.type.shape;
  ConvDims d{xs[1], xs[2], xs[3], dws[0], dws[1], dws[3], dys[1], dys[2], {}};
  d.geo = ConvAttr::of(n).window(d.KH, d.KW);
  const Window& geo = d.geo;
  Extent N = dimExtent(xs[0]);

  const VectorUnit vu = convVectorUnit();
  const int64_t L = vu.lanes;
  // Register block: channels * vectors accumulators + `vectors` dy vectors + one broadcast.
  int64_t fVectors = (d.F + L - 1) / L;
  int64_t vectors = std::min<int64_t>(fVectors, 2);
  int64_t channels = pickBlock(d.C, (vu.registers - vectors - 1) / vectors);
  // Too few channels to fill a block (the first layer): block the window columns instead.
  if (channels * vectors < 8 && d.KW > 1) return emitConv2DGradFilterFewChannels(kc, d, N);
  int64_t cBlocks = (d.C + channels - 1) / channels, cTail = d.C % channels;

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  ConvVectors v(tb);
  auto& b = tb.b();
  // A unit u = (ky * KW + kx) * cBlocks + channel block.
  struct Unit {
    Value *ky, *kx, *c0, *block, *dwRow;
  };
  auto unitOf = [&](Value* u) {
    Value* kk = b.CreateUDiv(u, tb.i64(cBlocks));
    Value* cb = b.CreateURem(u, tb.i64(cBlocks));
    Value* c0 = sMul(b, cb, channels);
    return Unit{b.CreateUDiv(kk, tb.i64(d.KW)), b.CreateURem(kk, tb.i64(d.KW)), c0, cb,
                sAdd(b, sMul(b, kk, d.C), c0)};
  };
  auto firstValid = [&](Value* k, int64_t pad, int64_t s) { return firstValidOutput(tb, k, pad, s); };
  auto endValid = [&](Value* k, int64_t pad, int64_t s, int64_t size, int64_t outSize) {
    return endValidOutput(tb, k, pad, s, size, outSize);
  };

  // Zero this task's blocks of dw: the sums start from +0.
  tb.loop(tb.begin(), tb.end(), [&](Value* u) {
    Unit un = unitOf(u);
    Value* cEnd = tb.smin(sAdd(b, un.c0, channels), tb.i64(d.C));
    Value* lo = sMul(b, un.dwRow, d.F);
    Value* hi = sMul(b, sAdd(b, un.dwRow, b.CreateNSWSub(cEnd, un.c0)), d.F);
    tb.loop(lo, hi, [&](Value* i) { tb.store(DW, i, tb.f32(0.0)); }, "z");
  }, "zero");

  // Output rows are visited in tiles whose dy (about 16 KiB) stays in L1 while every unit
  // of the task reads it: without tiling, each unit would stream the whole image's dy.
  int64_t tileRows = std::clamp<int64_t>(16384 / std::max<int64_t>(1, d.OW * d.F * 4), 1, d.OH);
  int64_t tiles = (d.OH + tileRows - 1) / tileRows;
  tb.loop(tb.i64(0), tb.extent(N), [&](Value* img) {
    tb.loop(tb.i64(0), tb.i64(tiles), [&](Value* tile) {
      Value* tileLo = sMul(b, tile, tileRows);
      tb.loop(tb.begin(), tb.end(), [&](Value* u) {
        Unit un = unitOf(u);
        Value* ohLo = tb.smax(firstValid(un.ky, geo.pt, geo.sh), tileLo);
        Value* ohHi = tb.smin(endValid(un.ky, geo.pt, geo.sh, d.H, d.OH), sAdd(b, tileLo, tileRows));
        Value* owLo = firstValid(un.kx, geo.pl, geo.sw);
        Value* owHi = endValid(un.kx, geo.pl, geo.sw, d.W, d.OW);
        Value* xImageRow = sMul(b, img, d.H);
        Value* dyImageRow = sMul(b, img, d.OH);
        auto micro = [&](int64_t nc) {
          forBlocks(tb, 0, d.F, vectors * L, [&](Value* f0, int64_t fWidth) {
            int64_t nv = (fWidth + L - 1) / L;
            auto active = [&](int64_t j) { return std::min<int64_t>(L, fWidth - j * L); };
            // Too few accumulators to hide the FMA latency (the first layer, C = 1): a second
            // set takes the odd pixels of each row and joins the first at the end of the
            // tile. Which pixel goes to which set depends only on the shape.
            int64_t block = nc * nv, sets = block < 8 ? 2 : 1;
            std::vector<llvm::AllocaInst*> acc = v.accumulators(static_cast<size_t>(sets * block));
            Value* dwAt = sAdd(b, sMul(b, un.dwRow, d.F), f0);
            for (int64_t q = 0; q < nc; ++q)
              for (int64_t j = 0; j < nv; ++j) {
                v.set(acc[static_cast<size_t>(q * nv + j)], v.load(DW, sAdd(b, dwAt, q * d.F + j * L), active(j)));
                if (sets == 2) v.set(acc[static_cast<size_t>(block + q * nv + j)], v.zero());
              }
            tb.loop(ohLo, ohHi, [&](Value* oh) {
              Value* ih = sAdd(b, sMul(b, oh, geo.sh), un.ky);
              Value* xRow = sMul(b, sAdd(b, xImageRow, sAdd(b, ih, -geo.pt)), d.W);
              Value* dyRow = sMul(b, sAdd(b, dyImageRow, oh), d.OW);
              auto pixel = [&](Value* ow, int64_t set) {
                Value* iw = sAdd(b, sAdd(b, sMul(b, ow, geo.sw), un.kx), -geo.pl);
                Value* xAt = sAdd(b, sMul(b, sAdd(b, xRow, iw), d.C), un.c0);
                Value* dyAt = sAdd(b, sMul(b, sAdd(b, dyRow, ow), d.F), f0);
                std::vector<Value*> dyv;
                for (int64_t j = 0; j < nv; ++j) dyv.push_back(v.load(DY, sAdd(b, dyAt, j * L), active(j)));
                for (int64_t q = 0; q < nc; ++q) {
                  Value* xb = v.splat(tb.load(X, sAdd(b, xAt, q)));
                  for (int64_t j = 0; j < nv; ++j) {
                    llvm::AllocaInst* a = acc[static_cast<size_t>(set * block + q * nv + j)];
                    v.set(a, v.fma(xb, dyv[static_cast<size_t>(j)], v.get(a)));
                  }
                }
              };
              if (sets == 1) {
                tb.loop(owLo, owHi, [&](Value* ow) { pixel(ow, 0); }, "ow");
                return;
              }
              Value* count = tb.smax(b.CreateNSWSub(owHi, owLo), tb.i64(0));
              Value* pairs = b.CreateUDiv(count, tb.i64(2));
              tb.loop(tb.i64(0), pairs, [&](Value* i) {
                Value* ow = sAdd(b, owLo, sMul(b, i, 2));
                pixel(ow, 0);
                pixel(sAdd(b, ow, 1), 1);
              }, "ow2");
              tb.ifThen(b.CreateICmpNE(b.CreateURem(count, tb.i64(2)), tb.i64(0)),
                        [&] { pixel(sAdd(b, owLo, sMul(b, pairs, 2)), 0); });
            }, "oh");
            for (int64_t q = 0; q < nc; ++q)
              for (int64_t j = 0; j < nv; ++j) {
                Value* sum = v.get(acc[static_cast<size_t>(q * nv + j)]);
                if (sets == 2) sum = b.CreateFAdd(sum, v.get(acc[static_cast<size_t>(block + q * nv + j)]));
                v.store(DW, sAdd(b, dwAt, q * d.F + j * L), sum, active(j));
              }
          }, "fb");
        };
        if (cTail == 0) return micro(channels);
        Value* last = b.CreateICmpEQ(un.block, tb.i64(cBlocks - 1));
        tb.ifThen(b.CreateNot(last), [&] { micro(channels); });
        tb.ifThen(last, [&] { micro(cTail); });
      }, "unit");
    }, "tile");
  }, "n");
  tb.finish(Extent{d.KH * d.KW * cBlocks, false}, Extent{N.k * d.OH * d.OW * channels * d.F * 2, N.batched});
  return {};
}

}  // namespace nnc::codegen
