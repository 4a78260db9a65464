// The GEMM emitter (see GemmEmitter.h). Loop nest of one task, after BLIS:
//
//   for each leading index l and the task's rows [i0, i1) and columns [j0, j1):
//     for pc in K blocks of k:                 (in order: each element's sum stays one chain;
//                                               equal blocks of at most KC, a deeper one
//                                               when the rows fit one MC block)
//       for jc in NC blocks of columns:        (a narrower NC when the rows fit one MC block)
//         pack B[pc.., jc..] into kc x NR micro-panels          (zero-padded to NR columns)
//         for ic in MC blocks of rows:
//           pack A[ic.., pc..] into MR x kc micro-panels  (zero-padded to MR rows; once per
//                                                          pc when there is one MC block,
//                                                          and not at all when its rows
//                                                          lie along k: read in place)
//           for jr: for ir: microkernel: MR x NR accumulators in registers, kc FMAs deep;
//                                        first K block starts at 0, later ones reload C
//
// Edges: packing pads with zeros so the microkernel always runs a whole tile; tiles cut at
// the right edge go through a small stack tile on their way to and from C, tiles cut at the
// bottom store their valid rows only, and a last row panel of at most mrEdge rows (M = 64
// or 16 against MR = 6) runs a microkernel of mrEdge rows, without the padded rows' FMAs.
//
// Look-ahead: while the tiles of one B block run, the loop nest prefetches, a share before
// each tile, the part of B the next pack will read, so packing B, which streams the whole
// of B from memory, no longer stalls on it (in the loop nest, not the microkernel's k loop,
// whose every extra instruction costs: measured on square 1024).
//
// Row panels: a product with several row blocks and a fused epilogue, whose K fits one
// block (or whose epilogue streams an optimizer's state through C's rows, when K needs
// several blocks of a packed B that covers all the task's columns), runs
//   for pc in K blocks: pack B[pc.., all columns]; for ic: pack A; for ir: for jr: tile;
//                       then the epilogue on MR whole rows
// so the epilogue reads and writes the tensors it streams in long contiguous runs, with the
// next row panel's lines of them prefetched a tile's columns at a time under the FMAs. With
// one K block and C scratch (the product's own buffer, only its epilogue reads it) over
// columns the task owns, every row panel's sums reuse the slice's first MR rows: the
// product never goes to memory. Same tiles, same packed operands: the same sums.
//
// Small M: when a task has only a handful of rows (inference at a small batch), packing B
// would cost as much as the product, so small-M kernels of 1 or 4 rows read A and B in
// place: B as stored a few vectors of a row at a time (masked loads at the right edge); B
// transposed (PyTorch's [out, in] Linear weight) W rows of B^T at a time, each W x W block
// of them transposed in registers. All paths compute the same FMA chain per element (from
// +0, k in order), so which one runs never changes a result: a sample's outputs are the
// same bits at batch 1 and batch 64. Only inference products take it (training runs at its
// batch), so a module carries the small-M kernels of the layouts its inference uses.
//
// Parallel range (static, from the shape): panels of NR output columns when N spans at
// least four of them (each task then packs only its own columns of B), else output rows.
// K is never split, so the result does not depend on the thread count.
//
// Code size: the loop nest above (the driver), the microkernel, the small-M kernels and the
// packing routines are helper functions shared by every product in the module (never
// inlined). A product's task only splits its work and calls the driver; its fused epilogue,
// if any, is a small function of its own that the driver calls on each finished block of C.
//
// Scratch: the packed A block and B panel are allocas in the driver (mc*kc and kc*nc floats,
// about 0.6 MiB at most), private to each running task, so any number of threads can run
// tasks at once.
#include "compiler/codegen/kernels/gemm/GemmEmitter.h"

#include <algorithm>
#include <atomic>

#include <llvm/IR/Intrinsics.h>

#include "compiler/codegen/TargetCpu.h"
#include "compiler/codegen/TaskSplit.h"

namespace nnc::codegen {

using llvm::Value;

GemmBlocking gemmBlockingForLanes(int lanes) {
  GemmBlocking g;
  g.lanes = lanes >= 16 ? 16 : lanes >= 8 ? 8 : 4;
  int registers = g.lanes == 16 ? 32 : 16;
  g.vectors = 2;
  g.nr = g.lanes * g.vectors;
  // Accumulators mr * vectors, plus one register per B vector and one broadcast of A.
  g.mr = (registers - g.vectors - 1) / g.vectors;
  g.kc = 256;
  g.mc = g.mr * (g.lanes == 16 ? 8 : 16);
  g.nc = 512;
  g.ncFewRows = 8 * g.nr;
  g.kcFewRows = 384;
  // A last row panel of M = 64 or 16 (4 rows of 6 on AVX2) runs on its own tile without
  // the padded rows' FMAs.
  g.mrEdge = g.mr * 2 / 3;
  return g;
}

namespace {
std::atomic<int> lanesOverride{0};
}  // namespace

void overrideGemmLanes(int lanes) { lanesOverride = lanes; }

GemmBlocking hostGemmBlocking() {
  int forced = lanesOverride.load();
  return gemmBlockingForLanes(forced ? forced : emissionTargetCpu().lanes);
}

namespace {

// At most this many rows in a task: no packing (the small-M kernels). Each R-row block of
// the task reads all of B again, and B^T is transposed again, so beyond these packing B once
// pays (measured on Zen 3 against both paths at M = 4, 8 and 16).
constexpr int64_t kDirectRowsB = 8;
constexpr int64_t kDirectRowsBT = 4;
constexpr int64_t kMinColumnPanels = 4;
// The look-ahead prefetch of the next B block runs only when a task packs at least this many
// floats of B (2 MiB: beyond L2, streamed from memory or a shared L3).
constexpr int64_t kLookAheadMinFloats = int64_t{1} << 19;

using ScalarAt = std::function<Value*(int r, Value* k)>;
using VectorAt = std::function<Value*(Value* k, int v)>;
// Vector v of B's columns for W consecutive values of k from k0, [kk].
using VectorBlockAt = std::function<std::vector<Value*>(Value* k0, int v)>;

// Loops, branches and index arithmetic in whichever function is being built (a task or one
// of the shared helpers). Offsets are non-negative: no wrap.
// The GEMM emitter's LoopBuilder (LoopBuilder.h), with its own short names.
struct Ir : LoopBuilder {
  Ir(llvm::IRBuilder<>& b, llvm::Function* fn) : LoopBuilder(b), b(b), fn(fn) {}
  llvm::IRBuilder<>& b;
  llvm::Function* fn;

  llvm::LLVMContext& ctx() { return b.getContext(); }
  Value* c(int64_t v) { return i64(v); }
  Value* sub(Value* x, Value* y) { return b.CreateSub(x, y); }
  Value* min(Value* x, Value* y) { return smin(x, y); }
  Value* max(Value* x, Value* y) { return smax(x, y); }
  Value* ceilDiv(Value* x, int64_t d) { return b.CreateUDiv(add(x, c(d - 1)), c(d)); }
  Value* at(Value* base, Value* index) { return b.CreateInBoundsGEP(b.getFloatTy(), base, index); }

  // for (blk = 0; blk < ceil(len / size); ++blk) body(blk, lo + blk * size, its count)
  void blocks(Value* lo, Value* len, int64_t size, const std::function<void(Value*, Value*, Value*)>& body,
              const char* name) {
    loop(c(0), ceilDiv(len, size), [&](Value* blk) {
      Value* off = mul(blk, c(size));
      body(blk, add(lo, off), min(c(size), b.CreateSub(len, off, "", true, true)));
    }, name);
  }
};

// A helper shared by every product in the module (both entry points): built once, called,
// never inlined, so a model with many products compiles one microkernel, not many.
llvm::Function* helper(llvm::Module& m, const std::string& name, std::vector<llvm::Type*> params,
                       const GemmBlocking& g, const std::function<void(Ir&, llvm::Function*)>& build,
                       bool noAliasPointers = true) {
  if (llvm::Function* f = m.getFunction(name)) return f;
  llvm::LLVMContext& ctx = m.getContext();
  auto* ft = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), params, false);
  llvm::Function* f = llvm::Function::Create(ft, llvm::Function::InternalLinkage, name, m);
  for (auto a : {llvm::Attribute::NoUnwind, llvm::Attribute::NoInline, llvm::Attribute::NoFree, llvm::Attribute::NoSync,
                 llvm::Attribute::WillReturn})
    f->addFnAttr(a);
  // Keep whole-width vectors legal where the CPU prefers narrower ones (some AVX-512 tunings).
  f->addFnAttr("min-legal-vector-width", std::to_string(g.lanes * 32));
  for (unsigned i = 0; i < params.size(); ++i)
    if (noAliasPointers && params[i]->isPointerTy()) {
      f->addParamAttr(i, llvm::Attribute::NoAlias);  // packed scratch, sources and C never overlap
      f->addParamAttr(i, llvm::Attribute::NoCapture);
    }
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
  Ir ir{b, f};
  build(ir, f);
  b.CreateRetVoid();
  return f;
}

