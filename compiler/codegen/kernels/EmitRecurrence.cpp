// The time loops of rnn, lstm and gru layers (compiler/ir/RecurrentCell.h), with the
// interpreter's semantics (compiler/interp/RecurrentKernels.cpp): one kernel runs the whole
// sequence over a cell emitted once, so code size and compile time do not depend on the
// number of steps.
//
// Batch rows are independent through the whole recurrence, so a task takes a range of rows
// and runs every time step for each: one parallel launch per layer, no barrier per step.
// Per step and row, the recurrent product h_prev @ U is a loop over h_prev's units whose
// inner loop runs along the gates (contiguous rows of U: vectorised), accumulating straight
// into the step's saved-gate columns; the cell's elementwise part then runs along the units.
// The backward loop computes dh_prev = gh @ U^T as dot products along U's rows (vectorised
// reductions) into a small stack array that carries the gradient to the next step visited.
#include "compiler/codegen/Emit.h"
#include "compiler/codegen/MathEmitter.h"
#include "compiler/ir/OpAttrs.h"
#include "compiler/ir/RecurrentCell.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

// Units beyond which the backward loop's carried gradients (2 * units floats on the task's
// stack) would be unreasonable; U alone would then hold over a billion floats.
constexpr int64_t kMaxRecurrentUnits = 16384;

// Index arithmetic of one row's walk through time.
struct RecurrentWalk {
  TaskBuilder& tb;
  const RecurrentCell& cell;
  int64_t T;
  // The time index of the s-th step visited, and of the step visited before it (clamped to
  // t itself at the first step, so that addresses stay inside the row; its values are then
  // never used).
  Value* at(Value* s) { return cell.reverse ? tb.b().CreateNSWSub(tb.i64(T - 1), s) : s; }
  Value* prev(Value* s, Value* t, Value* hasPrev) {
    Value* p = cell.reverse ? tb.add(t, tb.i64(1)) : tb.b().CreateNSWSub(t, tb.i64(1));
    return tb.b().CreateSelect(hasPrev, p, t);
  }
  // Offset of element 0 of (row, t) in a [B, T, width] tensor.
  Value* rowStart(Value* row, Value* t, int64_t width) { return tb.mul(tb.add(tb.mul(row, tb.i64(T)), t), tb.i64(width)); }
};

// Reassociable, contractible arithmetic for the products' sums (vectorised reductions, FMA).
llvm::FastMathFlags recurrentSumFlags() {
  llvm::FastMathFlags f;
  f.setAllowReassoc();
  f.setAllowContract();
  return f;
}

Value* recurrentActivation(TaskBuilder& tb, const Node& layer, const RecurrentCell& c, Value* p) {
  if (c.identity) return p;
  Node act;
  act.op = c.activation;
  act.inputs = {layer.inputs[0]};
  act.attrs = AlphaAttr{RecurrentAttr::of(layer).alpha}.attrs();
  Value* args[] = {p};
  ScalarContext sc{tb, act, std::span<Value* const>(args, 1)};
  return opLowering(c.activation).scalar(sc);
}

// The rows the tasks share: the batch, or a static first dimension (an imported ONNX
// recurrence over a fixed number of sequences).
Extent recurrentRows(const Shape& s) { return s.isBatched() ? Extent{1, true} : Extent{s[0], false}; }

}  // namespace

