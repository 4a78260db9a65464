// The GEMM emitter (see GemmEmitter.h). Loop nest of one task, after BLIS:
//
//   for each leading index l and the task's rows [i0, i1) and columns [j0, j1):
//     for jc in NC blocks of columns:
//       for pc in KC blocks of k:              (in order: each element's sum stays one chain)
//         pack B[pc.., jc..] into kc x NR micro-panels          (zero-padded to NR columns)
//         for ic in MC blocks of rows:
//           pack A[ic.., pc..] into MR x kc micro-panels         (zero-padded to MR rows)
//           for jr: for ir: microkernel: MR x NR accumulators in registers, kc FMAs deep;
//                                        first K block starts at 0, later ones reload C
//
// Edges: packing pads with zeros so the microkernel always runs a whole tile; partial
// tiles go through a small stack tile on their way to and from C. When a task has only a
// handful of rows and B is not transposed, packing does not pay (batch-1 inference): a
// one-row kernel reads A and B in place, 4 vectors of columns at a time, with masked loads
// at the right edge. Both paths compute the same FMA chain per element, so which one runs
// never changes a result.
//
// Parallel range (static, from the shape): panels of NR output columns when N spans at
// least four of them (each task then packs only its own columns of B), else output rows.
// K is never split, so the result does not depend on the thread count.
//
// Code size: the microkernel, the one-row kernel and the packing routines are helper
// functions shared by every product in the module (never inlined); tasks are loops + calls.
//
// Scratch: the packed A block and B panel are allocas in the task (mc*kc and kc*nc floats,
// about 0.6 MiB at most), private to each running task, so any number of threads can run
// tasks at once.
#include "compiler/codegen/GemmEmitter.h"

#include <atomic>

#include <llvm/IR/Intrinsics.h>
#include <llvm/TargetParser/Host.h>

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
  return g;
}

namespace {
std::atomic<int> lanesOverride{0};
}  // namespace

void overrideGemmLanes(int lanes) { lanesOverride = lanes; }

GemmBlocking hostGemmBlocking() {
  static const int hostLanes = [] {
    llvm::StringMap<bool> f = llvm::sys::getHostCPUFeatures();
    auto has = [&](const char* name) {
      auto it = f.find(name);
      return it != f.end() && it->second;
    };
    return has("avx512f") ? 16 : has("avx") ? 8 : 4;
  }();
  int forced = lanesOverride.load();
  return gemmBlockingForLanes(forced ? forced : hostLanes);
}

namespace {

constexpr int kDirectVectors = 4;   // columns per step of the direct path, in vectors
constexpr int64_t kDirectRows = 4;  // at most this many rows in a task: no packing
constexpr int64_t kMinColumnPanels = 4;

using ScalarAt = std::function<Value*(int r, Value* k)>;
using VectorAt = std::function<Value*(Value* k, int v)>;

// Loops, branches and index arithmetic in whichever function is being built (a task or one
// of the shared helpers). Offsets are non-negative: no wrap.
struct Ir {
  llvm::IRBuilder<>& b;
  llvm::Function* fn;

  llvm::LLVMContext& ctx() { return b.getContext(); }
  Value* c(int64_t v) { return b.getInt64(static_cast<uint64_t>(v)); }
  Value* add(Value* x, Value* y) { return b.CreateAdd(x, y, "", true, true); }
  Value* mul(Value* x, Value* y) { return b.CreateMul(x, y, "", true, true); }
  Value* sub(Value* x, Value* y) { return b.CreateSub(x, y); }
  Value* min(Value* x, Value* y) { return b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, x, y); }
  Value* max(Value* x, Value* y) { return b.CreateBinaryIntrinsic(llvm::Intrinsic::smax, x, y); }
  Value* ceilDiv(Value* x, int64_t d) { return b.CreateUDiv(add(x, c(d - 1)), c(d)); }
  Value* at(Value* base, Value* index) { return b.CreateInBoundsGEP(b.getFloatTy(), base, index); }

