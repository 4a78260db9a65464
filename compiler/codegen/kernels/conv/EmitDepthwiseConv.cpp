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

Result<void> emitDepthwiseForward(KernelContext& kc, const GroupedConvDims& gd) {
  const Node& n = kc.root();
  bool epilogue = !kc.kernel.epilogue.empty();
  NodeId X = n.inputs[0], Wt = n.inputs[1], Y = epilogue ? kc.kernel.epilogue.back() : kc.kernel.root;
  const Shape& ys = n.type.shape;
  const ConvDims& d = gd.d;
  const Window& geo = d.geo;
  const VectorUnit vu = convVectorUnit();
  const int64_t L = vu.lanes, M = gd.Fg;
  // Register block: pixels x vectors accumulators, `vectors` filter vectors, one input vector.
  // Four vectors (two pixels on AVX2): wider channel runs per block measured faster than
  // more pixels (56x56x64, 3x3: 0.75-0.93x oneDNN against 0.6-0.7x with two vectors).
  int64_t vectors = std::min<int64_t>((d.F + L - 1) / L, 4);
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
    // Pixel blocks outside, channel blocks inside: the block's input pixels (all channels)
    // stay in L1 while every channel block reads them.
    forBlocks(tb, 0, d.OW, pixels, [&](Value* ow0, int64_t np) {
      forBlocks(tb, 0, d.F, vectors * L, [&](Value* f0, int64_t fWidth) {
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
                Value* wAt = sAdd(b, sMul(b, sAdd(b, sMul(b, ky, d.KW), kx), d.F), f0);
                std::vector<Value*> wv;
                for (int64_t j = 0; j < nv; ++j) wv.push_back(v.load(Wt, sAdd(b, wAt, j * L), active(j)));
                for (int64_t p = 0; p < np; ++p) {
                  TapColumn t = tapColumn(tb, geo, d.W, sAdd(b, ow0, p), kx);
                  Value* xPixel = sMul(b, sAdd(b, xRow, interior ? t.column : t.clamped), d.C);
                  for (int64_t j = 0; j < nv; ++j) {
                    Value* xv = depthwiseInput(tb, v, X, xPixel, sAdd(b, f0, j * L), M, active(j));
                    if (!interior) xv = keepInside(tb, xv, t.inside);
                    llvm::AllocaInst* a = acc[static_cast<size_t>(p * nv + j)];
                    v.set(a, v.fma(xv, wv[static_cast<size_t>(j)], v.get(a)));
                  }
                }
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
    }, "owb");
  }, "row");
  Extent rows{(ys[0] == kBatch ? 1 : ys[0]) * d.OH, ys.isBatched()};
  tb.finish(rows, Extent{d.OW * d.KH * d.KW * d.F * 2, false});
  return {};
}

// Input gradient with M = 1: dx[n, ih, iw, c] = sum over (ky, kx) of dy[n, oh, ow, c] * w[ky, kx, 0, c]
// where oh*sh = ih + pt - ky*dh and ow*sw = iw + pl - kx*dw. Vectors over c, blocks of
// `pixels` input columns; parallel range: input rows (n, ih).
Result<void> emitDepthwiseGradInput(KernelContext& kc, const GroupedConvDims& gd) {
  const Node& n = kc.root();
  NodeId DY = n.inputs[0], Wt = n.inputs[1], DX = kc.kernel.root;
  const Shape& xs = n.type.shape;
  const ConvDims& d = gd.d;
  const Window& geo = d.geo;
  const VectorUnit vu = convVectorUnit();
  const int64_t L = vu.lanes;
  int64_t vectors = std::min<int64_t>((d.C + L - 1) / L, 4);  // as the forward's blocks
  int64_t pixels = std::clamp<int64_t>((vu.registers - vectors - 1) / vectors, 1, 8);

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  ConvVectors v(tb);
  auto& b = tb.b();
  tb.loop(tb.begin(), tb.end(), [&](Value* r) {  // r = n * H + ih
    Value* img = b.CreateUDiv(r, tb.i64(d.H));
    Value* ih = b.CreateURem(r, tb.i64(d.H));
    Value* dyImageRow = sMul(b, img, d.OH);
    Value* dxRow = sMul(b, r, d.W * d.C);
    // Pixels outside, as the forward; in phases, so that a block's taps are valid together.
    forPhaseBlocks(tb, d.W, geo.sw, pixels, [&](int64_t ph, Value* q0, int64_t np) {
      forBlocks(tb, 0, d.C, vectors * L, [&](Value* c0, int64_t cWidth) {
        int64_t nv = (cWidth + L - 1) / L;
        auto active = [&](int64_t j) { return std::min<int64_t>(L, cWidth - j * L); };
        std::vector<llvm::AllocaInst*> acc = v.accumulators(static_cast<size_t>(np * nv));
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
                  Value* wAt = sAdd(b, sMul(b, sAdd(b, sMul(b, ky, d.KW), kx), d.F), c0);
                  std::vector<Value*> wv;
                  for (int64_t j = 0; j < nv; ++j) wv.push_back(v.load(Wt, sAdd(b, wAt, j * L), active(j)));
                  for (int64_t p = 0; p < np; ++p) {
                    const size_t pi = static_cast<size_t>(p);
                    Value* dyAt = sAdd(b, sMul(b, sAdd(b, dyRow, inner ? tap.unclamped[pi] : tap.column[pi]), d.F), c0);
                    for (int64_t j = 0; j < nv; ++j) {
                      Value* dyv = v.load(DY, sAdd(b, dyAt, j * L), active(j));
                      if (!inner) dyv = keepInside(tb, dyv, tap.inside[pi]);
                      llvm::AllocaInst* a = acc[static_cast<size_t>(p * nv + j)];
                      v.set(a, v.fma(dyv, wv[static_cast<size_t>(j)], v.get(a)));
                    }
                  }
                });
              }, "kx");
            });
          }, "ky");
        });
        for (int64_t p = 0; p < np; ++p) {
          Value* iw = sAdd(b, sMul(b, sAdd(b, q0, p), geo.sw), ph);
          Value* at = sAdd(b, sAdd(b, dxRow, sMul(b, iw, d.C)), c0);
          for (int64_t j = 0; j < nv; ++j)
            v.store(DX, sAdd(b, at, j * L), v.get(acc[static_cast<size_t>(p * nv + j)]), active(j));
        }
      }, "cb");
    });
  }, "row");
  Extent rows{(xs[0] == kBatch ? 1 : xs[0]) * d.H, xs.isBatched()};
  tb.finish(rows, Extent{d.W * d.KH * d.KW * d.C * 2, false});
  return {};
}