Result<void> emitRecurrence(KernelContext& kc) {
  const Node& n = kc.root();
  const RecurrentCell c = *recurrentCellOf(n.attrs);
  const NodeId XP = n.inputs[0], W = n.inputs[1], O = kc.kernel.root;
  const NodeId RB = c.kind == RecurrentCellKind::Gru ? n.inputs[2] : kNoNode;
  const int64_t T = n.type.shape[1], u = c.units, N = c.gateWidth(), S = c.savedWidth();
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  MathEmitter& m = tb.math();
  RecurrentWalk walk{tb, c, T};
  // Where the step's gate pre-activations accumulate: the gate columns of its saved row
  // (for gru the recurrent side only, a = h_prev U + c, which the cell reads back).
  const int64_t gateColumn = c.kind == RecurrentCellKind::Lstm ? 2 * u : u;
  tb.loop(tb.begin(), tb.end(), [&](Value* row) {
    tb.loop(tb.i64(0), tb.i64(T), [&](Value* s) {
      Value* t = walk.at(s);
      Value* hasPrev = b.CreateICmpSGT(s, tb.i64(0));
      Value* x0 = walk.rowStart(row, t, N);
      Value* o0 = walk.rowStart(row, t, S);
      Value* p0 = walk.rowStart(row, walk.prev(s, t, hasPrev), S);
      Value* g0 = tb.add(o0, tb.i64(gateColumn));
      tb.loop(tb.i64(0), tb.i64(N), [&](Value* j) {
        tb.store(O, tb.add(g0, j), c.kind == RecurrentCellKind::Gru ? tb.load(RB, j) : tb.load(XP, tb.add(x0, j)));
      }, "j");
      tb.ifThen(hasPrev, [&] {
        tb.loop(tb.i64(0), tb.i64(u), [&](Value* q) {
          Value* hq = tb.load(O, tb.add(p0, q));
          Value* w0 = tb.mul(q, tb.i64(N));
          tb.loop(tb.i64(0), tb.i64(N), [&](Value* j) {
            Value* at = tb.add(g0, j);
            b.setFastMathFlags(recurrentSumFlags());
            Value* v = b.CreateFAdd(tb.load(O, at), b.CreateFMul(hq, tb.load(W, tb.add(w0, j))));
            b.clearFastMathFlags();
            tb.store(O, at, v);
          }, "j");
        }, "q");
      });
      tb.loop(tb.i64(0), tb.i64(u), [&](Value* j) {
        auto col = [&](Value* base, int64_t k) { return tb.add(base, tb.add(j, tb.i64(k * u))); };
        auto X = [&](int64_t k) { return tb.load(XP, col(x0, k)); };
        auto G = [&](int64_t k) { return tb.load(O, col(g0, k)); };
        auto put = [&](int64_t k, Value* v) { tb.store(O, col(o0, k), v); };
        auto previous = [&](int64_t k) { return b.CreateSelect(hasPrev, tb.load(O, col(p0, k)), tb.f32(0.0)); };
        switch (c.kind) {
          case RecurrentCellKind::Rnn:
            put(0, recurrentActivation(tb, n, c, G(0)));
            break;
          case RecurrentCellKind::Lstm: {
            Value* i = m.sigmoid(b, G(0));
            Value* f = m.sigmoid(b, G(1));
            Value* g = m.tanh(b, G(2));
            Value* og = m.sigmoid(b, G(3));
            Value* cell = b.CreateFAdd(b.CreateFMul(f, previous(1)), b.CreateFMul(i, g));
            put(0, b.CreateFMul(og, m.tanh(b, cell)));
            put(1, cell);
            put(2, i);
            put(3, f);
            put(4, g);
            put(5, og);
            break;
          }
          case RecurrentCellKind::Gru: {
            Value* r = m.sigmoid(b, b.CreateFAdd(X(0), G(0)));
            Value* z = m.sigmoid(b, b.CreateFAdd(X(1), G(1)));
            Value* hn = G(2);
            Value* nn = m.tanh(b, b.CreateFAdd(X(2), b.CreateFMul(r, hn)));
            Value* h = b.CreateFAdd(b.CreateFMul(b.CreateFSub(tb.f32(1.0), z), nn), b.CreateFMul(z, previous(0)));
            put(0, h);
            put(1, r);
            put(2, z);
            put(3, nn);
            put(4, hn);
            break;
          }
        }
      }, "j");
    }, "s");
  }, "row");
  double perStep = 2.0 * double(u * N) + 30.0 * double(N);
  tb.finish(recurrentRows(n.type.shape), workOf(Extent{T, false}, perStep));
  return {};
}

