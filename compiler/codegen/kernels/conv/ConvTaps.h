#pragma once
// Internal to the grouped, dilated and depthwise convolution emitters (EmitConvGrouped.cpp,
// EmitDepthwiseConv.cpp): the geometry they share and the one register-block mechanism they
// all use for window taps that may fall on padding.
//
// A block of consecutive output pixels is "interior" at a row when every tap kx of every
// pixel reads a real input column; interior blocks run without any test. Other blocks read
// each tap through a clamped index and zero the value when the tap is padding (a select, not
// a branch), so the FMA order, and so every sum, is the same in both paths.
#include <functional>
#include <vector>

#include "compiler/codegen/kernels/conv/ConvKernels.h"

namespace nnc::codegen {

// A convolution's sizes with its groups: input H x W x C, filter KH x KW x Cg x F, output
// OH x OW x F, G groups of Cg = C / G channels and Fg = F / G filters.
struct GroupedConvDims {
  ConvDims d;
  int64_t G = 1, Cg = 1, Fg = 1;
};
GroupedConvDims groupedConvDims(const Node& n, const Shape& x, const Shape& w, const Shape& y);

// The state the grouped and depthwise emitters share: the task, its vectors and the
// convolution's sizes.
struct GroupedConvEmitter {
  GroupedConvEmitter(KernelContext& kc, const GroupedConvDims& gd)
      : kc(kc), gd(gd), d(this->gd.d), geo(this->gd.d.geo), tb(kc.entry, kc.taskName(), kc.buffers()), v(tb), b(tb.b()),
        L(v.lanes()) {}
  KernelContext& kc;
  const GroupedConvDims gd;
  const ConvDims& d;
  const Window& geo;
  TaskBuilder tb;
  ConvVectors v;
  llvm::IRBuilder<>& b;
  const int64_t L;
};

// True when the convolution needs the grouped/dilated emitters (groups > 1 or a dilation).
bool needsGroupedConv(const Node& n);

// A row of output pixels [ow0, ow0 + np) at input column origin ow * sw - pl, tap kx at
// + kx * dw: the input column of (pixel p, tap kx), whether it is inside the input, and the
// same clamped into it (a safe index for a load whose value is then dropped).
struct TapColumn {
  llvm::Value* column;
  llvm::Value* inside;
  llvm::Value* clamped;
};
TapColumn tapColumn(TaskBuilder& tb, const Window& geo, int64_t width, llvm::Value* ow, llvm::Value* kx);

// Whether every tap of the pixels [ow0, ow0 + np) lies inside an input row of `width`.
llvm::Value* blockInterior(TaskBuilder& tb, const Window& geo, int64_t width, llvm::Value* ow0, int64_t np);

// Runs body(interior) twice under a run-time test of `interior`: once with true (no tests
// needed), once with false (every tap checked).
void splitInterior(TaskBuilder& tb, llvm::Value* interior, const std::function<void(bool)>& body);

// Input-gradient columns in blocks whose pixels share their valid taps: phase ph in [0, s)
// takes the columns ph, ph + s, ph + 2s, ... (every column when s = 1), cut into blocks of at
// most `pixels`. body(ph, q0, np): pixel p of the block is column ph + s * (q0 + p).
void forPhaseBlocks(TaskBuilder& tb, int64_t width, int64_t s, int64_t pixels,
                    const std::function<void(int64_t ph, llvm::Value* q0, int64_t np)>& body);

// As forPhaseBlocks, with each phase's columns cut into as few blocks as forPhaseBlocks uses,
// the widths as even as possible (differing by at most one, the wider first): no narrow tail block,
// whose few accumulators load as many filter vectors per FMA as the wide ones (28 columns in
// blocks of 6: 6, 6, 6, 5, 5 rather than 6, 6, 6, 6, 4).
void forEvenPhaseBlocks(TaskBuilder& tb, int64_t width, int64_t s, int64_t pixels,
                        const std::function<void(int64_t ph, llvm::Value* q0, int64_t np)>& body);

// Tap k (at k * dilation) of such a block: it reads output columns (ph + pad - k * dilation) / s
// + q0 + p, which exist for every pixel or none (`uniform`: the division is exact); per pixel,
// whether the column is inside [0, outSize) and the column clamped into it.
struct PhaseTap {
  llvm::Value* uniform;
  std::vector<llvm::Value*> column, inside, unclamped;
};
PhaseTap phaseTap(TaskBuilder& tb, int64_t ph, int64_t pad, int64_t s, int64_t dilation, int64_t outSize,
                  llvm::Value* k, llvm::Value* q0, int64_t np);
// Whether every tap k in [0, taps) of such a block reads output columns inside [0, outSize)
// (then no column needs clamping or zeroing).
llvm::Value* phaseBlockInterior(TaskBuilder& tb, int64_t ph, int64_t pad, int64_t s, int64_t dilation, int64_t taps,
                                int64_t outSize, llvm::Value* q0, int64_t np);

// The output position o of an input gradient's tap, t = o * s exactly (t = input + pad - k *
// dilation): (o clamped into [0, size), whether t names a real output).
std::pair<llvm::Value*, llvm::Value*> gradientOutput(TaskBuilder& tb, llvm::Value* t, int64_t s, int64_t size);

// The taps of an input-gradient block (forPhaseBlocks: phase ph, pixel p at column ph + s *
// (q0 + p)) of input row ih, dy rows from dyImageRow: for each filter row ky whose dy row
// exists and each kx that reads columns for the whole block (PhaseTap::uniform),
// tap(inner, t, dyRow, ky, kx), with inner true when no column needs clamping or zeroing
// (the block is emitted twice, under a run-time test: splitInterior).
using PhaseTapBody = std::function<void(bool inner, const PhaseTap& t, llvm::Value* dyRow, llvm::Value* ky, llvm::Value* kx)>;
void forPhaseBlockTaps(TaskBuilder& tb, const ConvDims& d, llvm::Value* ih, llvm::Value* dyImageRow, int64_t ph,
                       llvm::Value* q0, int64_t np, const PhaseTapBody& tap);

// Zero when `inside` is false (a scalar or a vector).
llvm::Value* keepInside(TaskBuilder& tb, llvm::Value* value, llvm::Value* inside);

}  // namespace nnc::codegen

namespace nnc::codegen {

// The input gradient through a transposed copy of the filter (EmitConvGradInputTransposed.cpp),
// when a group has at least a vector of channels and the copy fits a task's stack.
bool gradInputTransposesWeights(const GroupedConvDims& gd, int64_t lanes);
Result<void> emitConv2DGradInputTransposedWeights(KernelContext& kc, const GroupedConvDims& gd);

// The generic grouped/dilated emitters (EmitConvGrouped.cpp).
Result<void> emitGroupedConv2D(KernelContext& kc);
Result<void> emitGroupedConv2DGradInput(KernelContext& kc);
Result<void> emitGroupedConv2DGradFilter(KernelContext& kc);

// The convolutions needsGroupedConv selects, each to its emitter: depthwise ones (one channel
// per group, EmitDepthwiseConv.cpp) when the multiplier fits the vector lanes, else the
// generic grouped ones. Called first by emitConv2D, emitConv2DGradInput, emitConv2DGradFilter.
Result<void> emitConv2DVariant(KernelContext& kc);
Result<void> emitConv2DGradInputVariant(KernelContext& kc);
Result<void> emitConv2DGradFilterVariant(KernelContext& kc);

}  // namespace nnc::codegen
