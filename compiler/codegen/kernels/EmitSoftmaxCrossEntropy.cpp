// Row kernels (Kernel::rows, see Lowering.h): softmax with cross-entropy in one kernel per
// direction. The front end writes cross_entropy(logits, labels) as primitive ops,
//   forward   loss_row = -sum_a(one_hot(label)[a] * log_softmax(logits)[a])   (then a mean)
//   backward  d logits = g - exp(log_softmax(logits)) * sum_a(g)             (g = -1/N * one_hot)
// and the partitioner gathers each direction's ops over one [rows..., A] space into a kernel
// whose thread owns whole rows. Per row, in order:
//   1. for each softmax / log_softmax operand x: its maximum, then the sum of exp(x - max)
//      (the statistics emitSoftmax computes, in the same order, so the same values);
//   2. each sum over the row (ascending ids, so a sum may use an earlier one);
//   3. one pass that stores the row-shaped members other kernels read, and the root.
// Every other member (one_hot, the softmax itself, elementwise ops) is recomputed in each
// pass from the row, which stays in L1: the log-probabilities, the one-hot matrix and the
// probabilities never go to memory unless something outside the kernel reads them. No sum
// is split across threads, so results are the same for every thread count.
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "compiler/codegen/Emit.h"
#include "compiler/codegen/MathEmitter.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

bool isSoftmaxLike(OpKind op) { return op == OpKind::Softmax || op == OpKind::LogSoftmax; }

Value* reassocAdd(llvm::IRBuilder<>& b, Value* x, Value* y) {
  Value* s = b.CreateFAdd(x, y);
  llvm::cast<llvm::Instruction>(s)->setHasAllowReassoc(true);
  return s;
}

}  // namespace

Result<void> emitRowKernel(KernelContext& kc) {
  const Graph& g = kc.graph();
  const Kernel& kern = kc.kernel;
  const NodeId root = kern.root;
  const Node& rn = g.node(root);
  const bool reduceRoot = rn.op == OpKind::ReduceSum;
  const Shape& space = reduceRoot ? g.type(rn.inputs[0]).shape : rn.type.shape;
  const int64_t A = space.dims.back();
  Extent rows = elementsOf(space);
  rows.k /= A;

  std::vector<NodeId> members = kern.fused;
  members.push_back(root);  // the highest id: members stay ascending
  const std::set<NodeId> memberSet(members.begin(), members.end());
  auto isRowSum = [&](NodeId n) { return g.node(n).op == OpKind::ReduceSum && memberSet.count(n); };

  TaskBuilder tb(kc.entry, kc.taskName(), kc.buffers());
  auto& b = tb.b();
  llvm::Type* f32 = b.getFloatTy();
  llvm::AllocaInst* slot = tb.local(f32, "acc");
  llvm::AllocaInst* maxSlot = tb.local(f32, "max");

  tb.loop(tb.begin(), tb.end(), [&](Value* r) {
    Value* rowBase = tb.mul(r, tb.i64(A));
    auto at = [&](Value* a) { return tb.add(rowBase, a); };
    // Softmax statistics per operand (softmax and log_softmax of one x share them).
    struct Stats {
      Value* max;
      Value* sum;
      Value* logSum;
    };
    std::map<NodeId, Stats> stats;
    std::map<NodeId, Value*> rowSum;  // each sum member's value for this row

    // The value of node q at column a of this row; `memo` lives for one loop body.
    std::function<Value*(NodeId, Value*, std::map<NodeId, Value*>&)> value = [&](NodeId q, Value* a,
                                                                                 std::map<NodeId, Value*>& memo) {
      auto it = memo.find(q);
      if (it != memo.end()) return it->second;
      const Node& n = g.node(q);
      Value* v;
      if (!memberSet.count(q)) {
        v = operandAt(tb, q, space, r, a, at(a));
      } else if (isSoftmaxLike(n.op)) {
        const Stats& s = stats.at(n.inputs[0]);
        Value* shifted = b.CreateFSub(tb.load(n.inputs[0], at(a)), s.max);
        v = n.op == OpKind::LogSoftmax ? b.CreateFSub(shifted, s.logSum) : b.CreateFDiv(tb.math().exp(b, shifted), s.sum);
      } else if (n.op == OpKind::OneHot) {
        Value* label = b.CreateSExt(tb.load(n.inputs[0], r), b.getInt64Ty());
        v = b.CreateSelect(b.CreateICmpEQ(label, a), tb.f32(1.0), tb.f32(0.0));
      } else if (n.op == OpKind::ReduceSum) {
        v = rowSum.at(q);
      } else if (n.op == OpKind::BroadcastTo && !memberSet.count(n.inputs[0])) {
        // Its operand at the broadcast position (a member operand has the row's shape or is
        // a per-row sum kept as [rows..., 1]: its value here is already the broadcast one).
        v = operandAt(tb, n.inputs[0], space, r, a, at(a));
      } else {
        std::vector<Value*> args;
        for (NodeId in : n.inputs) args.push_back(value(in, a, memo));
        ScalarContext sc{tb, n, args};
        v = opLowering(n.op).scalar(sc);
      }
      memo[q] = v;
      return v;
    };

    // 1. Softmax statistics, as emitSoftmax computes them.
    for (NodeId m : members) {
      const Node& n = g.node(m);
      if (!isSoftmaxLike(n.op) || stats.count(n.inputs[0])) continue;
      NodeId x = n.inputs[0];
      Value* mx = emitLineMax(tb, x, tb.i64(A), at, maxSlot);
      b.CreateStore(tb.f32(0.0), slot);
      tb.loop(tb.i64(0), tb.i64(A), [&](Value* a) {
        Value* e = tb.math().exp(b, b.CreateFSub(tb.load(x, at(a)), mx));
        b.CreateStore(reassocAdd(b, b.CreateLoad(f32, slot), e), slot);
      }, "a");
      Value* sum = b.CreateLoad(f32, slot);
      stats[x] = Stats{mx, sum, tb.math().log(b, sum)};
    }

    // 2. Sums over the row, in id order.
    for (NodeId m : members) {
      if (!isRowSum(m)) continue;
      b.CreateStore(tb.f32(0.0), slot);
      tb.loop(tb.i64(0), tb.i64(A), [&](Value* a) {
        std::map<NodeId, Value*> memo;
        b.CreateStore(reassocAdd(b, b.CreateLoad(f32, slot), value(g.node(m).inputs[0], a, memo)), slot);
      }, "a");
      rowSum[m] = b.CreateLoad(f32, slot);
    }

    // 3. Stores: row-shaped members read elsewhere and a row-shaped root, then the sums.
    std::vector<NodeId> rowShaped;
    for (NodeId s : kern.stored)
      if (!isRowSum(s)) rowShaped.push_back(s);
    if (!reduceRoot) rowShaped.push_back(root);
    if (!rowShaped.empty()) {
      tb.loop(tb.i64(0), tb.i64(A), [&](Value* a) {
        std::map<NodeId, Value*> memo;
        for (NodeId s : rowShaped) tb.store(s, at(a), value(s, a, memo));
      }, "a");
    }
    for (NodeId s : kern.stored)
      if (isRowSum(s)) tb.store(s, r, rowSum.at(s));
    if (reduceRoot) tb.store(root, r, rowSum.at(root));
  }, "row");

  double passes = 2.0 + static_cast<double>(members.size());
  tb.finish(rows, workOf(Extent{A, false}, 12.0 * passes));
  return {};
}

}  // namespace nnc::codegen
