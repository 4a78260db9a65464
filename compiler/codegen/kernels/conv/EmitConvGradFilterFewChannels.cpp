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

#include "compiler/codegen/kernels/conv/ConvRegisterBlock.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

// A unit u = ((ky * kBlocks + column block) * C + c) * fVectors + f vector, and its valid
// output rows in the current tile.
struct FewChannelsUnit {
  Value *ky, *kx0, *c, *f0, *lastBlock, *lastVector;
  Value *img, *ohLo, *ohHi;
};

class FewChannelsGradFilter {
 public:
  FewChannelsGradFilter(KernelContext& kc, const ConvDims& d, Extent N)
      : kc_(kc), d_(d), N_(N), tb_(kc.entry, kc.taskName(), kc.buffers()), v_(tb_), b_(tb_.b()) {
    const VectorUnit vu = convVectorUnit();
    L_ = vu.lanes;
    fVectors_ = (d.F + L_ - 1) / L_;
    // Registers: nk accumulators (two sets when nk is under the 8 chains that hide the FMA
    // latency), the dy vector and one broadcast.
    nk_ = pickBlock(d.KW, (vu.registers - 2) / 2);
    kBlocks_ = (d.KW + nk_ - 1) / nk_;
  }

  void emit() {
    const Window& geo = d_.geo;
    // Output rows in tiles whose dy (about 16 KiB) stays in L1 while every unit of the task
    // reads it.
    const int64_t tileRows = std::clamp<int64_t>(16384 / std::max<int64_t>(1, d_.OW * d_.F * 4), 1, d_.OH);
    auto zero = [&](Value* u) {
      FewChannelsUnit un = unitOf(u);
      withWidths(un, [&](int64_t nc, int64_t active) {
        for (int64_t k = 0; k < nc; ++k) v_.store(kc_.kernel.root, dwAt(un, k), v_.zero(), active);
      });
    };
    forFilterGradientTiles(tb_, N_, d_.OH, tileRows, zero, [&](Value* img, Value* tileLo, Value* u) {
      FewChannelsUnit un = unitOf(u);
      un.img = img;
      withWidths(un, [&](int64_t nc, int64_t active) {
        un.ohLo = tb_.smax(firstValidOutput(tb_, un.ky, geo.pt, geo.sh), tileLo);
        un.ohHi = tb_.smin(endValidOutput(tb_, un.ky, geo.pt, geo.sh, d_.H, d_.OH), sAdd(b_, tileLo, tileRows));
        block(un, nc, active);
      });
    });
    int64_t units = d_.KH * kBlocks_ * d_.C * fVectors_;
    tb_.finish(Extent{units, false}, Extent{N_.k * d_.OH * d_.OW * nk_ * L_ * 2, N_.batched});
  }

 private:
  FewChannelsUnit unitOf(Value* u) {
    Value* fv = b_.CreateURem(u, tb_.i64(fVectors_));
    Value* rest = b_.CreateUDiv(u, tb_.i64(fVectors_));
    Value* c = b_.CreateURem(rest, tb_.i64(d_.C));
    Value* kk = b_.CreateUDiv(rest, tb_.i64(d_.C));
    Value* kb = b_.CreateURem(kk, tb_.i64(kBlocks_));
    return FewChannelsUnit{b_.CreateUDiv(kk, tb_.i64(kBlocks_)), sMul(b_, kb, nk_), c, sMul(b_, fv, L_),
                           b_.CreateICmpEQ(kb, tb_.i64(kBlocks_ - 1)), b_.CreateICmpEQ(fv, tb_.i64(fVectors_ - 1)),
                           nullptr, nullptr, nullptr};
  }

  // Runs body(columns, lanes) with the unit's compile-time widths (the last column block and
  // the last vector of f may be narrower).
  void withWidths(const FewChannelsUnit& un, const std::function<void(int64_t, int64_t)>& body) {
    withTailWidth(tb_, un.lastBlock, nk_, d_.KW % nk_, [&](int64_t columns) {
      withTailWidth(tb_, un.lastVector, L_, d_.F % L_, [&](int64_t lanes) { body(columns, lanes); });
    });
  }

  // dw of column k of the unit's block, at its vector of f.
  Value* dwAt(const FewChannelsUnit& un, int64_t k) {
    Value* kx = sAdd(b_, un.kx0, k);
    return sAdd(b_, sMul(b_, sAdd(b_, sMul(b_, sAdd(b_, sMul(b_, un.ky, d_.KW), kx), d_.C), un.c), d_.F), un.f0);
  }