// One output tile of mrT rows x vT vectors of accumulators: rows [0, mrv) and columns
// [0, nrv) of C (row stride ldc) over kcv values of k, starting from zero when `first`, else
// from C. A tile narrower than NR passes through a stack tile, so C is touched only where
// valid; one with fewer rows (M = 64 or 16 against MR = 6) loads and stores its valid rows
// directly, row by row.
void emitTile(Ir& ir, const GemmBlocking& g, int mrT, int vT, Value* mrv, Value* nrv, Value* kcv, const ScalarAt& aAt,
              const VectorAt& bAt, Value* C, Value* ldc, Value* first, const VectorBlockAt& bBlockAt = nullptr) {
  llvm::IRBuilder<>& b = ir.b;
  const int W = g.lanes, nrT = W * vT;
  auto* vec = llvm::FixedVectorType::get(b.getFloatTy(), static_cast<unsigned>(W));
  llvm::AllocaInst* tile = ir.local(llvm::ArrayType::get(b.getFloatTy(), static_cast<uint64_t>(mrT * nrT)), "tile", 64);
  std::vector<llvm::AllocaInst*> acc;
  for (int i = 0; i < mrT * vT; ++i) acc.push_back(ir.local(vec, "acc"));
  auto accAt = [&](int r, int v) { return acc[static_cast<size_t>(r * vT + v)]; };
  auto cAt = [&](Value* r, Value* col) { return ir.at(C, ir.add(ir.mul(r, ldc), col)); };
  auto tileAt = [&](Value* r, Value* col) { return ir.at(tile, ir.add(ir.mul(r, ir.c(nrT)), col)); };
  Value* wholeRows = b.CreateICmpEQ(nrv, ir.c(nrT));
  // Row r of a tile with whole rows, when r < mrv (row 0 always is).
  auto ifRow = [&](int r, const std::function<void()>& then, const std::function<void()>& otherwise) {
    if (r == 0) return then();
    ir.ifElse(b.CreateICmpSLT(ir.c(r), mrv), then, otherwise);
  };

  ir.ifElse(first, [&] {
    for (llvm::AllocaInst* a : acc) b.CreateStore(llvm::Constant::getNullValue(vec), a);
  }, [&] {
    ir.ifElse(wholeRows, [&] {
      for (int r = 0; r < mrT; ++r)
        ifRow(r, [&] {
          for (int v = 0; v < vT; ++v)
            b.CreateStore(b.CreateAlignedLoad(vec, cAt(ir.c(r), ir.c(v * W)), llvm::Align(4)), accAt(r, v));
        }, [&] {
          for (int v = 0; v < vT; ++v) b.CreateStore(llvm::Constant::getNullValue(vec), accAt(r, v));
        });
    }, [&] {
      b.CreateMemSet(tile, b.getInt8(0), ir.c(int64_t{4} * mrT * nrT), llvm::MaybeAlign(64));
      ir.loop(ir.c(0), mrv, [&](Value* r) {
        ir.loop(ir.c(0), nrv, [&](Value* col) {
          b.CreateStore(b.CreateLoad(b.getFloatTy(), cAt(r, col)), tileAt(r, col));
        }, "cc");
      }, "r");
      for (int r = 0; r < mrT; ++r)
        for (int v = 0; v < vT; ++v)
          b.CreateStore(b.CreateAlignedLoad(vec, tileAt(ir.c(r), ir.c(v * W)), llvm::Align(4)), accAt(r, v));
    });
  });

  // The FMA chains, in k order: W values of k at a time when B comes in blocks, then the rest.
  auto fma = [&](int r, int v, Value* a, Value* bv) {
    Value* s = b.CreateLoad(vec, accAt(r, v));
    b.CreateStore(b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vec}, {a, bv, s}), accAt(r, v));
  };
  Value* kRest = ir.c(0);
  if (bBlockAt) {
    // Vector by vector: only one block of B is live, and the chains of the next vector
    // (independent of this one's) overlap its FMA latency.
    Value* kBlocks = b.CreateUDiv(kcv, ir.c(W));
    ir.loop(ir.c(0), kBlocks, [&](Value* kb) {
      Value* k0 = ir.mul(kb, ir.c(W));
      std::vector<std::vector<Value*>> aSplat(static_cast<size_t>(W));
      for (int kk = 0; kk < W; ++kk)
        for (int r = 0; r < mrT; ++r)
          aSplat[static_cast<size_t>(kk)].push_back(b.CreateVectorSplat(static_cast<unsigned>(W), aAt(r, ir.add(k0, ir.c(kk)))));
      for (int v = 0; v < vT; ++v) {
        std::vector<Value*> block = bBlockAt(k0, v);
        for (int kk = 0; kk < W; ++kk)
          for (int r = 0; r < mrT; ++r)
            fma(r, v, aSplat[static_cast<size_t>(kk)][static_cast<size_t>(r)], block[static_cast<size_t>(kk)]);
      }
    }, "kb");
    kRest = ir.mul(kBlocks, ir.c(W));
  }
  ir.loop(kRest, kcv, [&](Value* k) {
    std::vector<Value*> bv;
    for (int v = 0; v < vT; ++v) bv.push_back(bAt(k, v));
    for (int r = 0; r < mrT; ++r) {
      Value* a = b.CreateVectorSplat(static_cast<unsigned>(W), aAt(r, k));
      for (int v = 0; v < vT; ++v) fma(r, v, a, bv[static_cast<size_t>(v)]);
    }
  }, "k");

  ir.ifElse(wholeRows, [&] {
    for (int r = 0; r < mrT; ++r)
      ifRow(r, [&] {
        for (int v = 0; v < vT; ++v)
          b.CreateAlignedStore(b.CreateLoad(vec, accAt(r, v)), cAt(ir.c(r), ir.c(v * W)), llvm::Align(4));
      }, [] {});
  }, [&] {
    for (int r = 0; r < mrT; ++r)
      for (int v = 0; v < vT; ++v)
        b.CreateAlignedStore(b.CreateLoad(vec, accAt(r, v)), tileAt(ir.c(r), ir.c(v * W)), llvm::Align(4));
    ir.loop(ir.c(0), mrv, [&](Value* r) {
      ir.loop(ir.c(0), nrv, [&](Value* col) {
        b.CreateStore(b.CreateLoad(b.getFloatTy(), tileAt(r, col)), cAt(r, col));
      }, "cc");
    }, "r");
  });
}

// tile(Ap, ars, aks, Bp, kc, C, ldc, mr, nr, first): the microkernel on a packed B micro-panel
// (kc x NR, k-major) and A(r, k) at Ap[r * ars + k * aks]: a packed micro-panel (ars 1, aks
// MR), or A in place (ars its row stride, aks 1), rows past mr repeating the last valid one.
// `rows` rows of accumulators: MR, or mrEdge for a last row panel that has no more valid rows.
llvm::Function* tileHelper(llvm::Module& m, const GemmBlocking& g, int rows) {
  llvm::LLVMContext& ctx = m.getContext();
  llvm::Type *ptr = llvm::PointerType::get(ctx, 0), *i64 = llvm::Type::getInt64Ty(ctx);
  std::string name = "nnc.gemm.tile." + std::to_string(rows) + (rows == g.mr ? "" : "of" + std::to_string(g.mr)) +
                     "x" + std::to_string(g.nr);
  return helper(m, name, {ptr, i64, i64, ptr, i64, ptr, i64, i64, i64, llvm::Type::getInt1Ty(ctx)}, g,
                [&](Ir& ir, llvm::Function* f) {
    Value *ap = f->getArg(0), *ars = f->getArg(1), *aks = f->getArg(2), *bp = f->getArg(3), *kc = f->getArg(4);
    Value *C = f->getArg(5), *ldc = f->getArg(6), *mrv = f->getArg(7);
    auto* vec = llvm::FixedVectorType::get(ir.b.getFloatTy(), static_cast<unsigned>(g.lanes));
    std::vector<Value*> aRow;  // row r's start, clamped to the last valid row
    for (int r = 0; r < rows; ++r) aRow.push_back(ir.at(ap, ir.mul(ir.min(ir.c(r), ir.sub(mrv, ir.c(1))), ars)));
    emitTile(ir, g, rows, g.vectors, mrv, f->getArg(8), kc,
             [&](int r, Value* k) {
               return ir.b.CreateLoad(ir.b.getFloatTy(), ir.at(aRow[static_cast<size_t>(r)], ir.mul(k, aks)));
             },
             [&](Value* k, int v) {
               return ir.b.CreateAlignedLoad(vec, ir.at(bp, ir.add(ir.mul(k, ir.c(g.nr)), ir.c(int64_t{v} * g.lanes))),
                                             llvm::Align(static_cast<uint64_t>(g.lanes) * 4));
             },
             C, ldc, f->getArg(9));
  });
}

