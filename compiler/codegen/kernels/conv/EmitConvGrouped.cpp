// Grouped and dilated 2-D convolutions (groups G > 1 with more than one channel per group,
// or any dilation), forward and both gradients; depthwise ones (one channel per group) go to
// EmitDepthwiseConv.cpp. The same register blocks as EmitConv.cpp / EmitConvBackward.cpp,
// run per group, with taps on padding handled by ConvTaps.h (interior blocks untested).
//   y[n, oh, ow, g*Fg + f]  = sum over (ky, kx, c < Cg) of
//                             x[n, oh*sh - pt + ky*dh, ow*sw - pl + kx*dw, g*Cg + c] * w[ky, kx, c, g*Fg + f]
// Every output element is one FMA chain in an order fixed by the shape: bit-identical for
// every thread count.
#include <algorithm>

#include "compiler/codegen/kernels/conv/ConvTaps.h"

namespace nnc::codegen {

using llvm::Value;

// Parallel range: output rows (n, oh). Register block: `pixels` output pixels x `vectors`
// vectors of one group's filters, filled by broadcast-FMA over (ky, kx, c).
Result<void> emitGroupedConv2D(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  bool epilogue = !kc.kernel.epilogue.empty();
  NodeId X = n.inputs[0], Wt = n.inputs[1], Y = epilogue ? kc.kernel.epilogue.back() : kc.kernel.root;
  const Shape &xs = g.type(X).shape, &ys = n.type.shape;
  const GroupedConvDims gd = groupedConvDims(n, xs, g.type(Wt).shape, ys);
  const ConvDims& d = gd.d;
  const Window& geo = d.geo;

  const VectorUnit vu = convVectorUnit();
  const int64_t L = vu.lanes;
  int64_t vectors = std::min<int64_t>((gd.Fg + L - 1) / L, 2);
  int64_t pixels = std::clamp<int64_t>((vu.registers - vectors - 1) / vectors, 1, 8);

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  ConvVectors v(tb);
  auto& b = tb.b();
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = n * OH + oh
    Value* img = b.CreateUDiv(r, tb.i64(d.OH));
    Value* oh = b.CreateURem(r, tb.i64(d.OH));
    Value* ihBase = sAdd(b, sMul(b, oh, geo.sh), -geo.pt);
    Value* xImageRow = sMul(b, img, d.H);
    Value* yRow = sMul(b, r, d.OW * d.F);
    // Pixel blocks outside: their input pixels stay in L1 while every group reads them.
    forBlocks(tb, 0, d.OW, pixels, [&](Value* ow0, int64_t np) {
      tb.loop(tb.i64(0), tb.i64(gd.G), [&](Value* grp) {
        Value* cG = sMul(b, grp, gd.Cg);  // the group's first input channel
        forBlocks(tb, 0, gd.Fg, vectors * L, [&](Value* fIn, int64_t fWidth) {
          Value* f0 = sAdd(b, sMul(b, grp, gd.Fg), fIn);  // first filter of the block
          int64_t nv = (fWidth + L - 1) / L;
          auto active = [&](int64_t j) { return std::min<int64_t>(L, fWidth - j * L); };
          std::vector<llvm::AllocaInst*> acc = v.accumulators(static_cast<size_t>(np * nv));
          for (llvm::AllocaInst* a : acc) v.set(a, v.zero());
          splitInterior(tb, blockInterior(tb, geo, d.W, ow0, np), [&](bool interior) {
            tb.loop(tb.i64(0), tb.i64(d.KH), [&](Value* ky) {
              Value* ih = sAdd(b, ihBase, sMul(b, ky, geo.dh));
              Value* rowInside = b.CreateAnd(b.CreateICmpSGE(ih, tb.i64(0)), b.CreateICmpSLT(ih, tb.i64(d.H)));
              tb.ifThen(rowInside, [&] {
                Value* xRow = sMul(b, sAdd(b, xImageRow, ih), d.W);
                tb.loop(tb.i64(0), tb.i64(d.KW), [&](Value* kx) {
                  std::vector<Value*> xAt, inside;
                  for (int64_t p = 0; p < np; ++p) {
                    TapColumn t = tapColumn(tb, geo, d.W, sAdd(b, ow0, p), kx);
                    xAt.push_back(sAdd(b, sMul(b, sAdd(b, xRow, interior ? t.column : t.clamped), d.C), cG));
                    inside.push_back(t.inside);
                  }
                  Value* wAt = sAdd(b, sMul(b, sMul(b, sAdd(b, sMul(b, ky, d.KW), kx), gd.Cg), d.F), f0);
                  tb.loop(tb.i64(0), tb.i64(gd.Cg), [&](Value* c) {
                    Value* wc = sAdd(b, wAt, sMul(b, c, d.F));
                    std::vector<Value*> wv;
                    for (int64_t j = 0; j < nv; ++j) wv.push_back(v.load(Wt, sAdd(b, wc, j * L), active(j)));
                    for (int64_t p = 0; p < np; ++p) {
                      Value* xsVal = tb.load(X, sAdd(b, xAt[static_cast<size_t>(p)], c));
                      if (!interior) xsVal = keepInside(tb, xsVal, inside[static_cast<size_t>(p)]);
                      Value* xb = v.splat(xsVal);
                      for (int64_t j = 0; j < nv; ++j) {
                        llvm::AllocaInst* a = acc[static_cast<size_t>(p * nv + j)];
                        v.set(a, v.fma(xb, wv[static_cast<size_t>(j)], v.get(a)));
                      }
                    }
                  }, "c");
                }, "kx");
              });
            }, "ky");
          });
          for (int64_t p = 0; p < np; ++p) {
            Value* yAt = sAdd(b, sAdd(b, yRow, sMul(b, sAdd(b, ow0, p), d.F)), f0);
            for (int64_t j = 0; j < nv; ++j)
              v.store(Y, sAdd(b, yAt, j * L), v.get(acc[static_cast<size_t>(p * nv + j)]), active(j));
            if (epilogue) {
              Value* pixel = sAdd(b, sMul(b, r, d.OW), sAdd(b, ow0, p));
              tb.loop(tb.i64(0), tb.i64(fWidth), [&](Value* c) {
                emitEpilogueElement(tb, kc.kernel, Y, ys, pixel, sAdd(b, f0, c), sAdd(b, yAt, c));
              }, "ec");
            }
          }
        }, "fb");
      }, "g");
    }, "owb");
  }, "row");
  Extent rows{(ys[0] == kBatch ? 1 : ys[0]) * d.OH, ys.isBatched()};
  tb.finish(rows, Extent{d.OW * d.KH * d.KW * gd.Cg * d.F * 2, false});
  return {};
}