  // The unit's nc columns over its rows of the tile. Each output row's pixels split into an
  // interior, where every column of the block lands inside the image, and borders where
  // column k runs alone.
  void block(const FewChannelsUnit& un, int64_t nc, int64_t active) {
    const Window& geo = d_.geo;
    // Column k's valid pixels are [lo[k], hi[k]); both fall as k grows, so the pixels valid
    // for every column of the block are [lo[0], hi[nc - 1]).
    std::vector<Value*> lo, hi;
    for (int64_t k = 0; k < nc; ++k) {
      Value* kx = sAdd(b_, un.kx0, k);
      lo.push_back(firstValidOutput(tb_, kx, geo.pl, geo.sw));
      hi.push_back(endValidOutput(tb_, kx, geo.pl, geo.sw, d_.W, d_.OW));
    }
    Value* interiorLo = lo[0];
    Value* interiorHi = tb_.smax(hi[static_cast<size_t>(nc - 1)], interiorLo);
    const int64_t sets = nc >= 8 ? 1 : 2;
    RegisterBlock acc(v_, nc, 1, active, sets);
    acc.load(kc_.kernel.root, [&](int64_t k) { return dwAt(un, k); });
    tb_.loop(un.ohLo, un.ohHi, [&](Value* oh) {
      Value* ih = sAdd(b_, sAdd(b_, sMul(b_, oh, geo.sh), un.ky), -geo.pt);
      Value* xRow = sMul(b_, sAdd(b_, sMul(b_, un.img, d_.H), ih), d_.W);
      Value* dyRow = sMul(b_, sAdd(b_, sMul(b_, un.img, d_.OH), oh), d_.OW);
      // Output pixel ow into columns [k0, k1) of set `set`.
      auto pixel = [&](Value* ow, int64_t k0, int64_t k1, int64_t set) {
        Value* dyv = v_.load(kc_.root().inputs[1], sAdd(b_, sMul(b_, sAdd(b_, dyRow, ow), d_.F), un.f0), active);
        Value* iw0 = sAdd(b_, sAdd(b_, sMul(b_, ow, geo.sw), un.kx0), -geo.pl);  // column 0's
        std::vector<int64_t> ks;
        for (int64_t k = k0; k < k1; ++k) ks.push_back(k);
        acc.outer({dyv}, [&](int64_t k) {
          return v_.splat(tb_.load(kc_.root().inputs[0], sAdd(b_, sMul(b_, sAdd(b_, sAdd(b_, xRow, iw0), k), d_.C), un.c)));
        }, ks, set);
      };
      // Left border: column k alone over [lo[k], interiorLo).
      for (int64_t k = 1; k < nc; ++k)
        tb_.loop(lo[static_cast<size_t>(k)], tb_.smin(interiorLo, hi[static_cast<size_t>(k)]),
                 [&](Value* ow) { pixel(ow, k, k + 1, 0); }, "owl");
      // The interior. With two sets, in pairs (ow to set 0, ow + 1 to set 1, as forPixelSets
      // splits them) whose columns share their x values: nc + sw broadcasts, not 2 nc.
      auto pair = [&](Value* ow) {
        Value* dyv[2];
        for (int64_t p = 0; p < 2; ++p)
          dyv[p] = v_.load(kc_.root().inputs[1], sAdd(b_, sMul(b_, sAdd(b_, dyRow, sAdd(b_, ow, p)), d_.F), un.f0), active);
        Value* iw0 = sAdd(b_, sAdd(b_, sMul(b_, ow, geo.sw), un.kx0), -geo.pl);  // pixel 0's column 0
        for (int64_t e = 0; e < nc + geo.sw; ++e) {
          Value* xv = nullptr;
          for (int64_t p = 0; p < 2; ++p) {
            int64_t k = e - p * geo.sw;
            if (k < 0 || k >= nc) continue;
            if (!xv) xv = v_.splat(tb_.load(kc_.root().inputs[0], sAdd(b_, sMul(b_, sAdd(b_, xRow, sAdd(b_, iw0, e)), d_.C), un.c)));
            acc.fma(k, 0, xv, dyv[p], p);
          }
        }
      };
      if (sets == 1) {
        forPixelSets(tb_, interiorLo, interiorHi, 1, [&](Value* ow, int64_t set) { pixel(ow, 0, nc, set); });
      } else {
        Value* count = tb_.smax(b_.CreateNSWSub(interiorHi, interiorLo), tb_.i64(0));
        Value* pairs = b_.CreateUDiv(count, tb_.i64(2));
        tb_.loop(tb_.i64(0), pairs, [&](Value* i) { pair(sAdd(b_, interiorLo, sMul(b_, i, 2))); }, "ow2");
        tb_.ifThen(b_.CreateICmpNE(b_.CreateURem(count, tb_.i64(2)), tb_.i64(0)),
                   [&] { pixel(sAdd(b_, interiorLo, sMul(b_, pairs, 2)), 0, nc, 0); });
      }
      // Right border: column k alone over [interiorHi, hi[k]).
      for (int64_t k = 0; k + 1 < nc; ++k)
        tb_.loop(tb_.smax(interiorHi, lo[static_cast<size_t>(k)]), hi[static_cast<size_t>(k)],
                 [&](Value* ow) { pixel(ow, k, k + 1, 0); }, "owr");
    }, "oh");
    acc.store(kc_.kernel.root, [&](int64_t k) { return dwAt(un, k); });
  }

  KernelContext& kc_;
  ConvDims d_;
  Extent N_;
  TaskBuilder tb_;
  ConvVectors v_;
  llvm::IRBuilder<>& b_;
  int64_t L_ = 8, fVectors_ = 1, nk_ = 1, kBlocks_ = 1;
};

}  // namespace

Result<void> emitConv2DGradFilterFewChannels(KernelContext& kc, const ConvDims& d, Extent N) {
  FewChannelsGradFilter(kc, d, N).emit();
  return {};
}

}  // namespace nnc::codegen