// Transposes a W x W block held as W row vectors, by log2(W) rounds that swap the
// off-diagonal g x g blocks of every 2g x 2g block (g = 1, 2, 4, ...): one two-source shuffle
// per vector and round, which x86 lowers to blends, unpacks and lane permutes.
std::vector<Value*> transposeSquare(llvm::IRBuilder<>& b, std::vector<Value*> rows) {
  const int W = static_cast<int>(rows.size());
  for (int g = 1; g < W; g *= 2) {
    std::vector<int> lo(static_cast<size_t>(W)), hi(static_cast<size_t>(W));
    for (int p = 0; p < W; ++p) {
      int c = p / (2 * g) * (2 * g), o = p % (2 * g);
      lo[static_cast<size_t>(p)] = o < g ? c + o : W + c + o - g;  // upper row: its left block, then the lower's
      hi[static_cast<size_t>(p)] = o < g ? c + g + o : W + c + o;  // lower row: the upper's right block, then its own
    }
    std::vector<Value*> next(rows);
    for (int i = 0; i < W; ++i)
      if ((i & g) == 0) {
        next[static_cast<size_t>(i)] = b.CreateShuffleVector(rows[static_cast<size_t>(i)], rows[static_cast<size_t>(i + g)], lo);
        next[static_cast<size_t>(i + g)] = b.CreateShuffleVector(rows[static_cast<size_t>(i)], rows[static_cast<size_t>(i + g)], hi);
      }
    rows = std::move(next);
  }
  return rows;
}

// Small-M kernels: A and B read in place, no packing (inference at a small batch, where
// packing B would cost as much as the product). Rows of a task go 4 at a time, or 1.
constexpr int kSmallRowsMax = 4;

// Vectors of columns per small-M tile, as many as fit the registers: R accumulators per
// vector, plus one register per B vector (the W of one transposed block) and one broadcast
// of A. Up to 4 vectors as stored (independent chains that hide the FMA latency with one
// row); up to 2 transposed, where the shuffles are the limit.
int smallVectors(const GemmBlocking& g, int rows, bool transposed) {
  int registers = g.lanes == 16 ? 32 : 16;
  int v = transposed ? 2 : 4;
  while (v > 1 && rows * v + (transposed ? g.lanes : v) + 1 > registers) --v;
  return v;
}

// small(a, xsA, ksA, b, xsB, ksB, K, c, ldc, rows, n): c[r * ldc + j] = sum over k of
// A(r, k) B(k, j) for r in [0, rows), rows <= R, j in [0, n), A(r, k) at a[r * xsA + k * ksA].
// B as stored (`transposed` false): B(k, j) at b[k * ksB + j], read a few vectors of a row
// at a time, masked at the right edge. B transposed: B(k, j) at b[j * xsB + k]; W columns go
// together, their rows of B^T read W values of k at a time and transposed in registers. Rows
// past `rows` and columns past n repeat the last valid one (never out of bounds) and are
// dropped when the tile is stored. The same FMA chain per element as the packed path.
llvm::FunctionType* smallHelperType(llvm::LLVMContext& ctx) {
  llvm::Type *ptr = llvm::PointerType::get(ctx, 0), *i64 = llvm::Type::getInt64Ty(ctx);
  return llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr, i64, i64, ptr, i64, i64, i64, ptr, i64, i64, i64},
                                 false);
}

llvm::Function* smallHelper(llvm::Module& m, const GemmBlocking& g, int R, bool transposed) {
  const int W = g.lanes, V = smallVectors(g, R, transposed);
  const int64_t width = int64_t{W} * V;
  std::string name = std::string("nnc.gemm.small.") + (transposed ? "bt." : "b.") + std::to_string(R) + "x" +
                     std::to_string(width);
  std::vector<llvm::Type*> params = smallHelperType(m.getContext())->params();
  return helper(m, name, params, g, [&](Ir& ir, llvm::Function* f) {
    Value *a = f->getArg(0), *xsA = f->getArg(1), *ksA = f->getArg(2), *bp = f->getArg(3), *xsB = f->getArg(4);
    Value *ksB = f->getArg(5), *K = f->getArg(6), *C = f->getArg(7), *ldc = f->getArg(8), *rows = f->getArg(9);
    Value* n = f->getArg(10);
    llvm::IRBuilder<>& b = ir.b;
    llvm::Type* f32 = b.getFloatTy();
    auto* vec = llvm::FixedVectorType::get(f32, static_cast<unsigned>(W));
    std::vector<Value*> aRow;
    for (int r = 0; r < R; ++r) aRow.push_back(ir.at(a, ir.mul(ir.min(ir.c(r), ir.sub(rows, ir.c(1))), xsA)));
    auto aAt = [&](int r, Value* k) { return b.CreateLoad(f32, ir.at(aRow[static_cast<size_t>(r)], ir.mul(k, ksA))); };
    ir.blocks(ir.c(0), n, width, [&](Value*, Value* j, Value* nrv) {
      Value* cTile = ir.at(C, j);
      if (transposed) {
        std::vector<Value*> bRow;  // row j + x of B^T, x in [0, width)
        for (int64_t x = 0; x < width; ++x)
          bRow.push_back(ir.at(bp, ir.mul(ir.min(ir.add(j, ir.c(x)), ir.sub(n, ir.c(1))), xsB)));
        auto bAt = [&](Value* k, int v) -> Value* {
          Value* out = llvm::PoisonValue::get(vec);
          for (int e = 0; e < W; ++e)
            out = b.CreateInsertElement(out, b.CreateLoad(f32, ir.at(bRow[static_cast<size_t>(v * W + e)], k)),
                                        static_cast<uint64_t>(e));
          return out;
        };
        auto bBlockAt = [&](Value* k0, int v) {
          std::vector<Value*> block;
          for (int e = 0; e < W; ++e)
            block.push_back(b.CreateAlignedLoad(vec, ir.at(bRow[static_cast<size_t>(v * W + e)], k0), llvm::Align(4)));
          return transposeSquare(b, std::move(block));
        };
        emitTile(ir, g, R, V, rows, nrv, K, aAt, bAt, cTile, ldc, b.getTrue(), bBlockAt);
        return;
      }
      auto bPtr = [&](Value* k, int v) { return ir.at(bp, ir.add(ir.mul(k, ksB), ir.add(j, ir.c(int64_t{v} * W)))); };
      ir.ifElse(b.CreateICmpEQ(nrv, ir.c(width)), [&] {
        emitTile(ir, g, R, V, rows, nrv, K, aAt,
                 [&](Value* k, int v) { return b.CreateAlignedLoad(vec, bPtr(k, v), llvm::Align(4)); }, cTile, ldc,
                 b.getTrue());
      }, [&] {
        // Right edge: masked loads never touch memory past the row's end.
        std::vector<Value*> masks;
        for (int v = 0; v < V; ++v) {
          std::vector<llvm::Constant*> lanes;
          for (int e = 0; e < W; ++e) lanes.push_back(b.getInt64(static_cast<uint64_t>(v * W + e)));
          masks.push_back(b.CreateICmpSLT(llvm::ConstantVector::get(lanes), b.CreateVectorSplat(static_cast<unsigned>(W), nrv)));
        }
        emitTile(ir, g, R, V, rows, nrv, K, aAt, [&](Value* k, int v) -> Value* {
          return b.CreateMaskedLoad(vec, bPtr(k, v), llvm::Align(4), masks[static_cast<size_t>(v)],
                                    llvm::Constant::getNullValue(vec));
        }, cTile, ldc, b.getTrue());
      });
    }, "js");
  });
}

