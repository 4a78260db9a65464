#pragma once
// Internal to the convolution emitters (EmitConv.cpp, EmitConvBackward.cpp): the geometry
// of one convolution, how a row of pixels is cut into register blocks, and vector helpers
// bound to one task.
//
// The kernels are direct convolutions in the style of oneDNN's AVX2/AVX-512 "jit" kernels:
// a register block of accumulators (a few output pixels x a few vectors of channels) is
// filled by broadcast-FMA over the reduction, then stored once. Every output element is one
// FMA chain in a fixed order that depends only on the shape, never on how the parallel range
// is split, so results are bit-identical for every thread count.
#include <functional>
#include <vector>

#include "compiler/codegen/kernels/conv/ConvVectorUnit.h"
#include "compiler/codegen/Emit.h"
#include "compiler/ir/Window.h"

namespace nnc::codegen {


// Sizes of one convolution: input H x W x C, filter KH x KW x C x F, output OH x OW x F.
struct ConvDims {
  int64_t H = 1, W = 1, C = 1, KH = 1, KW = 1, F = 1, OH = 1, OW = 1;
  Window geo;
};

// The largest block of at most `target` (and at least 1) that divides n, if one of at least
// 3/4 of the target exists; else min(target, n) (the remainder then runs as a tail block).
int64_t pickBlock(int64_t n, int64_t target);

// Vector operations of one task, all on <lanes x float>. `active` is how many leading lanes
// are real: a vector with fewer is read with a masked load (other lanes read as 0) and
// written with a masked store, so tails never touch memory past the tensor's row.
class ConvVectors {
 public:
  explicit ConvVectors(TaskBuilder& tb);

  int lanes() const { return lanes_; }
  TaskBuilder& builder() { return tb_; }
  llvm::Value* zero();
  llvm::Value* splat(llvm::Value* scalar);
  llvm::Value* load(NodeId node, llvm::Value* index, int64_t active);
  // A vector at `address` in the task's own scratch (an alloca: no alias metadata needed).
  llvm::Value* loadAt(llvm::Value* address, int64_t active);
  void store(NodeId node, llvm::Value* index, llvm::Value* value, int64_t active);
  llvm::Value* fma(llvm::Value* a, llvm::Value* b, llvm::Value* acc);
  // The sum of the lanes (a fixed tree: the same for every call on this CPU).
  llvm::Value* sum(llvm::Value* v);

  // `count` vector accumulators: stack slots the optimizer promotes to registers.
  std::vector<llvm::AllocaInst*> accumulators(size_t count);
  llvm::Value* get(llvm::AllocaInst* acc);
  void set(llvm::AllocaInst* acc, llvm::Value* v);

 private:
  llvm::Value* mask(int64_t active);

  TaskBuilder& tb_;
  int lanes_;
  llvm::FixedVectorType* type_;
};

// Splits [lo, hi) into blocks of `block`: the whole blocks run in one run-time loop, the
// remainder is emitted once more, statically, so body sees a compile-time width.
void forBlocks(TaskBuilder& tb, int64_t lo, int64_t hi, int64_t block,
               const std::function<void(llvm::Value* start, int64_t width)>& body, const char* name);

// How one row of n output (or input) pixels is cut into register blocks of at most `pixels`:
// blocks with a compile-time start (the borders, where the valid window columns differ per
// pixel, and every block of a short row), cut as evenly as possible so no block is much
// narrower than the rest, and a run-time loop of whole blocks over [loopLo, loopHi), which
// lies inside the interior [interiorLo, interiorHi) where every window column is valid.
struct PixelPlan {
  std::vector<std::pair<int64_t, int64_t>> fixed;  // (start, width), compile-time
  int64_t loopLo = 0, loopHi = 0;
};
PixelPlan planPixels(int64_t n, int64_t interiorLo, int64_t interiorHi, int64_t pixels);
// The most (compile-time block, kx) pairs a row may unroll into; beyond it (kernels nearly as
// wide as the image) the emitters fall back to one pixel at a time with run-time kx ranges.
constexpr int64_t kMaxUnrolledColumns = 256;

// The first output position whose window position k lands inside the input: out * s - pad + k
// >= 0. And one past the last: out * s - pad + k <= size - 1 (at most outSize; 0 when none).
llvm::Value* firstValidOutput(TaskBuilder& tb, llvm::Value* k, int64_t pad, int64_t s);
llvm::Value* endValidOutput(TaskBuilder& tb, llvm::Value* k, int64_t pad, int64_t s, int64_t size, int64_t outSize);

// The filter gradient of an input with too few channels to fill a register block with
// channels x vectors of filters (the first layer): blocks of window columns x one vector of
// filters instead (EmitConvGradFilterFewChannels.cpp). N: the images.
Result<void> emitConv2DGradFilterFewChannels(KernelContext& kc, const ConvDims& d, Extent N);

// A stride-1, undilated input gradient as the forward convolution of dy with a flipped,
// transposed copy of the filter on each task's stack (EmitConv.cpp), when the copy fits
// kMaxFlippedWeightFloats and C fills a vector.
constexpr int64_t kMaxFlippedWeightFloats = 65536;  // 256 KiB
bool gradInputRunsForward(const ConvDims& d, int64_t lanes);
Result<void> emitConv2DGradInputAsForward(KernelContext& kc, const ConvDims& d);

// sAdd, sMul: LoopBuilder.h (through Emit.h).

}  // namespace nnc::codegen