// Filter gradient: dw[ky, kx, 0, f] = sum over (n, oh, ow) of x[n, ih, iw, f / M] * dy[n, oh, ow, f].
// Parallel range: units (vector of filters, block of taps); each unit keeps one accumulator
// per tap of its block in registers over a tile of output rows (one pass over its dy), taps
// on padding zeroed (ConvTaps.h), then stores; tiles are shared by the units while in L2.
Result<void> emitDepthwiseGradFilter(KernelContext& kc, const GroupedConvDims& gd) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  NodeId X = n.inputs[0], DY = n.inputs[1], DW = kc.kernel.root;
  const Shape& xs = g.type(X).shape;
  const ConvDims& d = gd.d;
  const Window& geo = d.geo;
  Extent N = dimExtent(xs[0]);
  const VectorUnit vu = convVectorUnit();
  const int64_t L = vu.lanes, M = gd.Fg;
  const int64_t taps = d.KH * d.KW;
  int64_t tapBlock = std::clamp<int64_t>(vu.registers - 3, 1, taps);
  int64_t tapBlocks = (taps + tapBlock - 1) / tapBlock;
  int64_t fBlocks = (d.F + L - 1) / L, fTail = d.F % L;

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  ConvVectors v(tb);
  auto& b = tb.b();
  // Calls body(f0, active lanes, first tap) for unit u = tap block * fBlocks + filter vector.
  auto forUnit = [&](Value* u, const std::function<void(Value*, int64_t, int64_t)>& body) {
    Value* fb = b.CreateURem(u, tb.i64(fBlocks));
    Value* tblk = b.CreateUDiv(u, tb.i64(fBlocks));
    Value* f0 = sMul(b, fb, L);
    for (int64_t tbk = 0; tbk < tapBlocks; ++tbk) {
      tb.ifThen(b.CreateICmpEQ(tblk, tb.i64(tbk)), [&] {
        if (fTail == 0) return body(f0, L, tbk * tapBlock);
        Value* last = b.CreateICmpEQ(fb, tb.i64(fBlocks - 1));
        tb.ifThen(b.CreateNot(last), [&] { body(f0, L, tbk * tapBlock); });
        tb.ifThen(last, [&] { body(f0, fTail, tbk * tapBlock); });
      });
    }
  };
  // Zero this task's blocks of dw: the sums start from +0.
  tb.loop(tb.begin(), tb.end(), [&](Value* u) {
    forUnit(u, [&](Value* f0, int64_t act, int64_t t0) {
      for (int64_t t = t0; t < std::min(t0 + tapBlock, taps); ++t) v.store(DW, sAdd(b, f0, t * d.F), v.zero(), act);
    });
  }, "zero");
  // Output rows in tiles whose x and dy (about 128 KiB) stay in L2 while every unit of the task
  // reads its channels of them: without tiling each unit would stream the whole of both.
  // Each unit's accumulators are reloaded per tile: every element stays one FMA chain over
  // (n, oh, ow) in order.
  int64_t rowBytes = d.OW * d.F * 4 + d.W * d.C * 4 * std::max<int64_t>(1, geo.sh);
  int64_t tileRows = std::clamp<int64_t>(131072 / std::max<int64_t>(1, rowBytes), 1, d.OH);
  int64_t tiles = (d.OH + tileRows - 1) / tileRows;
  tb.loop(tb.i64(0), tb.extent(N), [&](Value* img) {
    tb.loop(tb.i64(0), tb.i64(tiles), [&](Value* tile) {
      Value* ohLo = sMul(b, tile, tileRows);
      Value* ohHi = tb.smin(sAdd(b, ohLo, tileRows), tb.i64(d.OH));
      tb.loop(tb.begin(), tb.end(), [&](Value* u) {
        forUnit(u, [&](Value* f0, int64_t act, int64_t t0) {
          int64_t nt = std::min(tapBlock, taps - t0);
          std::vector<llvm::AllocaInst*> acc = v.accumulators(static_cast<size_t>(nt));
          for (int64_t t = 0; t < nt; ++t) v.set(acc[static_cast<size_t>(t)], v.load(DW, sAdd(b, f0, (t0 + t) * d.F), act));
          tb.loop(ohLo, ohHi, [&](Value* oh) {
            Value* ihBase = sAdd(b, sMul(b, oh, geo.sh), -geo.pt);
            Value* rowsInside = b.CreateAnd(b.CreateICmpSGE(ihBase, tb.i64(0)),
                                            b.CreateICmpSLT(sAdd(b, ihBase, (d.KH - 1) * geo.dh), tb.i64(d.H)));
            Value* dyRow = sMul(b, sAdd(b, sMul(b, img, d.OH), oh), d.OW);
            Value* xImageRow = sMul(b, img, d.H);
            tb.loop(tb.i64(0), tb.i64(d.OW), [&](Value* ow) {
              Value* dyv = v.load(DY, sAdd(b, sMul(b, sAdd(b, dyRow, ow), d.F), f0), act);
              Value* interior = b.CreateAnd(rowsInside, blockInterior(tb, geo, d.W, ow, 1));
              splitInterior(tb, interior, [&](bool inner) {
                for (int64_t t = 0; t < nt; ++t) {
                  int64_t ky = (t0 + t) / d.KW, kx = (t0 + t) % d.KW;
                  Value* ih = sAdd(b, ihBase, ky * geo.dh);
                  TapColumn col = tapColumn(tb, geo, d.W, ow, tb.i64(kx));
                  Value* inside = nullptr;
                  if (!inner) {
                    inside = b.CreateAnd(col.inside, b.CreateAnd(b.CreateICmpSGE(ih, tb.i64(0)),
                                                                 b.CreateICmpSLT(ih, tb.i64(d.H))));
                    ih = tb.smin(tb.smax(ih, tb.i64(0)), tb.i64(d.H - 1));
                  }
                  Value* xPixel =
                      sMul(b, sAdd(b, sMul(b, sAdd(b, xImageRow, ih), d.W), inner ? col.column : col.clamped), d.C);
                  Value* xv = depthwiseInput(tb, v, X, xPixel, f0, M, act);
                  if (!inner) xv = keepInside(tb, xv, inside);
                  llvm::AllocaInst* a = acc[static_cast<size_t>(t)];
                  v.set(a, v.fma(xv, dyv, v.get(a)));
                }
              });
            }, "ow");
          }, "oh");
          for (int64_t t = 0; t < nt; ++t)
            v.store(DW, sAdd(b, f0, (t0 + t) * d.F), v.get(acc[static_cast<size_t>(t)]), act);
        });
      }, "unit");
    }, "tile");
  }, "n");
  tb.finish(Extent{fBlocks * tapBlocks, false}, Extent{N.k * d.OH * d.OW * L * std::min(tapBlock, taps) * 2, N.batched});
  return {};
}

}  // namespace

Result<void> emitConv2DVariant(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  GroupedConvDims gd = groupedConvDims(n, g.type(n.inputs[0]).shape, g.type(n.inputs[1]).shape, n.type.shape);
  if (depthwiseFits(gd, convVectorUnit().lanes)) return emitDepthwiseForward(kc, gd);
  return emitGroupedConv2D(kc);
}

Result<void> emitConv2DGradInputVariant(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  GroupedConvDims gd = groupedConvDims(n, n.type.shape, g.type(n.inputs[1]).shape, g.type(n.inputs[0]).shape);
  if (gd.Cg == 1 && gd.Fg == 1) return emitDepthwiseGradInput(kc, gd);
  return emitGroupedConv2DGradInput(kc);
}

Result<void> emitConv2DGradFilterVariant(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Node& n = kc.root();
  GroupedConvDims gd = groupedConvDims(n, g.type(n.inputs[0]).shape, n.type.shape, g.type(n.inputs[1]).shape);
  if (depthwiseFits(gd, convVectorUnit().lanes)) return emitDepthwiseGradFilter(kc, gd);
  return emitGroupedConv2DGradFilter(kc);
}

}  // namespace nnc::codegen