Result<void> emitRecurrenceGrad(KernelContext& kc) {
  const Node& n = kc.root();
  const RecurrentCell c = *recurrentCellOf(n.attrs);
  if (c.units > kMaxRecurrentUnits)
    return makeError(std::string(c.name()) + ": " + std::to_string(c.units) + " units are more than the compiled backward loop takes (" +
                     std::to_string(kMaxRecurrentUnits) + ")");
  const NodeId DH = n.inputs[0], O = n.inputs[1], W = n.inputs[2], G = kc.kernel.root;
  const NodeId D = c.kind == RecurrentCellKind::Rnn ? n.inputs[3] : kNoNode;
  const int64_t T = n.type.shape[1], u = c.units, N = c.gateWidth(), S = c.savedWidth(), GW = c.gradWidth();
  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  llvm::Type* f32 = b.getFloatTy();
  MathEmitter& m = tb.math();
  RecurrentWalk walk{tb, c, T};
  // dh carried to the step visited before (dh_prev), and lstm's dc carried the same way.
  llvm::AllocaInst* carry = tb.local(llvm::ArrayType::get(f32, static_cast<uint64_t>(u)), "carry");
  llvm::AllocaInst* cellCarry = tb.local(llvm::ArrayType::get(f32, static_cast<uint64_t>(u)), "cellCarry");
  llvm::AllocaInst* sum = tb.local(f32, "sum");
  auto slot = [&](llvm::AllocaInst* a, Value* j) { return b.CreateInBoundsGEP(f32, a, {j}); };
  auto get = [&](llvm::AllocaInst* a, Value* j) { return b.CreateAlignedLoad(f32, slot(a, j), llvm::Align(4)); };
  auto set = [&](llvm::AllocaInst* a, Value* j, Value* v) { b.CreateAlignedStore(v, slot(a, j), llvm::Align(4)); };
  Value* one = tb.f32(1.0);
  auto oneMinus = [&](Value* v) { return b.CreateFSub(one, v); };
  tb.loop(tb.begin(), tb.end(), [&](Value* row) {
    tb.loop(tb.i64(0), tb.i64(u), [&](Value* j) {
      set(carry, j, tb.f32(0.0));
      set(cellCarry, j, tb.f32(0.0));
    }, "j");
    tb.loop(tb.i64(0), tb.i64(T), [&](Value* back) {
      Value* s = b.CreateNSWSub(tb.i64(T - 1), back);  // visited in reverse
      Value* t = walk.at(s);
      Value* hasPrev = b.CreateICmpSGT(s, tb.i64(0));
      Value* o0 = walk.rowStart(row, t, S);
      Value* p0 = walk.rowStart(row, walk.prev(s, t, hasPrev), S);
      Value* d0 = walk.rowStart(row, t, u);
      Value* g0 = walk.rowStart(row, t, GW);
      tb.loop(tb.i64(0), tb.i64(u), [&](Value* j) {
        auto col = [&](Value* base, int64_t k) { return tb.add(base, tb.add(j, tb.i64(k * u))); };
        auto saved = [&](int64_t k) { return tb.load(O, col(o0, k)); };
        auto previous = [&](int64_t k) { return b.CreateSelect(hasPrev, tb.load(O, col(p0, k)), tb.f32(0.0)); };
        auto put = [&](int64_t k, Value* v) { tb.store(G, col(g0, k), v); };
        Value* dh = b.CreateFAdd(tb.load(DH, tb.add(d0, j)), get(carry, j));
        switch (c.kind) {
          case RecurrentCellKind::Rnn:
            put(0, c.identity ? dh : b.CreateFMul(dh, tb.load(D, tb.add(d0, j))));
            break;
          case RecurrentCellKind::Lstm: {
            Value *cell = saved(1), *i = saved(2), *f = saved(3), *g = saved(4), *og = saved(5);
            Value* tc = m.tanh(b, cell);
            Value* dc = b.CreateFAdd(b.CreateFMul(b.CreateFMul(dh, og), oneMinus(b.CreateFMul(tc, tc))), get(cellCarry, j));
            set(cellCarry, j, b.CreateFMul(dc, f));
            put(0, b.CreateFMul(b.CreateFMul(dc, g), b.CreateFMul(i, oneMinus(i))));
            put(1, b.CreateFMul(b.CreateFMul(dc, previous(1)), b.CreateFMul(f, oneMinus(f))));
            put(2, b.CreateFMul(b.CreateFMul(dc, i), oneMinus(b.CreateFMul(g, g))));
            put(3, b.CreateFMul(b.CreateFMul(dh, tc), b.CreateFMul(og, oneMinus(og))));
            break;
          }
          case RecurrentCellKind::Gru: {
            Value *r = saved(1), *z = saved(2), *nn = saved(3), *hn = saved(4);
            Value* dn = b.CreateFMul(b.CreateFMul(dh, oneMinus(z)), oneMinus(b.CreateFMul(nn, nn)));
            Value* dr = b.CreateFMul(b.CreateFMul(dn, hn), b.CreateFMul(r, oneMinus(r)));
            Value* dz = b.CreateFMul(b.CreateFMul(dh, b.CreateFSub(previous(0), nn)), b.CreateFMul(z, oneMinus(z)));
            put(0, dr);
            put(1, dz);
            put(2, dn);
            put(3, dr);
            put(4, dz);
            put(5, b.CreateFMul(dn, r));
            set(carry, j, b.CreateFMul(dh, z));  // the direct path h' = ... + z h_prev
            break;
          }
        }
      }, "j");
      // dh_prev = gh @ U^T (+ gru's direct path already in carry).
      tb.ifThen(hasPrev, [&] {
        Value* gh0 = c.kind == RecurrentCellKind::Gru ? tb.add(g0, tb.i64(N)) : g0;
        tb.loop(tb.i64(0), tb.i64(u), [&](Value* q) {
          Value* w0 = tb.mul(q, tb.i64(N));
          b.CreateStore(tb.f32(0.0), sum);
          tb.loop(tb.i64(0), tb.i64(N), [&](Value* j) {
            b.setFastMathFlags(recurrentSumFlags());
            Value* v = b.CreateFAdd(b.CreateLoad(f32, sum), b.CreateFMul(tb.load(G, tb.add(gh0, j)), tb.load(W, tb.add(w0, j))));
            b.clearFastMathFlags();
            b.CreateStore(v, sum);
          }, "j");
          Value* direct = c.kind == RecurrentCellKind::Gru ? get(carry, q) : tb.f32(0.0);
          set(carry, q, b.CreateFAdd(direct, b.CreateLoad(f32, sum)));
        }, "q");
      });
    }, "back");
  }, "row");
  double perStep = 2.0 * double(u * N) + 30.0 * double(N);
  tb.finish(recurrentRows(n.type.shape), workOf(Extent{T, false}, perStep));
  return {};
}

}  // namespace nnc::codegen