  void loop(Value* lo, Value* hi, const std::function<void(Value*)>& body, const char* name) {
    llvm::BasicBlock* pre = b.GetInsertBlock();
    auto* header = llvm::BasicBlock::Create(ctx(), std::string(name) + ".head", fn);
    auto* bodyBlock = llvm::BasicBlock::Create(ctx(), std::string(name) + ".body", fn);
    auto* exit = llvm::BasicBlock::Create(ctx(), std::string(name) + ".exit", fn);
    b.CreateBr(header);
    b.SetInsertPoint(header);
    llvm::PHINode* iv = b.CreatePHI(b.getInt64Ty(), 2, name);
    iv->addIncoming(lo, pre);
    b.CreateCondBr(b.CreateICmpSLT(iv, hi), bodyBlock, exit);
    b.SetInsertPoint(bodyBlock);
    body(iv);
    iv->addIncoming(b.CreateAdd(iv, c(1), "", true, true), b.GetInsertBlock());
    b.CreateBr(header);
    b.SetInsertPoint(exit);
  }
  void ifElse(Value* cond, const std::function<void()>& then, const std::function<void()>& otherwise) {
    auto* thenBlock = llvm::BasicBlock::Create(ctx(), "then", fn);
    auto* elseBlock = llvm::BasicBlock::Create(ctx(), "else", fn);
    auto* merge = llvm::BasicBlock::Create(ctx(), "endif", fn);
    b.CreateCondBr(cond, thenBlock, elseBlock);
    b.SetInsertPoint(thenBlock);
    then();
    b.CreateBr(merge);
    b.SetInsertPoint(elseBlock);
    otherwise();
    b.CreateBr(merge);
    b.SetInsertPoint(merge);
  }
  // for (blk = 0; blk < ceil(len / size); ++blk) body(blk, lo + blk * size, its count)
  void blocks(Value* lo, Value* len, int64_t size, const std::function<void(Value*, Value*, Value*)>& body,
              const char* name) {
    loop(c(0), ceilDiv(len, size), [&](Value* blk) {
      Value* off = mul(blk, c(size));
      body(blk, add(lo, off), min(c(size), b.CreateSub(len, off, "", true, true)));
    }, name);
  }
  llvm::AllocaInst* local(llvm::Type* t, const char* name, unsigned align = 0) {
    llvm::BasicBlock& entry = fn->getEntryBlock();
    llvm::IRBuilder<> eb(&entry, entry.begin());
    llvm::AllocaInst* a = eb.CreateAlloca(t, nullptr, name);
    if (align) a->setAlignment(llvm::Align(align));
    return a;
  }
};

