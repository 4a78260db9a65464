// The filter gradient of a convolution whose input has few channels (the first layer: C = 1
// for grey images, 3 for colour), where EmitConvBackward.cpp's block of channels x vectors
// of filters would hold a handful of accumulators and spend a load of dy for every FMA or
// two.
//
//   dw[ky, kx, c, f] = sum over (n, oh, ow) of x[n, oh*sh - pt + ky, ow*sw - pl + kx, c] * dy[n, oh, ow, f]
//
// Here a unit is (ky, a block of window columns kx, c, one vector of f). Its register block
// holds one accumulator per kx: each output pixel loads its dy vector once and broadcasts
// one x value per kx, so the block does nk FMAs per dy load. Units are many (KH x column
// blocks x C x vectors of F: 10 for the CNN example's first layer on AVX-512, 20 on AVX2),
// so both threads get work without splitting the summed (n, oh, ow).
//
// Each output row's pixels split into an interior, where every kx of the block lands inside
// the image, looped over without tests, and at most a few border pixels per kx on either
// side. Every element of dw is one FMA chain in an order fixed by the shape (interior pixels
// alternate between two chains when the block is too small to hide the FMA latency, joined
// at the end of each tile of rows), never by the thread split: results are bit-identical for
// every thread count.
#include <algorithm>

#include "compiler/codegen/kernels/conv/ConvKernels.h"

