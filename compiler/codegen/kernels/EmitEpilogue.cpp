// A fused epilogue (Kernel::epilogue, see Lowering.h) on one output element, for kernel
// emitters whose output is [rows..., cols] and that apply it to each block they finish while
// the block is still in cache (convolutions, and the matrix product's tile hook). The
// kernel's value is read back from `out`, the members are computed in
// id order by the op table's scalar functions, and every stored member is written.
#include <map>

#include "compiler/codegen/Emit.h"

namespace nnc::codegen {

using llvm::Value;

Value* operandAt(TaskBuilder& tb, NodeId q, const Shape& space, Value* row, Value* col, Value* f) {
  const LoweredGraph& lg = tb.entry().lowered;
  if (lg.storage[static_cast<size_t>(q)].kind == StorageKind::Uniform) return uniformValue(tb, q);
  const Shape& qs = tb.graph().type(q).shape;
  if (qs == space) return tb.load(q, f);
  std::vector<int64_t> strides = rowMajorStrides(qs);
  size_t rank = space.rank(), lead = rank - qs.rank();
  Value* offset = tb.i64(0);
  Value* rest = row;  // index over dims [0, rank - 1), decomposed from the innermost
  for (size_t d = rank; d-- > 0;) {
    Value* idx;
    if (d + 1 == rank) {
      idx = col;
    } else if (d == 0) {
      idx = rest;
    } else {
      idx = tb.b().CreateURem(rest, tb.i64(space[d]));
      rest = tb.b().CreateUDiv(rest, tb.i64(space[d]));
    }
    if (d >= lead && qs[d - lead] == space[d] && space[d] != 1) offset = tb.add(offset, tb.mul(idx, tb.i64(strides[d - lead])));
  }
  return tb.load(q, offset);
}

std::vector<Value*> epilogueOperands(TaskBuilder& tb, const Node& m, const std::map<NodeId, Value*>& value,
                                     const Shape& space, Value* row, Value* col, Value* f) {
  std::vector<Value*> args;
  for (NodeId q : m.inputs) {
    auto it = value.find(q);
    args.push_back(it != value.end() ? it->second : operandAt(tb, q, space, row, col, f));
  }
  return args;
}

void emitEpilogueElement(TaskBuilder& tb, const Kernel& kern, NodeId out, const Shape& space, Value* row, Value* col,
                         Value* f, std::vector<Value*>* rowSumTerms) {
  emitEpilogueOnValue(tb, kern, tb.load(out, f), space, row, col, f, rowSumTerms);
}

void emitEpilogueOnValue(TaskBuilder& tb, const Kernel& kern, Value* rootValue, const Shape& space, Value* row, Value* col,
                         Value* f, std::vector<Value*>* rowSumTerms) {
  const Graph& g = tb.graph();
  std::map<NodeId, Value*> value{{kern.root, rootValue}};
  for (NodeId id : kern.epilogue) {
    const Node& m = g.node(id);
    std::vector<Value*> args = epilogueOperands(tb, m, value, space, row, col, f);
    ScalarContext sc{tb, m, args};
    value[id] = opLowering(m.op).scalar(sc);
  }
  // Stored members of the output's shape; the row sums (in `fused`) have buffers of their own.
  for (NodeId s : kern.stored)
    if (auto it = value.find(s); it != value.end()) tb.store(s, f, it->second);
  if (kern.fused.empty()) return;
  std::vector<Value*> terms = emitEpilogueRowSumTerms(tb, kern, value, space, row, col, f);
  if (rowSumTerms) {
    *rowSumTerms = std::move(terms);
    return;
  }
  Value* sumRow = tb.b().CreateUDiv(row, tb.i64(space[space.rank() - 2]));
  addEpilogueRowSumTerms(tb, kern, sumRow, col, terms);
}

}  // namespace nnc::codegen
