#pragma once
// The register block every convolution emitter is built around (ConvKernels.h): a tile of
// rows x columns vector accumulators (output pixels x vectors of channels, channels x
// vectors of filters, ...), filled by FMAs over the reduction and then stored, summed or
// written back. Each accumulator is one FMA chain in the order the emitter calls fma or
// outer, an order the emitters fix by the shape alone, so the results are bit-identical
// for every thread count. Also here: the loops the emitters share around their blocks.
#include <functional>
#include <vector>

#include "compiler/codegen/kernels/conv/ConvKernels.h"

namespace nnc::codegen {

// The index of a block row's first element (row r); column c of the row is at + c * lanes.
using BlockRowIndex = std::function<llvm::Value*(int64_t r)>;

class RegisterBlock {
 public:
  // rows x cols accumulators, zeroed. `width`: the real lanes of a row (column c has
  // min(lanes, width - c * lanes); 0: all). `sets` > 1 keeps independent copies of the tile
  // (chains that hide the FMA latency when the tile is small), joined by value().
  RegisterBlock(ConvVectors& v, int64_t rows, int64_t cols, int64_t width = 0, int64_t sets = 1);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t width() const { return width_; }
  int64_t active(int64_t c) const;

  // acc(r, c) = a * b + acc(r, c).
  void fma(int64_t r, int64_t c, llvm::Value* a, llvm::Value* b, int64_t set = 0);
  // The broadcast outer product: for each row r in `rs` (every row when empty), a = row(r),
  // emitted just before its FMAs, then acc(r, c) = a * cols[c] + acc(r, c) for every c.
  void outer(const std::vector<llvm::Value*>& cols, const std::function<llvm::Value*(int64_t r)>& row,
             const std::vector<int64_t>& rs = {}, int64_t set = 0);

  // The sum of the sets (set 0 + set 1 + ...), or the one accumulator.
  llvm::Value* value(int64_t r, int64_t c);
  // Set 0 from `node` (column c's active lanes at at(r) + c * lanes), the other sets zeroed:
  // a block that goes on summing what an earlier tile stored.
  void load(NodeId node, const BlockRowIndex& at);
  // Row r's vectors into `node` at at(r) + c * lanes.
  void storeRow(NodeId node, int64_t r, llvm::Value* at);
  void store(NodeId node, const BlockRowIndex& at);
  // The sum of each accumulator's lanes (a dot product) into element at(r) + c of `node`.
  void storeSums(NodeId node, const BlockRowIndex& at);

 private:
  llvm::AllocaInst* slot(int64_t r, int64_t c, int64_t set) const;

  ConvVectors& v_;
  int64_t rows_, cols_, width_, sets_;
  std::vector<llvm::AllocaInst*> acc_;
};

// Where a forward convolution kernel writes: with a fused epilogue (Kernel::epilogue: bias
// add, activation, ... see compiler/lowering/Fusion.cpp) the last member's buffer receives
// the sums, then the epilogue's result.
struct ConvOutput {
  NodeId node;
  bool epilogue;
  const Shape& shape;  // the convolution's
};
ConvOutput convOutput(const KernelContext& kc);

// Stores a forward block, rows the output pixels ow0 + p of output row r (n * OH + oh),
// columns the vectors of the channels from f0, into an NHWC output of OW x F pixels per row;
// the epilogue runs on each pixel right after its store, while its cache lines are in L1,
// so the convolution's value never makes a separate pass through memory.
void storeOutputBlock(KernelContext& kc, TaskBuilder& tb, RegisterBlock& acc, const ConvOutput& out, llvm::Value* r,
                      llvm::Value* ow0, int64_t OW, int64_t F, llvm::Value* f0);
// The same for a kernel with row sums after its epilogue (EpilogueRowSums.h).
void storeOutputBlockWithRowSums(KernelContext& kc, TaskBuilder& tb, RegisterBlock& acc, const ConvOutput& out,
                                 llvm::Value* r, llvm::Value* ow0, int64_t OW, int64_t F, llvm::Value* f0);

// body(full), or, with a tail, body(full) unless `last` and body(tail) if it is: a unit's
// block at a compile-time width.
void withTailWidth(TaskBuilder& tb, llvm::Value* last, int64_t full, int64_t tail, const std::function<void(int64_t)>& body);

// pixel(ow, set) for ow in [lo, hi): all in set 0 when sets = 1; with 2 sets, in pairs, the
// even pixels to set 0 and the odd ones to set 1 (a last odd one out to set 0). Which pixel
// goes to which set depends only on the range.
void forPixelSets(TaskBuilder& tb, llvm::Value* lo, llvm::Value* hi, int64_t sets,
                  const std::function<void(llvm::Value* ow, int64_t set)>& pixel);

// The filter gradients' loops, whose parallel range is units of dw (never the summed (n, oh,
// ow)): zero(u) for each unit of the task, so the sums start from +0; then for each image and
// each tile of tileRows output rows (from tileLo), body(img, tileLo, u) for each unit. A tile's
// dy (and x) stays in cache while every unit of the task reads it; each unit's block is
// reloaded per tile, so every element stays one FMA chain over (n, oh, ow) in order.
void forFilterGradientTiles(TaskBuilder& tb, Extent N, int64_t OH, int64_t tileRows,
                            const std::function<void(llvm::Value* u)>& zero,
                            const std::function<void(llvm::Value* img, llvm::Value* tileLo, llvm::Value* u)>& body);

// As forFilterGradientTiles, for units that share the cache lines of each pixel (a unit
// per vector of channels): each output row is cut into strips of at most stripCols columns,
// small enough that a strip's x and dy stay in L1 while every unit of the task reads its
// channels of them; body(img, oh, owLo, owHi, u). Each unit's block is reloaded per strip,
// so every element stays one FMA chain over (n, oh, ow) in order.
void forFilterGradientStrips(TaskBuilder& tb, Extent N, int64_t OH, int64_t OW, int64_t stripCols,
                             const std::function<void(llvm::Value* u)>& zero,
                             const std::function<void(llvm::Value* img, llvm::Value* oh, llvm::Value* owLo,
                                                      llvm::Value* owHi, llvm::Value* u)>& body);

}  // namespace nnc::codegen