// A helper shared by every product in the module (both entry points): built once, called,
// never inlined, so a model with many products compiles one microkernel, not many.
llvm::Function* helper(llvm::Module& m, const std::string& name, std::vector<llvm::Type*> params,
                       const GemmBlocking& g, const std::function<void(Ir&, llvm::Function*)>& build) {
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
    if (params[i]->isPointerTy()) {
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
// from C. Partial tiles pass through a stack tile, so C is touched only where valid.
void emitTile(Ir& ir, const GemmBlocking& g, int mrT, int vT, Value* mrv, Value* nrv, Value* kcv, const ScalarAt& aAt,
              const VectorAt& bAt, Value* C, Value* ldc, Value* first) {
  llvm::IRBuilder<>& b = ir.b;
  const int W = g.lanes, nrT = W * vT;
  auto* vec = llvm::FixedVectorType::get(b.getFloatTy(), static_cast<unsigned>(W));
  llvm::AllocaInst* tile = ir.local(llvm::ArrayType::get(b.getFloatTy(), static_cast<uint64_t>(mrT * nrT)), "tile", 64);
  std::vector<llvm::AllocaInst*> acc;
  for (int i = 0; i < mrT * vT; ++i) acc.push_back(ir.local(vec, "acc"));
  auto accAt = [&](int r, int v) { return acc[static_cast<size_t>(r * vT + v)]; };
  auto cAt = [&](Value* r, Value* col) { return ir.at(C, ir.add(ir.mul(r, ldc), col)); };
  auto tileAt = [&](Value* r, Value* col) { return ir.at(tile, ir.add(ir.mul(r, ir.c(nrT)), col)); };
  Value* full = b.CreateAnd(b.CreateICmpEQ(mrv, ir.c(mrT)), b.CreateICmpEQ(nrv, ir.c(nrT)));

  ir.ifElse(first, [&] {
    for (llvm::AllocaInst* a : acc) b.CreateStore(llvm::Constant::getNullValue(vec), a);
  }, [&] {
    ir.ifElse(full, [&] {
      for (int r = 0; r < mrT; ++r)
        for (int v = 0; v < vT; ++v)
          b.CreateStore(b.CreateAlignedLoad(vec, cAt(ir.c(r), ir.c(v * W)), llvm::Align(4)), accAt(r, v));
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

  // The FMA chains, in k order.
  ir.loop(ir.c(0), kcv, [&](Value* k) {
    std::vector<Value*> bv;
    for (int v = 0; v < vT; ++v) bv.push_back(bAt(k, v));
    for (int r = 0; r < mrT; ++r) {
      Value* a = b.CreateVectorSplat(static_cast<unsigned>(W), aAt(r, k));
      for (int v = 0; v < vT; ++v) {
        Value* s = b.CreateLoad(vec, accAt(r, v));
        b.CreateStore(b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vec}, {a, bv[static_cast<size_t>(v)], s}), accAt(r, v));
      }
    }
  }, "k");

  ir.ifElse(full, [&] {
    for (int r = 0; r < mrT; ++r)
      for (int v = 0; v < vT; ++v)
        b.CreateAlignedStore(b.CreateLoad(vec, accAt(r, v)), cAt(ir.c(r), ir.c(v * W)), llvm::Align(4));
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

// tile(Ap, Bp, kc, C, ldc, mr, nr, first): the microkernel on packed micro-panels
// (A: kc x MR, B: kc x NR, both k-major).
llvm::Function* tileHelper(llvm::Module& m, const GemmBlocking& g) {
  llvm::LLVMContext& ctx = m.getContext();
  llvm::Type *ptr = llvm::PointerType::get(ctx, 0), *i64 = llvm::Type::getInt64Ty(ctx);
  std::string name = "nnc.gemm.tile." + std::to_string(g.mr) + "x" + std::to_string(g.nr);
  return helper(m, name, {ptr, ptr, i64, ptr, i64, i64, i64, llvm::Type::getInt1Ty(ctx)}, g,
                [&](Ir& ir, llvm::Function* f) {
    Value *ap = f->getArg(0), *bp = f->getArg(1), *kc = f->getArg(2), *C = f->getArg(3), *ldc = f->getArg(4);
    auto* vec = llvm::FixedVectorType::get(ir.b.getFloatTy(), static_cast<unsigned>(g.lanes));
    emitTile(ir, g, g.mr, g.vectors, f->getArg(5), f->getArg(6), kc,
             [&](int r, Value* k) { return ir.b.CreateLoad(ir.b.getFloatTy(), ir.at(ap, ir.add(ir.mul(k, ir.c(g.mr)), ir.c(r)))); },
             [&](Value* k, int v) {
               return ir.b.CreateAlignedLoad(vec, ir.at(bp, ir.add(ir.mul(k, ir.c(g.nr)), ir.c(int64_t{v} * g.lanes))),
                                             llvm::Align(static_cast<uint64_t>(g.lanes) * 4));
             },
             C, ldc, f->getArg(7));
  });
}

// row(a, as, b, ldb, K, c, n): c[0, n) = sum over k of a[k * as] * b[k * ldb + 0..n), with A
// and B read in place: the direct path for tasks with a few rows.
llvm::Function* rowHelper(llvm::Module& m, const GemmBlocking& g) {
  llvm::LLVMContext& ctx = m.getContext();
  llvm::Type *ptr = llvm::PointerType::get(ctx, 0), *i64 = llvm::Type::getInt64Ty(ctx);
  const int W = g.lanes;
  const int64_t width = int64_t{W} * kDirectVectors;
  return helper(m, "nnc.gemm.row." + std::to_string(width), {ptr, i64, ptr, i64, i64, ptr, i64}, g,
                [&](Ir& ir, llvm::Function* f) {
    Value *a = f->getArg(0), *as = f->getArg(1), *bp = f->getArg(2), *ldb = f->getArg(3), *K = f->getArg(4);
    Value *C = f->getArg(5), *n = f->getArg(6);
    llvm::IRBuilder<>& b = ir.b;
    auto* vec = llvm::FixedVectorType::get(b.getFloatTy(), static_cast<unsigned>(W));
    ir.blocks(ir.c(0), n, width, [&](Value*, Value* j, Value* nrv) {
      auto aAt = [&](int, Value* k) { return b.CreateLoad(b.getFloatTy(), ir.at(a, ir.mul(k, as))); };
      auto bPtr = [&](Value* k, int v) { return ir.at(bp, ir.add(ir.mul(k, ldb), ir.add(j, ir.c(int64_t{v} * W)))); };
      Value* cRow = ir.at(C, j);
      ir.ifElse(b.CreateICmpEQ(nrv, ir.c(width)), [&] {
        emitTile(ir, g, 1, kDirectVectors, ir.c(1), nrv, K, aAt,
                 [&](Value* k, int v) { return b.CreateAlignedLoad(vec, bPtr(k, v), llvm::Align(4)); }, cRow, ir.c(0),
                 b.getTrue());
      }, [&] {
        // Right edge: masked loads never touch memory past the row's end.
        std::vector<Value*> masks;
        for (int v = 0; v < kDirectVectors; ++v) {
          std::vector<llvm::Constant*> lanes;
          for (int e = 0; e < W; ++e) lanes.push_back(b.getInt64(static_cast<uint64_t>(v * W + e)));
          masks.push_back(b.CreateICmpSLT(llvm::ConstantVector::get(lanes), b.CreateVectorSplat(static_cast<unsigned>(W), nrv)));
        }
        emitTile(ir, g, 1, kDirectVectors, ir.c(1), nrv, K, aAt, [&](Value* k, int v) -> Value* {
          return b.CreateMaskedLoad(vec, bPtr(k, v), llvm::Align(4), masks[static_cast<size_t>(v)],
                                    llvm::Constant::getNullValue(vec));
        }, cRow, ir.c(0), b.getTrue());
      });
    }, "jd");
  });
}

// pack(dst, src, xs, ks, nx, kc): panels of P along x, each kc x P k-major, from
// src[x * xs + k * ks], x in [0, nx), zero-padded to whole panels.
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
    ir.blocks(ir.c(0), nx, P, [&](Value* panel, Value* x0, Value* nv) {
      Value* s = ir.at(src, ir.mul(x0, xs));
      Value* d = ir.at(dst, ir.mul(ir.mul(panel, ir.c(P)), kc));
      auto put = [&](Value* k, Value* x, Value* v) { b.CreateStore(v, ir.at(d, ir.add(ir.mul(k, ir.c(P)), x))); };
      auto get = [&](Value* k, Value* x) { return b.CreateLoad(f32, ir.at(s, ir.add(ir.mul(x, xs), ir.mul(k, ks)))); };
      auto wholeScalar = [&] {
        ir.loop(ir.c(0), kc, [&](Value* k) {
          for (int64_t x = 0; x < P; ++x) put(k, ir.c(x), get(k, ir.c(x)));
        }, "k");
      };
      ir.ifElse(b.CreateICmpEQ(nv, ir.c(P)), [&] {
        if (P % W != 0) return wholeScalar();
        ir.ifElse(b.CreateICmpEQ(xs, ir.c(1)), [&] {  // rows of P contiguous floats
          ir.loop(ir.c(0), kc, [&](Value* k) {
            for (int64_t v = 0; v < P / W; ++v) {
              Value* x = b.CreateAlignedLoad(vec, ir.at(s, ir.add(ir.mul(k, ks), ir.c(v * W))), llvm::Align(4));
              b.CreateAlignedStore(x, ir.at(d, ir.add(ir.mul(k, ir.c(P)), ir.c(v * W))), llvm::Align(static_cast<uint64_t>(W) * 4));
            }
          }, "k");
        }, wholeScalar);
      }, [&] {
        ir.loop(ir.c(0), kc, [&](Value* k) {
          ir.loop(ir.c(0), nv, [&](Value* x) { put(k, x, get(k, x)); }, "x");
          ir.loop(nv, ir.c(P), [&](Value* x) { put(k, x, llvm::ConstantFP::get(f32, 0.0)); }, "x");
        }, "k");
      });
    }, "panel");
  });
}

class GemmTask {
 public:
  GemmTask(KernelContext& kc, const GemmProblem& p, const GemmTileHook& hook)
      : p_(p), g_(hostGemmBlocking()), hook_(hook), tb_(kc.entry, kc.taskName(), kc.buffers()),
        ir_{tb_.b(), tb_.function()} {}

  void emit();

 private:
  Value* c(int64_t v) { return ir_.c(v); }
  Value* address(NodeId node, Value* index) { return tb_.address(node, index); }
  void slice(Value* l, Value* i0, Value* i1, Value* j0, Value* j1);
  void packedSlice(Value* aBase, Value* bBase, Value* cRowBase, Value* i0, Value* i1, Value* j0, Value* j1);
  void directSlice(Value* aBase, Value* bBase, Value* cRowBase, Value* i0, Value* i1, Value* j0, Value* j1);

  GemmProblem p_;
  GemmBlocking g_;
  const GemmTileHook& hook_;
  TaskBuilder tb_;
  Ir ir_;
  Value *M_ = nullptr, *K_ = nullptr, *N_ = nullptr;
  Value *aBuf_ = nullptr, *bBuf_ = nullptr;
};

void GemmTask::packedSlice(Value* aBase, Value* bBase, Value* cRowBase, Value* i0, Value* i1, Value* j0, Value* j1) {
  llvm::Module& m = tb_.entry().module;
  llvm::Function *tile = tileHelper(m, g_), *packA = packHelper(m, g_, g_.mr), *packB = packHelper(m, g_, g_.nr);
  llvm::IRBuilder<>& b = ir_.b;
  // A(i, k) at aBase + i * xsA + k * ksA; B(k, j) at bBase + j * xsB + k * ksB.
  Value* xsA = p_.transA ? c(1) : K_;
  Value* ksA = p_.transA ? M_ : c(1);
  Value* xsB = p_.transB ? K_ : c(1);
  Value* ksB = p_.transB ? c(1) : N_;
  Value* kBlocks = ir_.max(ir_.ceilDiv(K_, g_.kc), c(1));  // K = 0 still writes the zeros
  ir_.blocks(j0, ir_.sub(j1, j0), g_.nc, [&](Value*, Value* jc, Value* ncv) {
    ir_.loop(c(0), kBlocks, [&](Value* kb) {
      Value* pc = ir_.mul(kb, c(g_.kc));
      Value* kcv = ir_.min(c(g_.kc), ir_.sub(K_, pc));
      Value* first = b.CreateICmpEQ(kb, c(0));
      Value* last = b.CreateICmpEQ(kb, ir_.sub(kBlocks, c(1)));
      b.CreateCall(packB, {bBuf_, address(p_.b, ir_.add(bBase, ir_.add(ir_.mul(jc, xsB), ir_.mul(pc, ksB)))), xsB, ksB,
                           ncv, kcv});
      ir_.blocks(i0, ir_.sub(i1, i0), g_.mc, [&](Value*, Value* ic, Value* mcv) {
        b.CreateCall(packA, {aBuf_, address(p_.a, ir_.add(aBase, ir_.add(ir_.mul(ic, xsA), ir_.mul(pc, ksA)))), xsA,
                             ksA, mcv, kcv});
        ir_.blocks(c(0), ncv, g_.nr, [&](Value* jPanel, Value* jr, Value* nrv) {
          Value* bPanel = ir_.at(bBuf_, ir_.mul(ir_.mul(jPanel, c(g_.nr)), kcv));
          ir_.blocks(c(0), mcv, g_.mr, [&](Value* iPanel, Value* ir, Value* mrv) {
            Value* aPanel = ir_.at(aBuf_, ir_.mul(ir_.mul(iPanel, c(g_.mr)), kcv));
            Value* row = ir_.add(cRowBase, ir_.add(ic, ir));
            Value* col = ir_.add(jc, jr);
            b.CreateCall(tile, {aPanel, bPanel, kcv, address(p_.c, ir_.add(ir_.mul(row, N_), col)), N_, mrv, nrv, first});
            if (hook_) tb_.ifThen(last, [&] { hook_(tb_, row, mrv, col, nrv); });
          }, "ir");
        }, "jr");
      }, "ic");
    }, "kb");
  }, "jc");
}

void GemmTask::directSlice(Value* aBase, Value* bBase, Value* cRowBase, Value* i0, Value* i1, Value* j0, Value* j1) {
  llvm::Function* row = rowHelper(tb_.entry().module, g_);
  ir_.loop(i0, i1, [&](Value* i) {
    Value* a = address(p_.a, ir_.add(aBase, p_.transA ? i : ir_.mul(i, K_)));
    Value* cRow = ir_.add(cRowBase, i);
    ir_.b.CreateCall(row, {a, p_.transA ? M_ : c(1), address(p_.b, ir_.add(bBase, j0)), N_, K_,
                           address(p_.c, ir_.add(ir_.mul(cRow, N_), j0)), ir_.sub(j1, j0)});
    if (hook_) hook_(tb_, cRow, c(1), j0, ir_.sub(j1, j0));
  }, "i");
}

void GemmTask::slice(Value* l, Value* i0, Value* i1, Value* j0, Value* j1) {
  Value* aBase = ir_.mul(l, ir_.mul(M_, K_));
  Value* bBase = p_.bBatched ? ir_.mul(l, ir_.mul(K_, N_)) : c(0);
  Value* cRowBase = ir_.mul(l, M_);
  if (p_.transB) {  // B's columns are strided: always pack
    packedSlice(aBase, bBase, cRowBase, i0, i1, j0, j1);
    return;
  }
  ir_.ifElse(ir_.b.CreateICmpSLE(ir_.sub(i1, i0), c(kDirectRows)),
             [&] { directSlice(aBase, bBase, cRowBase, i0, i1, j0, j1); },
             [&] { packedSlice(aBase, bBase, cRowBase, i0, i1, j0, j1); });
}

void GemmTask::emit() {
  llvm::IRBuilder<>& b = ir_.b;
  M_ = tb_.extent(p_.m);
  K_ = tb_.extent(p_.k);
  N_ = c(p_.n);
  aBuf_ = ir_.local(llvm::ArrayType::get(b.getFloatTy(), static_cast<uint64_t>(g_.mc) * g_.kc), "packedA", 64);
  bBuf_ = ir_.local(llvm::ArrayType::get(b.getFloatTy(), static_cast<uint64_t>(g_.kc) * g_.nc), "packedB", 64);

  Extent rows{p_.l.k * p_.m.k, p_.l.batched || p_.m.batched};
  int64_t panels = (p_.n + g_.nr - 1) / g_.nr;
  bool byColumns = panels >= kMinColumnPanels;
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
  Value* lLo = b.CreateUDiv(rowLo, M_);
  Value* lHi = b.CreateUDiv(ir_.add(rowHi, ir_.sub(M_, c(1))), M_);
  ir_.loop(lLo, lHi, [&](Value* l) {
    Value* first = ir_.mul(l, M_);
    Value* i0 = ir_.max(ir_.sub(rowLo, first), c(0));  // negative before the max
    Value* i1 = ir_.min(ir_.sub(rowHi, first), M_);
    slice(l, i0, i1, colLo, colHi);
  }, "l");

  Extent work = byColumns ? Extent{rows.k * p_.k.k * g_.nr * 2, rows.batched || p_.k.batched}
                          : Extent{p_.k.k * p_.n * 2, p_.k.batched};
  tb_.finish(byColumns ? Extent{panels, false} : rows, work);
}

}  // namespace

void emitGemm(KernelContext& kc, const GemmProblem& p, const GemmTileHook& onTile) {
  GemmTask task(kc, p, onTile);
  task.emit();
}

}  // namespace nnc::codegen