// pack(dst, src, xs, ks, nx, kc): panels of P along x, each kc x P k-major, from
// src[x * xs + k * ks], x in [0, nx), zero-padded to whole panels.
//
// The source is read in the order it lies in memory. Packing a panel at a time would read
// P floats from each of kc rows (or one float from each of P rows per k), a few hundred
// bytes from each 4 KiB page: the hardware prefetchers follow neither, and rows 4 KiB apart
// (a 1024-wide weight) all fall in one L1 set. The CNN example's dense layer packed its
// weights at 1.5 to 3 ns a float that way. So:
// - contiguous along x (B as stored): k by k, each row's whole run of x into every panel;
// - contiguous along k (B transposed): x by x, its run of k in vectors whose W values go to
//   W rows of the panel.
// A's panels (MR rows, fewer than a vector) are transposed the same way when A is stored
// along k, copied a vector per k when A is stored along x (in both, a vector's last lanes
// spill into the next slot: the packed buffer has W floats of slack), else go element by
// element.
llvm::Function* packHelper(llvm::Module& m, const GemmBlocking& g, int64_t P) {
  llvm::LLVMContext& ctx = m.getContext();
  llvm::Type *ptr = llvm::PointerType::get(ctx, 0), *i64 = llvm::Type::getInt64Ty(ctx);
  return helper(m, "nnc.gemm.pack." + std::to_string(P), {ptr, ptr, i64, i64, i64, i64}, g,
                [&](Ir& ir, llvm::Function* f) {
    Value *dst = f->getArg(0), *src = f->getArg(1), *xs = f->getArg(2), *ks = f->getArg(3), *nx = f->getArg(4);
    Value* kc = f->getArg(5);
    llvm::IRBuilder<>& b = ir.b;
    llvm::Type* f32 = b.getFloatTy();
    const int64_t W = g.lanes;
    auto* vec = llvm::FixedVectorType::get(f32, static_cast<unsigned>(W));
    // Element (k, x) of the panel starting at x0, and of the source.
    auto put = [&](Value* panel, Value* k, Value* x, Value* v) {
      b.CreateStore(v, ir.at(dst, ir.add(ir.mul(ir.add(ir.mul(panel, kc), k), ir.c(P)), x)));
    };
    auto get = [&](Value* x0, Value* k, Value* x) {
      return b.CreateLoad(f32, ir.at(src, ir.add(ir.mul(ir.add(x0, x), xs), ir.mul(k, ks))));
    };
    // Panels [p0, p1) from x = p0 * P on, one element at a time, padding past nx with zeros.
    auto scalarPanels = [&](Value* p0, Value* p1) {
      ir.loop(p0, p1, [&](Value* panel) {
        Value* x0 = ir.mul(panel, ir.c(P));
        Value* nv = ir.min(ir.c(P), ir.sub(nx, x0));
        ir.loop(ir.c(0), kc, [&](Value* k) {
          ir.loop(ir.c(0), nv, [&](Value* x) { put(panel, k, x, get(x0, k, x)); }, "x");
          ir.loop(nv, ir.c(P), [&](Value* x) { put(panel, k, x, llvm::ConstantFP::get(f32, 0.0)); }, "x");
        }, "k");
      }, "panel");
    };
    Value* whole = b.CreateUDiv(nx, ir.c(P));
    Value* panels = ir.ceilDiv(nx, P);
    auto xContiguous = [&] {
      ir.loop(ir.c(0), kc, [&](Value* k) {
        ir.loop(ir.c(0), whole, [&](Value* panel) {
          Value* row = ir.at(src, ir.add(ir.mul(k, ks), ir.mul(panel, ir.c(P))));
          Value* to = ir.at(dst, ir.mul(ir.add(ir.mul(panel, kc), k), ir.c(P)));
          for (int64_t v = 0; v < P / W; ++v)
            b.CreateAlignedStore(b.CreateAlignedLoad(vec, ir.at(row, ir.c(v * W)), llvm::Align(4)), ir.at(to, ir.c(v * W)),
                                 llvm::Align(static_cast<uint64_t>(W) * 4));
        }, "panel");
      }, "k");
      scalarPanels(whole, panels);
    };
    auto kContiguous = [&] {
      Value* kBlocks = b.CreateUDiv(kc, ir.c(W));
      ir.loop(ir.c(0), whole, [&](Value* panel) {
        Value* x0 = ir.mul(panel, ir.c(P));
        // W x W blocks (W values of x, W of k), transposed in registers: whole vectors in
        // and out, where one extract and one scalar store per element made this pack slow.
        ir.loop(ir.c(0), ir.c(P / W), [&](Value* xg) {  // run-time loops: the pack stays small
          Value* xw = ir.mul(xg, ir.c(W));
          ir.loop(ir.c(0), kBlocks, [&](Value* kb) {
            Value* k0 = ir.mul(kb, ir.c(W));
            std::vector<Value*> runs;
            for (int64_t e = 0; e < W; ++e)
              runs.push_back(b.CreateAlignedLoad(
                  vec, ir.at(src, ir.add(ir.mul(ir.add(x0, ir.add(xw, ir.c(e))), xs), k0)), llvm::Align(4)));
            std::vector<Value*> columns = transposeSquare(b, std::move(runs));
            for (int64_t kk = 0; kk < W; ++kk) {
              Value* to = ir.at(dst, ir.add(ir.mul(ir.add(ir.mul(panel, kc), ir.add(k0, ir.c(kk))), ir.c(P)), xw));
              b.CreateAlignedStore(columns[static_cast<size_t>(kk)], to, llvm::Align(static_cast<uint64_t>(W) * 4));
            }
          }, "kb");
        }, "xg");
        ir.loop(ir.c(0), ir.c(P), [&](Value* x) {
          ir.loop(ir.mul(kBlocks, ir.c(W)), kc, [&](Value* k) { put(panel, k, x, get(x0, k, x)); }, "k");
        }, "x");
      }, "panel");
      scalarPanels(whole, panels);
    };
    // Panels narrower than a vector (A's MR rows) along k: W values of k from each of the P
    // rows (the last row repeated to fill W), transposed, and each k's vector stored whole in
    // k order, so its W - P lanes past the panel row land where the next k (or the next
    // panel, or the buffer's slack) is written later.
    auto kContiguousNarrow = [&] {
      Value* kBlocks = b.CreateUDiv(kc, ir.c(W));
      ir.loop(ir.c(0), whole, [&](Value* panel) {
        Value* x0 = ir.mul(panel, ir.c(P));
        ir.loop(ir.c(0), kBlocks, [&](Value* kb) {
          Value* k0 = ir.mul(kb, ir.c(W));
          std::vector<Value*> runs;
          for (int64_t e = 0; e < W; ++e)
            runs.push_back(b.CreateAlignedLoad(
                vec, ir.at(src, ir.add(ir.mul(ir.add(x0, ir.c(std::min(e, P - 1))), xs), k0)), llvm::Align(4)));
          std::vector<Value*> columns = transposeSquare(b, std::move(runs));
          for (int64_t kk = 0; kk < W; ++kk) {
            Value* to = ir.at(dst, ir.mul(ir.add(ir.mul(panel, kc), ir.add(k0, ir.c(kk))), ir.c(P)));
            b.CreateAlignedStore(columns[static_cast<size_t>(kk)], to, llvm::Align(4));
          }
        }, "kb");
        ir.loop(ir.mul(kBlocks, ir.c(W)), kc, [&](Value* k) {
          ir.loop(ir.c(0), ir.c(P), [&](Value* x) { put(panel, k, x, get(x0, k, x)); }, "x");
        }, "k");
      }, "panel");
      scalarPanels(whole, panels);
    };
    // Panels narrower than a vector with x contiguous (A^T, a weight gradient's x^T): each
    // k's run of the panel's P values read as a whole vector and stored whole in k order,
    // its W - P extra lanes landing where the next k (or the next panel, or the slack) is
    // written later. Only panels with W values of x left in the source go this way.
    auto xContiguousNarrow = [&] {
      Value* fits = b.CreateICmpSGE(nx, ir.c(W));
      Value* vectorPanels = b.CreateSelect(fits, ir.add(b.CreateUDiv(ir.sub(ir.max(nx, ir.c(W)), ir.c(W)), ir.c(P)), ir.c(1)), ir.c(0));
      ir.loop(ir.c(0), vectorPanels, [&](Value* panel) {
        Value* from = ir.at(src, ir.mul(panel, ir.c(P)));
        Value* to = ir.at(dst, ir.mul(ir.mul(panel, kc), ir.c(P)));
        ir.loop(ir.c(0), kc, [&](Value* k) {
          b.CreateAlignedStore(b.CreateAlignedLoad(vec, ir.at(from, ir.mul(k, ks)), llvm::Align(4)),
                               ir.at(to, ir.mul(k, ir.c(P))), llvm::Align(4));
        }, "k");
      }, "panel");
      scalarPanels(vectorPanels, panels);
    };
    if (P < W)
      return ir.ifElse(b.CreateICmpEQ(ks, ir.c(1)), kContiguousNarrow, [&] {
        ir.ifElse(b.CreateICmpEQ(xs, ir.c(1)), xContiguousNarrow, [&] { scalarPanels(ir.c(0), panels); });
      });
    if (P % W != 0) return scalarPanels(ir.c(0), panels);
    ir.ifElse(b.CreateICmpEQ(xs, ir.c(1)), xContiguous, [&] {
      ir.ifElse(b.CreateICmpEQ(ks, ir.c(1)), kContiguous, [&] { scalarPanels(ir.c(0), panels); });
    });
  });
}

