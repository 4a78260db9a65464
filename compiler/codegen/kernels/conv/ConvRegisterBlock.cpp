#include "compiler/codegen/kernels/conv/ConvRegisterBlock.h"

#include <algorithm>

namespace nnc::codegen {

using llvm::Value;

RegisterBlock::RegisterBlock(ConvVectors& v, int64_t rows, int64_t cols, int64_t width, int64_t sets)
    : v_(v), rows_(rows), cols_(cols), width_(width > 0 ? width : cols * v.lanes()), sets_(sets) {
  acc_ = v.accumulators(static_cast<size_t>(sets * rows * cols));
  for (llvm::AllocaInst* a : acc_) v.set(a, v.zero());
}

int64_t RegisterBlock::active(int64_t c) const { return std::min<int64_t>(v_.lanes(), width_ - c * v_.lanes()); }

llvm::AllocaInst* RegisterBlock::slot(int64_t r, int64_t c, int64_t set) const {
  return acc_[static_cast<size_t>((set * rows_ + r) * cols_ + c)];
}

void RegisterBlock::fma(int64_t r, int64_t c, Value* a, Value* b, int64_t set) {
  llvm::AllocaInst* s = slot(r, c, set);
  v_.set(s, v_.fma(a, b, v_.get(s)));
}

void RegisterBlock::outer(const std::vector<Value*>& cols, const std::function<Value*(int64_t)>& row,
                          const std::vector<int64_t>& rs, int64_t set) {
  auto one = [&](int64_t r) {
    Value* a = row(r);
    for (int64_t c = 0; c < cols_; ++c) fma(r, c, a, cols[static_cast<size_t>(c)], set);
  };
  if (rs.empty())
    for (int64_t r = 0; r < rows_; ++r) one(r);
  for (int64_t r : rs) one(r);
}

Value* RegisterBlock::value(int64_t r, int64_t c) {
  Value* sum = v_.get(slot(r, c, 0));
  for (int64_t s = 1; s < sets_; ++s) sum = v_.builder().b().CreateFAdd(sum, v_.get(slot(r, c, s)));
  return sum;
}

void RegisterBlock::load(NodeId node, const BlockRowIndex& at) {
  auto& b = v_.builder().b();
  for (int64_t r = 0; r < rows_; ++r) {
    Value* row = at(r);
    for (int64_t c = 0; c < cols_; ++c) v_.set(slot(r, c, 0), v_.load(node, sAdd(b, row, c * v_.lanes()), active(c)));
  }
}

void RegisterBlock::storeRow(NodeId node, int64_t r, Value* at) {
  auto& b = v_.builder().b();
  for (int64_t c = 0; c < cols_; ++c) v_.store(node, sAdd(b, at, c * v_.lanes()), value(r, c), active(c));
}

void RegisterBlock::store(NodeId node, const BlockRowIndex& at) {
  for (int64_t r = 0; r < rows_; ++r) storeRow(node, r, at(r));
}

void RegisterBlock::storeSums(NodeId node, const BlockRowIndex& at) {
  auto& b = v_.builder().b();
  for (int64_t r = 0; r < rows_; ++r) {
    Value* row = at(r);
    for (int64_t c = 0; c < cols_; ++c) v_.builder().store(node, sAdd(b, row, c), v_.sum(value(r, c)));
  }
}

ConvOutput convOutput(const KernelContext& kc) {
  bool epilogue = !kc.kernel.epilogue.empty();
  return ConvOutput{epilogue ? kc.kernel.epilogue.back() : kc.kernel.root, epilogue, kc.root().type.shape};
}

void storeOutputBlock(KernelContext& kc, TaskBuilder& tb, RegisterBlock& acc, const ConvOutput& out, Value* r,
                      Value* ow0, int64_t OW, int64_t F, Value* f0) {
  auto& b = tb.b();
  Value* yRow = sMul(b, r, OW * F);
  if (out.epilogue && !kc.kernel.fused.empty()) return storeOutputBlockWithRowSums(kc, tb, acc, out, r, ow0, OW, F, f0);
  for (int64_t p = 0; p < acc.rows(); ++p) {
    Value* yAt = sAdd(b, sAdd(b, yRow, sMul(b, sAdd(b, ow0, p), F)), f0);
    acc.storeRow(out.node, p, yAt);
    if (!out.epilogue) continue;
    Value* pixel = sAdd(b, sMul(b, r, OW), sAdd(b, ow0, p));  // flat over (n, oh, ow)
    tb.loop(tb.i64(0), tb.i64(acc.width()), [&](Value* c) {
      emitEpilogueElement(tb, kc.kernel, out.node, out.shape, pixel, sAdd(b, f0, c), sAdd(b, yAt, c));
    }, "ec");
  }
}

// With row sums (EpilogueRowSums.h): every pixel stored first, then per channel the
// epilogue on each pixel, the block's terms summed in registers in pixel order and added to
// the row's sums once per block (not once per pixel, which would chain every pixel's update
// through the same memory).
void storeOutputBlockWithRowSums(KernelContext& kc, TaskBuilder& tb, RegisterBlock& acc, const ConvOutput& out, Value* r,
                                 Value* ow0, int64_t OW, int64_t F, Value* f0) {
  auto& b = tb.b();
  Value* yRow = sMul(b, r, OW * F);
  std::vector<Value*> yAt, pixel;
  for (int64_t p = 0; p < acc.rows(); ++p) {
    yAt.push_back(sAdd(b, sAdd(b, yRow, sMul(b, sAdd(b, ow0, p), F)), f0));
    acc.storeRow(out.node, p, yAt.back());
    pixel.push_back(sAdd(b, sMul(b, r, OW), sAdd(b, ow0, p)));  // flat over (n, oh, ow)
  }
  tb.loop(tb.i64(0), tb.i64(acc.width()), [&](Value* c) {
    std::vector<Value*> block;
    for (int64_t p = 0; p < acc.rows(); ++p) {
      std::vector<Value*> terms;
      size_t pi = static_cast<size_t>(p);
      emitEpilogueElement(tb, kc.kernel, out.node, out.shape, pixel[pi], sAdd(b, f0, c), sAdd(b, yAt[pi], c), &terms);
      for (size_t t = 0; t < terms.size(); ++t) {
        if (p == 0)
          block.push_back(terms[t]);
        else
          block[t] = b.CreateFAdd(block[t], terms[t]);
      }
    }
    addEpilogueRowSumTerms(tb, kc.kernel, r, sAdd(b, f0, c), block);
  }, "ers");
}

void withTailWidth(TaskBuilder& tb, Value* last, int64_t full, int64_t tail, const std::function<void(int64_t)>& body) {
  if (tail == 0) return body(full);
  tb.ifThen(tb.b().CreateNot(last), [&] { body(full); });
  tb.ifThen(last, [&] { body(tail); });
}

void forPixelSets(TaskBuilder& tb, Value* lo, Value* hi, int64_t sets, const std::function<void(Value*, int64_t)>& pixel) {
  auto& b = tb.b();
  if (sets == 1) return tb.loop(lo, hi, [&](Value* ow) { pixel(ow, 0); }, "ow");
  Value* count = tb.smax(b.CreateNSWSub(hi, lo), tb.i64(0));
  Value* pairs = b.CreateUDiv(count, tb.i64(2));
  tb.loop(tb.i64(0), pairs, [&](Value* i) {
    Value* ow = sAdd(b, lo, sMul(b, i, 2));
    pixel(ow, 0);
    pixel(sAdd(b, ow, 1), 1);
  }, "ow2");
  tb.ifThen(b.CreateICmpNE(b.CreateURem(count, tb.i64(2)), tb.i64(0)), [&] { pixel(sAdd(b, lo, sMul(b, pairs, 2)), 0); });
}

void forFilterGradientTiles(TaskBuilder& tb, Extent N, int64_t OH, int64_t tileRows, const std::function<void(Value*)>& zero,
                            const std::function<void(Value*, Value*, Value*)>& body) {
  tb.loop(tb.begin(), tb.end(), zero, "zero");
  int64_t tiles = (OH + tileRows - 1) / tileRows;
  tb.loop(tb.i64(0), tb.extent(N), [&](Value* img) {
    tb.loop(tb.i64(0), tb.i64(tiles), [&](Value* tile) {
      Value* tileLo = sMul(tb.b(), tile, tileRows);
      tb.loop(tb.begin(), tb.end(), [&](Value* u) { body(img, tileLo, u); }, "unit");
    }, "tile");
  }, "n");
}

void forFilterGradientStrips(TaskBuilder& tb, Extent N, int64_t OH, int64_t OW, int64_t stripCols,
                             const std::function<void(Value*)>& zero,
                             const std::function<void(Value*, Value*, Value*, Value*, Value*)>& body) {
  auto& b = tb.b();
  const int64_t strips = (OW + std::max<int64_t>(stripCols, 1) - 1) / std::max<int64_t>(stripCols, 1);
  tb.loop(tb.begin(), tb.end(), zero, "zero");
  tb.loop(tb.i64(0), tb.extent(N), [&](Value* img) {
    tb.loop(tb.i64(0), tb.i64(OH * strips), [&](Value* tile) {
      // Strips cut as evenly as possible: strip s is [s * OW / strips, (s + 1) * OW / strips).
      Value* oh = b.CreateUDiv(tile, tb.i64(strips));
      Value* s = b.CreateURem(tile, tb.i64(strips));
      Value* owLo = b.CreateUDiv(sMul(b, s, OW), tb.i64(strips));
      Value* owHi = b.CreateUDiv(sMul(b, sAdd(b, s, 1), OW), tb.i64(strips));
      tb.loop(tb.begin(), tb.end(), [&](Value* u) { body(img, oh, owLo, owHi, u); }, "unit");
    }, "strip");
  }, "n");
}

}  // namespace nnc::codegen
