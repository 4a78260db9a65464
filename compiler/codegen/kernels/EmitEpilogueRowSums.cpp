// Row sums in an epilogue (EpilogueRowSums.h, issue 14): the reductions a host kernel's
// `fused` list holds after its epilogue (Fusion.cpp, hostEpilogueRowSums), each a sum or mean
// over the row axis of the host's [rows..., OW, F] output, so one value per (row, channel)
// where a row is every leading index. The host zeroes a row's sums before its first element,
// adds each element's value as it finishes it (in the order the host's plan fixes by the
// shape alone, whatever the thread count) and divides the means once the row is complete.
// The sums live in their own buffer, written by the thread that owns the row only.
#include "compiler/codegen/Emit.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::codegen {

using llvm::Value;

namespace {

bool isRowSumMember(const Graph& g, NodeId f) { return loweringKind(g.node(f).op) == LoweringKind::Reduce; }

// The channels of one row of the sums: the last dim of the reduction's output.
int64_t rowSumChannels(const Graph& g, NodeId f) { return g.node(f).type.shape.dims.back(); }

}  // namespace

void emitEpilogueRowSumsBegin(TaskBuilder& tb, const Kernel& kern, Value* row) {
  const Graph& g = tb.graph();
  for (NodeId f : kern.fused) {
    if (!isRowSumMember(g, f)) continue;
    int64_t C = rowSumChannels(g, f);
    Value* at = sMul(tb.b(), row, C);
    tb.loop(tb.i64(0), tb.i64(C), [&](Value* c) { tb.store(f, sAdd(tb.b(), at, c), tb.f32(0)); }, "rz");
  }
}

void emitEpilogueRowSumsEnd(TaskBuilder& tb, const Kernel& kern, Value* row) {
  const Graph& g = tb.graph();
  for (NodeId f : kern.fused) {
    if (!isRowSumMember(g, f) || g.node(f).op != OpKind::ReduceMean) continue;
    const Shape& space = g.type(g.node(f).inputs[0]).shape;
    int64_t C = rowSumChannels(g, f);
    Value* count = tb.f32(static_cast<double>(space[space.rank() - 2]));
    Value* at = sMul(tb.b(), row, C);
    tb.loop(tb.i64(0), tb.i64(C), [&](Value* c) {
      Value* i = sAdd(tb.b(), at, c);
      tb.store(f, i, tb.b().CreateFDiv(tb.load(f, i), count));
    }, "rm");
  }
}

std::vector<Value*> emitEpilogueRowSumTerms(TaskBuilder& tb, const Kernel& kern, std::map<NodeId, Value*>& value,
                                            const Shape& space, Value* row, Value* col, Value* f) {
  const Graph& g = tb.graph();
  std::vector<Value*> terms;
  for (NodeId id : kern.fused) {
    const Node& m = g.node(id);
    std::vector<Value*> args = epilogueOperands(tb, m, value, space, row, col, f);
    if (isRowSumMember(g, id)) {
      terms.push_back(args[0]);
      continue;
    }
    ScalarContext sc{tb, m, args};
    value[id] = opLowering(m.op).scalar(sc);
  }
  return terms;
}

void addEpilogueRowSumTerms(TaskBuilder& tb, const Kernel& kern, Value* sumRow, Value* col, const std::vector<Value*>& terms) {
  const Graph& g = tb.graph();
  size_t t = 0;
  for (NodeId id : kern.fused) {
    if (!isRowSumMember(g, id)) continue;
    Value* at = sAdd(tb.b(), sMul(tb.b(), sumRow, rowSumChannels(g, id)), col);
    tb.store(id, at, tb.b().CreateFAdd(tb.load(id, at), terms[t++]));
  }
}

}  // namespace nnc::codegen