// The driver's parameters, in order (see driverHelper).
enum DriverArg { kA, kB, kC, kK, kN, kXsA, kKsA, kXsB, kKsB, kI0, kI1, kJ0, kJ1, kRowBase, kSmallOne, kSmallMany,
                 kEpilogue, kFrame, kEpilogueFlags, kDriverArgs };
// kEpilogueFlags: bits of LoopNestArgs' i1s the task knows statically.
constexpr int64_t kFlagWrapSums = 1, kFlagEpilogueStreams = 2;

// Set in an epilogue's `end` when the tile's sums are at its slice's first rows (rowPanels):
// far above any flat index (kMaxElements is 2^40).
constexpr int64_t kEpilogueWrappedBit = 62;
// And when the call only prefetches the block's lines of the tensors the epilogue streams.
constexpr int64_t kEpiloguePrefetchBit = 61;

// The epilogue's tile, rows [row, row + rows) x columns [col, col + cols) of an output with
// n columns, as a task's (begin, end): the flat indices of its first element and one past its
// last. The tile is not empty, so both corners are inside it and the pair says it all.
std::pair<Value*, Value*> encodeTile(Ir& ir, Value* n, Value* row, Value* rows, Value* col, Value* cols) {
  Value* begin = ir.add(ir.mul(row, n), col);
  Value* lastRow = ir.sub(ir.add(row, rows), ir.c(1));
  return {begin, ir.add(ir.mul(lastRow, n), ir.add(col, cols))};
}

// Rows [i0, i1) x columns [j0, j1) of C = A @ B: A(i, k) at A[i * xsA + k * ksA], B(k, j) at
// B[j * xsB + k * ksB], C(i, j) at C[i * N + j]. A task with a few rows may skip packing:
// the small-M kernels smallOne (one row) and smallMany (up to kSmallRowsMax) for B's layout,
// when not null.
struct LoopNestArgs {
  Value *A, *B, *C, *K, *N, *xsA, *ksA, *xsB, *ksB, *i0, *i1, *j0, *j1, *smallOne, *smallMany;
  int bTransposed = -1;  // B's layout when known where the nest is emitted (0, 1), else -1: from xsB
  bool direct = true;    // false: no direct path at all (smallOne is null)
  // An i1: the product has an epilogue, which may then run on whole row panels (rowPanels).
  Value* hasEpilogue = nullptr;
  // An i1 (null: false): C is scratch that only the epilogue reads, and the task owns its
  // columns of every row, so row panels may put their sums in the slice's first rows.
  Value* wrapSums = nullptr;
  // An i1 (null: false): the epilogue streams other tensors of C's size (an optimizer's
  // state), so row panels pay even when K needs several blocks.
  Value* epilogueStreams = nullptr;
};
// Runs the epilogue, when `when`, on the finished block rows [r, r + rows) (from i0's
// origin) x columns [col, col + cols).
// `wrapped` (an i1): the block's sums are at the slice's first rows (see rowPanels).
// `prefetch` (an i1): only fetch the lines of the tensors the epilogue streams, for a block
// that comes later.
using BlockDone = std::function<void(Value* when, Value* r, Value* rows, Value* col, Value* cols, Value* wrapped,
                                     Value* prefetch)>;