// Input gradient: dx[n, ih, iw, g*Cg + c] = sum over (ky, kx, f < Fg) of dy[n, oh, ow, g*Fg + f] *
// w[ky, kx, c, g*Fg + f] where oh*sh = ih + pt - ky*dh and ow*sw = iw + pl - kx*dw (exactly, in
// range). Each element is a dot product over f: a block of `pixels` input columns x `channels`
// channels keeps one vector of partial sums per element (lanes over f), reduced at the end.
// Parallel range: input rows (n, ih).
Result<void> emitGroupedConv2DGradInput(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  NodeId DY = n.inputs[0], Wt = n.inputs[1], DX = kc.kernel.root;
  const Shape &dys = g.type(DY).shape, &xs = n.type.shape;
  const GroupedConvDims gd = groupedConvDims(n, xs, g.type(Wt).shape, dys);
  const ConvDims& d = gd.d;
  const Window& geo = d.geo;

  const VectorUnit vu = convVectorUnit();
  const int64_t L = vu.lanes;
  int64_t pixels = 4;
  int64_t channels = pickBlock(gd.Cg, (vu.registers - 1) / (pixels + 1));

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  ConvVectors v(tb);
  auto& b = tb.b();
  // Whether t (= o * s + k * dilation - pad ... solved for o) names a real output position.
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = n * H + ih
    Value* img = b.CreateUDiv(r, tb.i64(d.H));
    Value* ih = b.CreateURem(r, tb.i64(d.H));
    Value* dyImageRow = sMul(b, img, d.OH);
    Value* dxRow = sMul(b, r, d.W * d.C);
    // Pixel blocks outside (their dy stays in L1 for every group and channel block), in
    // phases, so that a block's taps are valid together (ConvTaps.h).
    forPhaseBlocks(tb, d.W, geo.sw, pixels, [&](int64_t ph, Value* q0, int64_t np) {
      tb.loop(tb.i64(0), tb.i64(gd.G), [&](Value* grp) {
        Value* fG = sMul(b, grp, gd.Fg);
        forBlocks(tb, 0, gd.Cg, channels, [&](Value* c0, int64_t nc) {
          std::vector<llvm::AllocaInst*> acc = v.accumulators(static_cast<size_t>(np * nc));
          for (llvm::AllocaInst* a : acc) v.set(a, v.zero());
          Value* interior = phaseBlockInterior(tb, ph, geo.pl, geo.sw, geo.dw, d.KW, d.OW, q0, np);
          splitInterior(tb, interior, [&](bool inner) {
            tb.loop(tb.i64(0), tb.i64(d.KH), [&](Value* ky) {
              auto [oh, rowOk] =
                  gradientOutput(tb, b.CreateNSWSub(sAdd(b, ih, geo.pt), sMul(b, ky, geo.dh)), geo.sh, d.OH);
              tb.ifThen(rowOk, [&] {
                Value* dyRow = sMul(b, sAdd(b, dyImageRow, oh), d.OW);
                tb.loop(tb.i64(0), tb.i64(d.KW), [&](Value* kx) {
                  PhaseTap tap = phaseTap(tb, ph, geo.pl, geo.sw, geo.dw, d.OW, kx, q0, np);
                  tb.ifThen(tap.uniform, [&] {
                    std::vector<Value*> dyAt;
                    for (int64_t p = 0; p < np; ++p) {
                      const size_t pi = static_cast<size_t>(p);
                      dyAt.push_back(sAdd(b, sMul(b, sAdd(b, dyRow, inner ? tap.unclamped[pi] : tap.column[pi]), d.F), fG));
                    }
                    Value* wRow =
                        sAdd(b, sMul(b, sAdd(b, sMul(b, sAdd(b, sMul(b, ky, d.KW), kx), gd.Cg), c0), d.F), fG);
                    forBlocks(tb, 0, gd.Fg, L, [&](Value* f, int64_t fw) {
                      std::vector<Value*> wv;
                      for (int64_t q = 0; q < nc; ++q)
                        wv.push_back(v.load(Wt, sAdd(b, sAdd(b, wRow, q * d.F), f), fw));
                      for (int64_t p = 0; p < np; ++p) {
                        Value* dyv = v.load(DY, sAdd(b, dyAt[static_cast<size_t>(p)], f), fw);
                        if (!inner) dyv = keepInside(tb, dyv, tap.inside[static_cast<size_t>(p)]);
                        for (int64_t q = 0; q < nc; ++q) {
                          llvm::AllocaInst* a = acc[static_cast<size_t>(p * nc + q)];
                          v.set(a, v.fma(dyv, wv[static_cast<size_t>(q)], v.get(a)));
                        }
                      }
                    }, "f");
                  });
                }, "kx");
              });
            }, "ky");
          });
          for (int64_t p = 0; p < np; ++p) {
            Value* iw = sAdd(b, sMul(b, sAdd(b, q0, p), geo.sw), ph);
            Value* at = sAdd(b, sAdd(b, sAdd(b, dxRow, sMul(b, iw, d.C)), sMul(b, grp, gd.Cg)), c0);
            for (int64_t q = 0; q < nc; ++q)
              tb.store(DX, sAdd(b, at, q), v.sum(v.get(acc[static_cast<size_t>(p * nc + q)])));
          }
        }, "cb");
      }, "g");
    });
  }, "row");
  Extent rows{(xs[0] == kBatch ? 1 : xs[0]) * d.H, xs.isBatched()};
  tb.finish(rows, Extent{d.W * d.KH * d.KW * gd.Cg * d.F * 2 / std::max<int64_t>(geo.sh * geo.sw, 1) + d.W * d.C, false});
  return {};
}