namespace nnc::codegen {

using llvm::Value;

Result<void> emitConv2DGradFilterFewChannels(KernelContext& kc, const ConvDims& d, Extent N) {
  const Node& n = kc.root();
  NodeId X = n.inputs[0], DY = n.inputs[1], DW = kc.kernel.root;
  const Window& geo = d.geo;
  const VectorUnit vu = convVectorUnit();
  const int64_t L = vu.lanes;

  const int64_t fVectors = (d.F + L - 1) / L, fTail = d.F % L;
  // Registers: nk accumulators (two sets when nk is under the 8 chains that hide the FMA
  // latency), the dy vector and one broadcast.
  const int64_t nk = pickBlock(d.KW, (vu.registers - 2) / 2);
  const int64_t kBlocks = (d.KW + nk - 1) / nk, kTail = d.KW % nk;
  const int64_t units = d.KH * kBlocks * d.C * fVectors;

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  ConvVectors v(tb);
  auto& b = tb.b();

  // A unit u = ((ky * kBlocks + column block) * C + c) * fVectors + f vector.
  struct Unit {
    Value *ky, *kx0, *c, *f0, *lastBlock, *lastVector;
  };
  auto unitOf = [&](Value* u) {
    Value* fv = b.CreateURem(u, tb.i64(fVectors));
    Value* rest = b.CreateUDiv(u, tb.i64(fVectors));
    Value* c = b.CreateURem(rest, tb.i64(d.C));
    Value* kk = b.CreateUDiv(rest, tb.i64(d.C));
    Value* kb = b.CreateURem(kk, tb.i64(kBlocks));
    return Unit{b.CreateUDiv(kk, tb.i64(kBlocks)), sMul(b, kb, nk), c, sMul(b, fv, L),
                b.CreateICmpEQ(kb, tb.i64(kBlocks - 1)), b.CreateICmpEQ(fv, tb.i64(fVectors - 1))};
  };
  // Runs body(columns, lanes) with the unit's compile-time widths (the last column block and
  // the last vector of f may be narrower).
  auto withWidths = [&](const Unit& un, const std::function<void(int64_t, int64_t)>& body) {
    auto lanes = [&](int64_t columns) {
      if (fTail == 0) return body(columns, L);
      tb.ifThen(b.CreateNot(un.lastVector), [&] { body(columns, L); });
      tb.ifThen(un.lastVector, [&] { body(columns, fTail); });
    };
    if (kTail == 0) return lanes(nk);
    tb.ifThen(b.CreateNot(un.lastBlock), [&] { lanes(nk); });
    tb.ifThen(un.lastBlock, [&] { lanes(kTail); });
  };
  // dw of column k of the unit's block, at its vector of f.
  auto dwAt = [&](const Unit& un, int64_t k) {
    Value* kx = sAdd(b, un.kx0, k);
    return sAdd(b, sMul(b, sAdd(b, sMul(b, sAdd(b, sMul(b, un.ky, d.KW), kx), d.C), un.c), d.F), un.f0);
  };

  // Zero this task's blocks of dw: the sums start from +0.
  tb.loop(tb.begin(), tb.end(), [&](Value* u) {
    Unit un = unitOf(u);
    withWidths(un, [&](int64_t nc, int64_t active) {
      for (int64_t k = 0; k < nc; ++k) v.store(DW, dwAt(un, k), v.zero(), active);
    });
  }, "zero");

  // Output rows are visited in tiles whose dy (about 16 KiB) stays in L1 while every unit
  // of the task reads it.
  const int64_t tileRows = std::clamp<int64_t>(16384 / std::max<int64_t>(1, d.OW * d.F * 4), 1, d.OH);
  const int64_t tiles = (d.OH + tileRows - 1) / tileRows;
  tb.loop(tb.i64(0), tb.extent(N), [&](Value* img) {
    tb.loop(tb.i64(0), tb.i64(tiles), [&](Value* tile) {
      Value* tileLo = sMul(b, tile, tileRows);
      tb.loop(tb.begin(), tb.end(), [&](Value* u) {
        Unit un = unitOf(u);
        withWidths(un, [&](int64_t nc, int64_t active) {
          Value* ohLo = tb.smax(firstValidOutput(tb, un.ky, geo.pt, geo.sh), tileLo);
          Value* ohHi = tb.smin(endValidOutput(tb, un.ky, geo.pt, geo.sh, d.H, d.OH), sAdd(b, tileLo, tileRows));
          // Column k's valid pixels are [lo[k], hi[k]); both fall as k grows, so the pixels
          // valid for every column of the block are [lo[0], hi[nc - 1]).
          std::vector<Value*> lo, hi;
          for (int64_t k = 0; k < nc; ++k) {
            Value* kx = sAdd(b, un.kx0, k);
            lo.push_back(firstValidOutput(tb, kx, geo.pl, geo.sw));
            hi.push_back(endValidOutput(tb, kx, geo.pl, geo.sw, d.W, d.OW));
          }
          Value* interiorLo = lo[0];
          Value* interiorHi = tb.smax(hi[static_cast<size_t>(nc - 1)], interiorLo);

          const int64_t setsHere = nc >= 8 ? 1 : 2;
          std::vector<llvm::AllocaInst*> acc = v.accumulators(static_cast<size_t>(setsHere * nc));
          for (int64_t k = 0; k < nc; ++k) {
            v.set(acc[static_cast<size_t>(k)], v.load(DW, dwAt(un, k), active));
            if (setsHere == 2) v.set(acc[static_cast<size_t>(nc + k)], v.zero());
          }
          tb.loop(ohLo, ohHi, [&](Value* oh) {
            Value* ih = sAdd(b, sAdd(b, sMul(b, oh, geo.sh), un.ky), -geo.pt);
            Value* xRow = sMul(b, sAdd(b, sMul(b, img, d.H), ih), d.W);
            Value* dyRow = sMul(b, sAdd(b, sMul(b, img, d.OH), oh), d.OW);
            // Output pixel ow into columns [k0, k1) of set `set`.
            auto pixel = [&](Value* ow, int64_t k0, int64_t k1, int64_t set) {
              Value* dyv = v.load(DY, sAdd(b, sMul(b, sAdd(b, dyRow, ow), d.F), un.f0), active);
              Value* iw0 = sAdd(b, sAdd(b, sMul(b, ow, geo.sw), un.kx0), -geo.pl);  // column 0's
              for (int64_t k = k0; k < k1; ++k) {
                Value* xb = v.splat(tb.load(X, sAdd(b, sMul(b, sAdd(b, sAdd(b, xRow, iw0), k), d.C), un.c)));
                llvm::AllocaInst* a = acc[static_cast<size_t>(set * nc + k)];
                v.set(a, v.fma(xb, dyv, v.get(a)));
              }
            };
            // Left border: column k alone over [lo[k], interiorLo).
            for (int64_t k = 1; k < nc; ++k)
              tb.loop(lo[static_cast<size_t>(k)], tb.smin(interiorLo, hi[static_cast<size_t>(k)]),
                      [&](Value* ow) { pixel(ow, k, k + 1, 0); }, "owl");
            if (setsHere == 1) {
              tb.loop(interiorLo, interiorHi, [&](Value* ow) { pixel(ow, 0, nc, 0); }, "ow");
            } else {
              Value* count = b.CreateNSWSub(interiorHi, interiorLo);
              Value* pairs = b.CreateUDiv(count, tb.i64(2));
              tb.loop(tb.i64(0), pairs, [&](Value* i) {
                Value* ow = sAdd(b, interiorLo, sMul(b, i, 2));
                pixel(ow, 0, nc, 0);
                pixel(sAdd(b, ow, 1), 0, nc, 1);
              }, "ow2");
              tb.ifThen(b.CreateICmpNE(b.CreateURem(count, tb.i64(2)), tb.i64(0)),
                        [&] { pixel(sAdd(b, interiorLo, sMul(b, pairs, 2)), 0, nc, 0); });
            }
            // Right border: column k alone over [interiorHi, hi[k]).
            for (int64_t k = 0; k + 1 < nc; ++k)
              tb.loop(tb.smax(interiorHi, lo[static_cast<size_t>(k)]), hi[static_cast<size_t>(k)],
                      [&](Value* ow) { pixel(ow, k, k + 1, 0); }, "owr");
          }, "oh");
          for (int64_t k = 0; k < nc; ++k) {
            Value* sum = v.get(acc[static_cast<size_t>(k)]);
            if (setsHere == 2) sum = b.CreateFAdd(sum, v.get(acc[static_cast<size_t>(nc + k)]));
            v.store(DW, dwAt(un, k), sum, active);
          }
        });
      }, "unit");
    }, "tile");
  }, "n");
  tb.finish(Extent{units, false}, Extent{N.k * d.OH * d.OW * nk * L * 2, N.batched});
  return {};
}

}  // namespace nnc::codegen