// The BLIS loop nest (see the top of this file) in the function `ir` builds: the shared
// driver, or a small product's own task. `done` runs after the last K block of each MC x NR
// column of tiles (small enough to be in L1 still, large enough that a call costs nothing),
// or after the direct path's rows.
void emitLoopNest(Ir& ir, llvm::Module& m, const GemmBlocking& g, const LoopNestArgs& a, const BlockDone& done) {
  llvm::IRBuilder<>& b = ir.b;
  llvm::Function *tile = tileHelper(m, g, g.mr), *packA = packHelper(m, g, g.mr), *packB = packHelper(m, g, g.nr);
  llvm::Function* edgeTile = g.mrEdge > 0 && g.mrEdge < g.mr ? tileHelper(m, g, g.mrEdge) : nullptr;
  const int64_t kcMost = std::max(g.kc, g.kcFewRows);
  llvm::AllocaInst* aBuf = ir.local(
      llvm::ArrayType::get(b.getFloatTy(), static_cast<uint64_t>(g.mc) * static_cast<uint64_t>(kcMost) + g.lanes),
      "packedA", 64);
  const uint64_t bBufFloats = std::max(static_cast<uint64_t>(g.kc) * g.nc, static_cast<uint64_t>(g.kcFewRows) * g.ncFewRows);
  llvm::AllocaInst* bBuf = ir.local(llvm::ArrayType::get(b.getFloatTy(), bBufFloats), "packedB", 64);
  // Row panels (see the top of this file; a weight gradient over the batch with a fused
  // update): the epilogue runs on MR whole rows of the task's columns at a time, so the
  // tensors it streams (an optimizer's parameter and state, read and written in place) go by
  // in long contiguous runs, where an MC x NR column of tiles touched one cache line in each
  // of MC rows 4 KiB apart, which the prefetchers cannot follow. B is packed for all the
  // task's columns per K block, and the tiles go row panel by row panel, each micro-panel
  // of B coming from L2; the C panel the epilogue reads is still in L1.
  auto rowPanels = [&](Value* kStepMax) {
    Value* streams = a.epilogueStreams ? a.epilogueStreams : b.getFalse();
    Value* width = ir.sub(a.j1, a.j0);
    // K in equal blocks of at most kStepMax (a whole number of vectors each), as `packed` does.
    Value* kBlocks = ir.max(b.CreateUDiv(ir.add(a.K, ir.sub(kStepMax, ir.c(1))), kStepMax), ir.c(1));
    Value* kcStep = ir.mul(ir.ceilDiv(b.CreateUDiv(ir.add(a.K, ir.sub(kBlocks, ir.c(1))), kBlocks), g.lanes),
                           ir.c(g.lanes));
    // Sums that never meet another K block need no place of their own.
    Value* wrap = b.CreateAnd(a.wrapSums ? a.wrapSums : b.getFalse(), b.CreateICmpEQ(kBlocks, ir.c(1)));
    ir.loop(ir.c(0), kBlocks, [&](Value* kb) {
      Value* pc = ir.mul(kb, kcStep);
      Value* kcv = ir.min(kcStep, ir.sub(a.K, pc));
      Value* first = b.CreateICmpEQ(kb, ir.c(0));
      Value* last = b.CreateICmpEQ(kb, ir.sub(kBlocks, ir.c(1)));
      b.CreateCall(packB, {bBuf, ir.at(a.B, ir.add(ir.mul(a.j0, a.xsB), ir.mul(pc, a.ksB))), a.xsB, a.ksB, width, kcv});
      ir.blocks(a.i0, ir.sub(a.i1, a.i0), g.mc, [&](Value*, Value* ic, Value* mcv) {
        b.CreateCall(packA, {aBuf, ir.at(a.A, ir.add(ir.mul(ic, a.xsA), ir.mul(pc, a.ksA))), a.xsA, a.ksA, mcv, kcv});
        ir.blocks(ir.c(0), mcv, g.mr, [&](Value* iPanel, Value* irow, Value* mrv) {
          Value* r = ir.add(ic, irow);
          Value* sumsRow = b.CreateSelect(wrap, ir.c(0), r);
          Value* aPanel = ir.at(aBuf, ir.mul(ir.mul(iPanel, ir.c(g.mr)), kcv));
          ir.blocks(ir.c(0), width, g.nr, [&](Value* jPanel, Value* jr, Value* nrv) {
            Value* bPanel = ir.at(bBuf, ir.mul(ir.mul(jPanel, ir.c(g.nr)), kcv));
            std::vector<Value*> args{aPanel, ir.c(1), ir.c(g.mr), bPanel, kcv,
                                     ir.at(a.C, ir.add(ir.mul(sumsRow, a.N), ir.add(a.j0, jr))), a.N, mrv, nrv, first};
            if (!edgeTile) {
              b.CreateCall(tile, args);
            } else {
              ir.ifElse(b.CreateICmpSLE(mrv, ir.c(g.mrEdge)), [&] { b.CreateCall(edgeTile, args); },
                        [&] { b.CreateCall(tile, args); });
            }
            // The next row panel's lines of the streamed tensors, a tile's columns at a
            // time: fetched while the FMAs run, where the epilogue alone would wait on them.
            Value* next = ir.add(r, mrv);
            done(b.CreateAnd(b.CreateAnd(last, streams), b.CreateICmpSLT(next, a.i1)), next,
                 ir.min(ir.c(g.mr), ir.sub(a.i1, next)), ir.add(a.j0, jr), nrv, b.getFalse(), b.getTrue());
          }, "jr");
          done(last, r, mrv, a.j0, width, wrap, b.getFalse());
        }, "ir");
      }, "ic");
    }, "kb");
  };
  auto packed = [&] {
    // A task whose rows fit one MC block packs them once per K block, and packs B in
    // narrower blocks (ncFewRows): each packed B block is read back once, from L2 while
    // it still is there, next to the look-ahead's lines of the next one. Its K blocks are
    // deeper (kcFewRows): fewer reloads of C and calls per output tile.
    Value* oneRowBlock = b.CreateICmpSLE(ir.sub(a.i1, a.i0), ir.c(g.mc));
    Value* nc = b.CreateSelect(oneRowBlock, ir.c(g.ncFewRows), ir.c(g.nc));
    Value* kcMax = b.CreateSelect(oneRowBlock, ir.c(g.kcFewRows), ir.c(g.kc));
    Value* aInPlace = b.CreateAnd(oneRowBlock, b.CreateICmpEQ(a.ksA, ir.c(1)));
    // K in equal blocks (a whole number of vectors each, at most kcMax) rather than full
    // ones and a thin last one (K = 784: 264, 264, 256 rather than 384, 384, 16), where the
    // fixed cost of a tile (C loaded and stored, the call) would not be amortised.
    Value* kBlocks = ir.max(b.CreateUDiv(ir.add(a.K, ir.sub(kcMax, ir.c(1))), kcMax), ir.c(1));  // K = 0: one
    Value* kcStep = ir.mul(ir.ceilDiv(b.CreateUDiv(ir.add(a.K, ir.sub(kBlocks, ir.c(1))), kBlocks), g.lanes),
                           ir.c(g.lanes));
    Value* width = ir.sub(a.j1, a.j0);
    Value* jBlocks = b.CreateUDiv(ir.add(width, ir.sub(nc, ir.c(1))), nc);
    Value* asStored = b.CreateICmpEQ(a.xsB, ir.c(1));
    Value* pfRow = b.CreateSelect(asStored, a.ksB, a.xsB);
    Value* pfStep = b.CreateSelect(asStored, ir.mul(a.ksB, ir.c(16)), ir.c(16));
    // The look-ahead's lines per micro-panel, for the deepest K block it may run with
    // (kcFewRows: it runs only with one row block); past a shallower block's rows, the
    // extra prefetches are harmless.
    const int64_t pfLines = int64_t{g.kcFewRows} * std::max(1, g.nr / 16);
    ir.loop(ir.c(0), kBlocks, [&](Value* kb) {
      Value* pc = ir.mul(kb, kcStep);
      Value* kcv = ir.min(kcStep, ir.sub(a.K, pc));
      Value* first = b.CreateICmpEQ(kb, ir.c(0));
      Value* last = b.CreateICmpEQ(kb, ir.sub(kBlocks, ir.c(1)));
      ir.loop(ir.c(0), jBlocks, [&](Value* jb) {
        Value* jOff = ir.mul(jb, nc);
        Value* jc = ir.add(a.j0, jOff);
        Value* ncv = ir.min(nc, ir.sub(width, jOff));
        b.CreateCall(packB, {bBuf, ir.at(a.B, ir.add(ir.mul(jc, a.xsB), ir.mul(pc, a.ksB))), a.xsB, a.ksB, ncv, kcv});
        // The next B block this task packs (the next columns, else the next K block's
        // first), for the look-ahead: when the rows fit one row block, before each tile of a
        // micro-panel, a share of the lines of that micro-panel's source in the next block
        // is prefetched (into L2), kc lines per 16 columns: one per row of B as stored, or
        // kc / 16 per row of B^T. Spread over the tiles, the fetches overlap their FMAs,
        // and the pack of the next block finds B in cache instead of stalling on memory
        // with no FMA to overlap (fashion_cnn's dense layer streams 12.8 MB of weights
        // through the pack at M = 64). None after the task's last block.
        Value* lastColumns = b.CreateICmpEQ(jb, ir.sub(jBlocks, ir.c(1)));
        Value* nextJc = b.CreateSelect(lastColumns, a.j0, ir.add(jc, nc));
        Value* nextPc = b.CreateSelect(lastColumns, ir.add(pc, kcStep), pc);
        Value* nextB = b.CreateGEP(b.getFloatTy(), a.B, b.CreateAdd(b.CreateMul(nextJc, a.xsB), b.CreateMul(nextPc, a.ksB)));
        Value* hasNext = b.CreateNot(b.CreateAnd(lastColumns, last));
        ir.blocks(a.i0, ir.sub(a.i1, a.i0), g.mc, [&](Value*, Value* ic, Value* mcv) {
          // One row block: A's block for this K block is packed already after the first
          // columns, or not packed at all when A's rows lie along k (the tiles read them in
          // place: the whole of A is then in L2 anyway, and its transposing pack took 4% of
          // fashion_mlp's inference).
          ir.ifThen(b.CreateAnd(b.CreateNot(aInPlace),
                                b.CreateOr(b.CreateNot(oneRowBlock), b.CreateICmpEQ(jb, ir.c(0)))), [&] {
            b.CreateCall(packA, {aBuf, ir.at(a.A, ir.add(ir.mul(ic, a.xsA), ir.mul(pc, a.ksA))), a.xsA, a.ksA, mcv, kcv});
          });
          // Only with one row block: there B's pack is a large part of the work, while a
          // larger M amortises it, and fetching the next block into L2 would evict the
          // current one that the next row blocks still read (slower on square 1024).
          // And only when the task's part of B is larger than a core's L2 by far: from L3
          // the pack keeps up anyway, and the prefetches, a share of kc lines per micro-panel
          // before each of its few tiles, cost more than they save (fashion_mlp's 784 x 256
          // weight, 1 thread: 25% slower with them at M = 16, 8% at M = 64).
          Value* largeB = b.CreateICmpSGE(ir.mul(width, a.K), ir.c(kLookAheadMinFloats));
          Value* lookAhead = b.CreateAnd(b.CreateAnd(hasNext, oneRowBlock), largeB);
          Value* pfPerTile = b.CreateUDiv(ir.add(ir.c(pfLines), ir.sub(ir.ceilDiv(mcv, g.mr), ir.c(1))), ir.ceilDiv(mcv, g.mr));
          ir.blocks(ir.c(0), ncv, g.nr, [&](Value* jPanel, Value* jr, Value* nrv) {
            Value* bPanel = ir.at(bBuf, ir.mul(ir.mul(jPanel, ir.c(g.nr)), kcv));
            ir.blocks(ir.c(0), mcv, g.mr, [&](Value* iPanel, Value* irow, Value* mrv) {
              Value* r = ir.add(ic, irow);
              Value* aPanel = b.CreateSelect(aInPlace, ir.at(a.A, ir.add(ir.mul(r, a.xsA), pc)),
                                             ir.at(aBuf, ir.mul(ir.mul(iPanel, ir.c(g.mr)), kcv)));
              Value* ars = b.CreateSelect(aInPlace, a.xsA, ir.c(1));
              Value* aks = b.CreateSelect(aInPlace, ir.c(1), ir.c(g.mr));
              Value* col = ir.add(jc, jr);
              ir.ifThen(lookAhead, [&] {
                Value* lo = ir.mul(iPanel, pfPerTile);
                ir.loop(lo, ir.min(ir.add(lo, pfPerTile), ir.c(pfLines)), [&](Value* t) {
                  // Line t: 16 columns `group`, line `line` of them. Plain (not inbounds)
                  // arithmetic: past the source's end on a last block, where a prefetch
                  // never faults.
                  Value* group = b.CreateUDiv(t, ir.c(g.kcFewRows));
                  Value* line = b.CreateURem(t, ir.c(g.kcFewRows));
                  Value* off = b.CreateAdd(
                      b.CreateMul(b.CreateAdd(jr, b.CreateMul(group, ir.c(16))), a.xsB),
                      b.CreateAdd(b.CreateMul(b.CreateAnd(line, ir.c(15)), pfRow), b.CreateMul(b.CreateLShr(line, ir.c(4)), pfStep)));
                  // Locality 2 (prefetcht1): L2, not over the B panel in L1, where 16 rows
                  // of B^T 4 KiB apart share sets; faster on sgemm_bench cnn_fc_dx than t0.
                  b.CreateIntrinsic(llvm::Intrinsic::prefetch, {b.getPtrTy()},
                                    {b.CreateGEP(b.getFloatTy(), nextB, off), b.getInt32(0), b.getInt32(2), b.getInt32(1)});
                }, "pf");
              });
              std::vector<Value*> args{aPanel, ars, aks, bPanel, kcv, ir.at(a.C, ir.add(ir.mul(r, a.N), col)), a.N, mrv, nrv, first};
              if (!edgeTile) return void(b.CreateCall(tile, args));
              ir.ifElse(b.CreateICmpSLE(mrv, ir.c(g.mrEdge)), [&] { b.CreateCall(edgeTile, args); },
                        [&] { b.CreateCall(tile, args); });
            }, "ir");
            done(b.CreateAnd(last, b.CreateNot(oneRowBlock)), ic, mcv, ir.add(jc, jr), nrv, b.getFalse(), b.getFalse());
          }, "jr");
          // One row block: the epilogue on the whole B block's columns at once (at most
          // ncFewRows x mc, in L2), wide enough for its vector loop, where one micro-panel's
          // NR columns ran it element by element.
          done(b.CreateAnd(last, oneRowBlock), ic, mcv, jc, ncv, b.getFalse(), b.getFalse());
        }, "ic");
      }, "jb");
    }, "kb");
  };
  // Row panels only where there are several row blocks (a weight gradient's M = 3136: one
  // row block has its own order, above), in K blocks of at most KC whose packed B for all
  // the task's columns fits the buffer, at least a vector deep; and with several K blocks
  // only for an epilogue that streams state (sums through C then cost more than the
  // contiguous runs save for a bias or an activation).
  auto packedOrRowPanels = [&] {
    if (!a.hasEpilogue) return packed();
    Value* width = ir.sub(a.j1, a.j0);
    Value* kFit = ir.mul(b.CreateUDiv(b.CreateUDiv(ir.c(static_cast<int64_t>(bBufFloats)), ir.max(width, ir.c(1))),
                                      ir.c(g.lanes)), ir.c(g.lanes));
    Value* kStepMax = ir.min(ir.c(g.kc), kFit);
    Value* oneBlock = b.CreateICmpSLE(a.K, kStepMax);
    Value* eligible = b.CreateAnd(b.CreateAnd(a.hasEpilogue, b.CreateICmpSGE(kFit, ir.c(g.lanes))),
                                  b.CreateAnd(b.CreateICmpSGT(ir.sub(a.i1, a.i0), ir.c(g.mc)), b.CreateICmpSGT(a.K, ir.c(0))));
    Value* streams = a.epilogueStreams ? a.epilogueStreams : b.getFalse();
    Value* take = b.CreateAnd(eligible, b.CreateOr(oneBlock, streams));
    ir.ifElse(take, [&] { rowPanels(kStepMax); }, packed);
  };
  if (!a.direct) return packedOrRowPanels();
  // Rows kSmallRowsMax at a time, a single row by the one-row kernel and 2 or 3 by the
  // larger one (B is read once either way, and two variants compile faster than four).
  auto direct = [&] {
    ir.blocks(a.i0, ir.sub(a.i1, a.i0), kSmallRowsMax, [&](Value*, Value* i, Value* rows) {
      std::vector<Value*> args{ir.at(a.A, ir.mul(i, a.xsA)), a.xsA, a.ksA, ir.at(a.B, ir.mul(a.j0, a.xsB)), a.xsB, a.ksB,
                               a.K, ir.at(a.C, ir.add(ir.mul(i, a.N), a.j0)), a.N, rows, ir.sub(a.j1, a.j0)};
      auto call = [&](Value* kernel) { b.CreateCall(smallHelperType(m.getContext()), kernel, args); };
      ir.ifElse(b.CreateICmpEQ(rows, ir.c(1)), [&] { call(a.smallOne); }, [&] { call(a.smallMany); });
    }, "is");
    done(b.CreateAnd(b.CreateICmpSLT(a.i0, a.i1), b.CreateICmpSLT(a.j0, a.j1)), a.i0, ir.sub(a.i1, a.i0), a.j0,
         ir.sub(a.j1, a.j0), b.getFalse(), b.getFalse());
  };
  Value* directRows = a.bTransposed == 1   ? ir.c(kDirectRowsBT)
                      : a.bTransposed == 0 ? ir.c(kDirectRowsB)
                                           : b.CreateSelect(b.CreateICmpEQ(a.xsB, ir.c(1)), ir.c(kDirectRowsB),
                                                            ir.c(kDirectRowsBT));
  ir.ifElse(b.CreateAnd(b.CreateIsNotNull(a.smallOne), b.CreateICmpSLE(ir.sub(a.i1, a.i0), directRows)), direct,
            packedOrRowPanels);
}