// Filter gradient: dw[ky, kx, c, g*Fg + f] = sum over (n, oh, ow) of
// x[n, oh*sh - pt + ky*dh, ow*sw - pl + kx*dw, g*Cg + c] * dy[n, oh, ow, g*Fg + f].
// Parallel range: units (ky, kx, group, block of `channels` channels), never the summed
// (n, oh, ow): each unit's block (channels x vectors of f) sums the valid pixels of a tile of
// output rows in registers (their ranges computed per unit, untested), then is stored.
Result<void> emitGroupedConv2DGradFilter(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  NodeId X = n.inputs[0], DY = n.inputs[1], DW = kc.kernel.root;
  const Shape &xs = g.type(X).shape, &dys = g.type(DY).shape, &dws = n.type.shape;
  const GroupedConvDims gd = groupedConvDims(n, xs, dws, dys);
  const ConvDims& d = gd.d;
  const Window& geo = d.geo;
  Extent N = dimExtent(xs[0]);

  const VectorUnit vu = convVectorUnit();
  const int64_t L = vu.lanes;
  int64_t vectors = std::min<int64_t>((gd.Fg + L - 1) / L, 2);
  int64_t channels = pickBlock(gd.Cg, (vu.registers - vectors - 1) / vectors);
  int64_t cBlocks = (gd.Cg + channels - 1) / channels, cTail = gd.Cg % channels;

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  ConvVectors v(tb);
  auto& b = tb.b();
  // A unit u = ((ky * KW + kx) * G + group) * cBlocks + block.
  struct GroupedUnit {
    Value *cb, *grp, *kk, *kyOff, *kxOff, *c0, *xC, *dwRow;
  };
  auto unitOf = [&](Value* u) {
    GroupedUnit un;
    un.cb = b.CreateURem(u, tb.i64(cBlocks));
    Value* rest = b.CreateUDiv(u, tb.i64(cBlocks));
    un.grp = b.CreateURem(rest, tb.i64(gd.G));
    un.kk = b.CreateUDiv(rest, tb.i64(gd.G));
    un.kyOff = sMul(b, b.CreateUDiv(un.kk, tb.i64(d.KW)), geo.dh);
    un.kxOff = sMul(b, b.CreateURem(un.kk, tb.i64(d.KW)), geo.dw);
    un.c0 = sMul(b, un.cb, channels);
    un.xC = sAdd(b, sMul(b, un.grp, gd.Cg), un.c0);
    un.dwRow = sAdd(b, sMul(b, un.kk, gd.Cg), un.c0);  // dw row of (ky, kx, c0)
    return un;
  };
  // Zero this task's blocks of dw: the sums start from +0.
  tb.loop(tb.begin(), tb.end(), [&](Value* u) {
    GroupedUnit un = unitOf(u);
    Value* rows = b.CreateNSWSub(tb.smin(sAdd(b, un.c0, channels), tb.i64(gd.Cg)), un.c0);
    tb.loop(tb.i64(0), rows, [&](Value* q) {
      Value* at = sAdd(b, sMul(b, sAdd(b, un.dwRow, q), d.F), sMul(b, un.grp, gd.Fg));
      tb.loop(tb.i64(0), tb.i64(gd.Fg), [&](Value* f) { tb.store(DW, sAdd(b, at, f), tb.f32(0.0)); }, "zf");
    }, "zq");
  }, "zero");
  // Output rows in tiles whose dy (about 16 KiB) stays in L1 while every unit of the task
  // reads it (as EmitConvBackward.cpp's filter gradient); each unit's block is reloaded per
  // tile, so every element stays one FMA chain over (n, oh, ow) in order.
  int64_t tileRows = std::clamp<int64_t>(16384 / std::max<int64_t>(1, d.OW * d.F * 4), 1, d.OH);
  int64_t tiles = (d.OH + tileRows - 1) / tileRows;
  tb.loop(tb.i64(0), tb.extent(N), [&](Value* img) {
    tb.loop(tb.i64(0), tb.i64(tiles), [&](Value* tile) {
      Value* tileLo = sMul(b, tile, tileRows);
      tb.loop(tb.begin(), tb.end(), [&](Value* u) {
        GroupedUnit un = unitOf(u);
        Value* ohLo = tb.smax(firstValidOutput(tb, un.kyOff, geo.pt, geo.sh), tileLo);
        Value* ohHi = tb.smin(endValidOutput(tb, un.kyOff, geo.pt, geo.sh, d.H, d.OH), sAdd(b, tileLo, tileRows));
        Value* owLo = firstValidOutput(tb, un.kxOff, geo.pl, geo.sw);
        Value* owHi = endValidOutput(tb, un.kxOff, geo.pl, geo.sw, d.W, d.OW);
        auto micro = [&](int64_t nc) {
          forBlocks(tb, 0, gd.Fg, vectors * L, [&](Value* fIn, int64_t fWidth) {
            Value* f0 = sAdd(b, sMul(b, un.grp, gd.Fg), fIn);
            int64_t nv = (fWidth + L - 1) / L;
            auto active = [&](int64_t j) { return std::min<int64_t>(L, fWidth - j * L); };
            Value* dwAt = sAdd(b, sMul(b, un.dwRow, d.F), f0);
            std::vector<llvm::AllocaInst*> acc = v.accumulators(static_cast<size_t>(nc * nv));
            for (int64_t q = 0; q < nc; ++q)
              for (int64_t j = 0; j < nv; ++j)
                v.set(acc[static_cast<size_t>(q * nv + j)], v.load(DW, sAdd(b, dwAt, q * d.F + j * L), active(j)));
            tb.loop(ohLo, ohHi, [&](Value* oh) {
              Value* ih = sAdd(b, sAdd(b, sMul(b, oh, geo.sh), un.kyOff), -geo.pt);
              Value* xRow = sMul(b, sAdd(b, sMul(b, img, d.H), ih), d.W);
              Value* dyRow = sMul(b, sAdd(b, sMul(b, img, d.OH), oh), d.OW);
              tb.loop(owLo, owHi, [&](Value* ow) {
                Value* iw = sAdd(b, sAdd(b, sMul(b, ow, geo.sw), un.kxOff), -geo.pl);
                Value* xAt = sAdd(b, sMul(b, sAdd(b, xRow, iw), d.C), un.xC);
                Value* dyAt = sAdd(b, sMul(b, sAdd(b, dyRow, ow), d.F), f0);
                std::vector<Value*> dyv;
                for (int64_t j = 0; j < nv; ++j) dyv.push_back(v.load(DY, sAdd(b, dyAt, j * L), active(j)));
                for (int64_t q = 0; q < nc; ++q) {
                  Value* xb = v.splat(tb.load(X, sAdd(b, xAt, q)));
                  for (int64_t j = 0; j < nv; ++j) {
                    llvm::AllocaInst* a = acc[static_cast<size_t>(q * nv + j)];
                    v.set(a, v.fma(xb, dyv[static_cast<size_t>(j)], v.get(a)));
                  }
                }
              }, "ow");
            }, "oh");
            for (int64_t q = 0; q < nc; ++q)
              for (int64_t j = 0; j < nv; ++j)
                v.store(DW, sAdd(b, dwAt, q * d.F + j * L), v.get(acc[static_cast<size_t>(q * nv + j)]), active(j));
          }, "fb");
        };
        if (cTail == 0) return micro(channels);
        Value* last = b.CreateICmpEQ(un.cb, tb.i64(cBlocks - 1));
        tb.ifThen(b.CreateNot(last), [&] { micro(channels); });
        tb.ifThen(last, [&] { micro(cTail); });
      }, "unit");
    }, "tile");
  }, "n");
  tb.finish(Extent{d.KH * d.KW * gd.G * cBlocks, false},
            Extent{N.k * d.OH * d.OW * channels * gd.Fg * 2, N.batched});
  return {};
}

}  // namespace nnc::codegen