// driver(A, B, C, K, N, xsA, ksA, xsB, ksB, i0, i1, j0, j1, rowBase, smallOne, smallMany, epilogue,
// frame):
// the loop nest over LoopNestArgs, shared by every larger product in the module, so such a
// product's own task is only the split of its work and a call. `epilogue` (a task function
// of the product's kernel, or null) runs on each finished block, epilogue(frame, begin,
// end) with the block as encodeTile makes it and its rows counted from rowBase.
llvm::Function* driverHelper(llvm::Module& m, const GemmBlocking& g) {
  llvm::LLVMContext& ctx = m.getContext();
  llvm::Type *ptr = llvm::PointerType::get(ctx, 0), *i64 = llvm::Type::getInt64Ty(ctx);
  std::vector<llvm::Type*> params(kDriverArgs, i64);
  for (int a : {kA, kB, kC, kSmallOne, kSmallMany, kEpilogue, kFrame}) params[static_cast<size_t>(a)] = ptr;
  std::string name = "nnc.gemm.driver." + std::to_string(g.mr) + "x" + std::to_string(g.nr);
  // The epilogue reaches C through the frame: the driver's pointers may alias its accesses.
  return helper(m, name, params, g, [&](Ir& ir, llvm::Function* f) {
    auto arg = [&](DriverArg a) { return f->getArg(static_cast<unsigned>(a)); };
    llvm::IRBuilder<>& b = ir.b;
    Value *N = arg(kN), *rowBase = arg(kRowBase), *epilogue = arg(kEpilogue), *frame = arg(kFrame);
    auto* taskType = llvm::FunctionType::get(b.getVoidTy(), {ptr, i64, i64}, false);
    Value* hasEpilogue = b.CreateICmpNE(epilogue, llvm::ConstantPointerNull::get(llvm::PointerType::get(ctx, 0)));
    LoopNestArgs a{arg(kA),  arg(kB),  arg(kC),  arg(kK),  N,        arg(kXsA), arg(kKsA),
                   arg(kXsB), arg(kKsB), arg(kI0), arg(kI1), arg(kJ0), arg(kJ1),  arg(kSmallOne), arg(kSmallMany)};
    a.hasEpilogue = hasEpilogue;
    a.wrapSums = b.CreateICmpNE(b.CreateAnd(arg(kEpilogueFlags), ir.c(kFlagWrapSums)), ir.c(0));
    a.epilogueStreams = b.CreateICmpNE(b.CreateAnd(arg(kEpilogueFlags), ir.c(kFlagEpilogueStreams)), ir.c(0));
    emitLoopNest(ir, m, g, a, [&](Value* when, Value* r, Value* rows, Value* col, Value* cols, Value* wrapped,
                                  Value* prefetch) {
      llvm::BasicBlock* after = llvm::BasicBlock::Create(ctx, "epi.after", f);
      llvm::BasicBlock* call = llvm::BasicBlock::Create(ctx, "epi", f);
      b.CreateCondBr(b.CreateAnd(when, hasEpilogue), call, after);
      b.SetInsertPoint(call);
      auto [begin, end] = encodeTile(ir, N, ir.add(rowBase, r), rows, col, cols);
      end = b.CreateOr(end, b.CreateShl(b.CreateZExt(wrapped, b.getInt64Ty()), ir.c(kEpilogueWrappedBit)));
      end = b.CreateOr(end, b.CreateShl(b.CreateZExt(prefetch, b.getInt64Ty()), ir.c(kEpiloguePrefetchBit)));
      b.CreateCall(taskType, epilogue, {frame, begin, end});
      b.CreateBr(after);
      b.SetInsertPoint(after);
    });
  }, /*noAliasPointers=*/false);
}

// Products with less work per output row than this (K * N multiply-adds) run the loop nest
// inline in their own task, specialised to their sizes: there the driver's generality costs
// more than a few percent (an LSTM's gates), and the code is small anyway.
constexpr int64_t kMinSharedDriverWork = 16384;

class GemmTask {
 public:
  // `epilogue`: the epilogue's own function (shared driver), or `hook` emitted inline.
  GemmTask(KernelContext& kc, const GemmProblem& p, llvm::Function* epilogue, const GemmTileHook& hook)
      : p_(p), g_(hostGemmBlocking()), epilogue_(epilogue), hook_(hook), tb_(kc.entry, kc.taskName(), kc.buffers()),
        ir_{tb_.b(), tb_.function()} {}

  void emit(bool shared);

 private:
  Value* c(int64_t v) { return ir_.c(v); }
  Value* address(NodeId node, Value* index) { return tb_.address(node, index); }
  void slice(Value* l, Value* i0, Value* i1, Value* j0, Value* j1, bool shared);

  GemmProblem p_;
  GemmBlocking g_;
  llvm::Function* epilogue_;
  const GemmTileHook& hook_;
  TaskBuilder tb_;
  Ir ir_;
  Value *M_ = nullptr, *K_ = nullptr, *N_ = nullptr;
  bool wrapSums_ = false;
};

void GemmTask::slice(Value* l, Value* i0, Value* i1, Value* j0, Value* j1, bool shared) {
  Value* aBase = ir_.mul(l, ir_.mul(M_, K_));
  Value* bBase = p_.bBatched ? ir_.mul(l, ir_.mul(K_, N_)) : c(0);
  Value* cRowBase = ir_.mul(l, M_);
  LoopNestArgs a{address(p_.a, aBase),
                 address(p_.b, bBase),
                 address(p_.c, ir_.mul(cRowBase, N_)),
                 K_,
                 N_,
                 p_.transA ? c(1) : K_,
                 p_.transA ? M_ : c(1),
                 p_.transB ? K_ : c(1),
                 p_.transB ? c(1) : N_,
                 i0,
                 i1,
                 j0,
                 j1,
                 nullptr,
                 nullptr};
  a.bTransposed = p_.transB ? 1 : 0;
  llvm::Module& m = tb_.entry().module;
  // The direct path (the small-M kernels of B's layout) only in inference: a training step
  // runs at its batch, where packing pays, and without it the module carries the small-M
  // kernels of only the layouts its inference products use (half the GEMM code of an MLP).
  a.direct = tb_.graph().updates.empty();
  auto* ptr = llvm::PointerType::get(tb_.ctx(), 0);
  a.smallOne = a.direct ? static_cast<Value*>(smallHelper(m, g_, 1, p_.transB)) : llvm::ConstantPointerNull::get(ptr);
  a.smallMany = a.direct ? static_cast<Value*>(smallHelper(m, g_, kSmallRowsMax, p_.transB))
                         : llvm::ConstantPointerNull::get(ptr);
  if (!shared) {
    if (hook_) {
      a.hasEpilogue = ir_.b.getTrue();
      a.epilogueStreams = ir_.b.getInt1(p_.epilogueStreams);
    }
    emitLoopNest(ir_, m, g_, a, [&](Value* when, Value* r, Value* rows, Value* col, Value* cols, Value*, Value* prefetch) {
      if (hook_)
        tb_.ifThen(when, [&] { hook_(tb_, ir_.add(cRowBase, r), rows, col, cols, ir_.add(cRowBase, r), prefetch); });
    });
    return;
  }
  std::vector<Value*> args{a.A,  a.B,  a.C,  a.K,  a.N,        a.xsA,       a.ksA,   a.xsB,
                           a.ksB, a.i0, a.i1, a.j0, a.j1, cRowBase, a.smallOne, a.smallMany, nullptr,
                           tb_.function()->getArg(0),
                           c((wrapSums_ ? kFlagWrapSums : 0) | (p_.epilogueStreams ? kFlagEpilogueStreams : 0))};
  args[kEpilogue] = epilogue_ ? static_cast<Value*>(epilogue_) : llvm::ConstantPointerNull::get(ptr);
  ir_.b.CreateCall(driverHelper(m, g_), args);
}

void GemmTask::emit(bool shared) {
  M_ = tb_.extent(p_.m);
  K_ = tb_.extent(p_.k);
  N_ = c(p_.n);

  Extent rows{p_.l.k * p_.m.k, p_.l.batched || p_.m.batched};
  int64_t panels = (p_.n + g_.nr - 1) / g_.nr;
  bool byColumns = splitProductByColumns(rows, p_.k, p_.n, panels, kMinColumnPanels);  // TaskSplit.h
  // Tasks that own whole columns never write the same rows of C at once.
  wrapSums_ = byColumns && p_.sumsAreScratch && epilogue_;
  Value *rowLo, *rowHi, *colLo, *colHi;
  if (byColumns) {
    rowLo = c(0);
    rowHi = tb_.extent(rows);
    colLo = ir_.mul(tb_.begin(), c(g_.nr));
    colHi = ir_.min(ir_.mul(tb_.end(), c(g_.nr)), N_);
  } else {
    rowLo = tb_.begin();
    rowHi = tb_.end();
    colLo = c(0);
    colHi = N_;
  }
  // The leading indices the rows touch, and each one's row range.
  llvm::IRBuilder<>& b = ir_.b;
  Value* lLo = b.CreateUDiv(rowLo, M_);
  Value* lHi = b.CreateUDiv(ir_.add(rowHi, ir_.sub(M_, c(1))), M_);
  ir_.loop(lLo, lHi, [&](Value* l) {
    Value* first = ir_.mul(l, M_);
    Value* i0 = ir_.max(ir_.sub(rowLo, first), c(0));  // negative before the max
    Value* i1 = ir_.min(ir_.sub(rowHi, first), M_);
    slice(l, i0, i1, colLo, colHi, shared);
  }, "l");

  Extent work = byColumns ? Extent{rows.k * p_.k.k * g_.nr * 2, rows.batched || p_.k.batched}
                          : Extent{p_.k.k * p_.n * 2, p_.k.batched};
  tb_.finish(byColumns ? Extent{panels, false} : rows, work);
}

// The product's epilogue as a function of its own over the same frame as its task (the same
// buffers give the same frame layout), called by the driver with a tile as encodeTile makes
// it. Placed before the task in the module, so that identical epilogues merge first and then
// the tasks that call them merge too (mergeIdenticalTasks compares callees by identity).
llvm::Function* emitEpilogue(KernelContext& kc, const GemmProblem& p, const GemmTileHook& onTile) {
  TaskBuilder etb(kc.entry, kc.taskName("_epilogue"), kc.buffers());
  Ir ir{etb.b(), etb.function()};
  Value* n = ir.c(std::max<int64_t>(p.n, 1));  // never called when N = 0
  Value* wrapped = ir.b.CreateICmpNE(ir.b.CreateLShr(etb.end(), ir.c(kEpilogueWrappedBit)), ir.c(0));
  Value* prefetch = ir.b.CreateICmpNE(ir.b.CreateAnd(ir.b.CreateLShr(etb.end(), ir.c(kEpiloguePrefetchBit)), ir.c(1)), ir.c(0));
  Value* last = ir.sub(ir.b.CreateAnd(etb.end(), ir.c((int64_t{1} << kEpiloguePrefetchBit) - 1)), ir.c(1));
  Value* row = ir.b.CreateUDiv(etb.begin(), n);
  Value* col = ir.b.CreateURem(etb.begin(), n);
  Value* rows = ir.add(ir.sub(ir.b.CreateUDiv(last, n), row), ir.c(1));
  Value* cols = ir.add(ir.sub(ir.b.CreateURem(last, n), col), ir.c(1));
  Value* m = etb.extent(p.m);
  Value* sliceRow = ir.mul(ir.b.CreateUDiv(row, ir.max(m, ir.c(1))), m);
  onTile(etb, row, rows, col, cols, ir.b.CreateSelect(wrapped, sliceRow, row), prefetch);
  ir.b.CreateRetVoid();
  return etb.function();
}

}  // namespace

void emitGemm(KernelContext& kc, const GemmProblem& p, const GemmTileHook& onTile) {
  bool shared = p.k.batched || p.k.k * p.n >= kMinSharedDriverWork;
  llvm::Function* epilogue = shared && onTile ? emitEpilogue(kc, p, onTile) : nullptr;
  GemmTask task(kc, p, epilogue, onTile);
  task.emit(shared);
}

}  // namespace nnc::codegen
