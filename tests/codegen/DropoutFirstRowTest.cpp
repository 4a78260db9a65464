// DropoutMask's third operand, first_row (data-parallel training, docs/distributed.md): the
// mask of a process's share of a batch is the share's rows of the whole batch's mask, in
// compiled code and in the interpreter alike.
#include <gtest/gtest.h>

#include "compiler/train/TrainingGraph.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

TEST(DropoutMask, FirstRowGivesTheGlobalRowsMask) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 5, 7});
  TensorType scalar{DType::F32, Shape{}};
  g.addLeaf(OpKind::Hyper, kLearningRateName, scalar);
  NodeId step = g.addLeaf(OpKind::Hyper, kStepName, scalar);
  NodeId firstRow = g.addLeaf(OpKind::Hyper, kFirstRowName, scalar);
  NodeId mask = op(g, OpKind::DropoutMask, {x, step, firstRow}, {{"rate", 0.4}, {"seed", int64_t(7)}, {"salt", int64_t(1)}});
  g.outputs.push_back({"mask", mask});
  Graph inference;
  inference.outputs.push_back({"x", input(inference, "x", DType::F32, {kBatch, 5, 7})});
  CompileOptions opt;
  opt.chunkWork = 1;  // several threads' chunks, each with its own offset arithmetic
  auto m = jitCompile(inference, &g, opt);
  ASSERT_TRUE(m.ok()) << m.error().message;

  const int64_t whole = 9;
  std::vector<float> xs(size_t(whole * 35), 1.0f);
  auto run = [&](int64_t first, int64_t rows) {
    HostTensor out = hostBuffer(g.type(mask), rows);
    std::vector<const void*> in{xs.data()};
    std::vector<void*> outs{out.data()};
    EXPECT_TRUE((*m)->trainStep(in, rows, 0.1f, 3.0f, nullptr, outs, float(first)).ok());
    return out.f;
  };
  std::vector<float> all = run(0, whole);
  int kept = 0;
  for (float v : all) kept += v != 0;
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, int(all.size()));
  for (auto [first, rows] : std::vector<std::pair<int64_t, int64_t>>{{0, 4}, {4, 5}, {8, 1}}) {
    SCOPED_TRACE("rows " + std::to_string(first) + "+" + std::to_string(rows));
    std::vector<float> share = run(first, rows);
    for (size_t k = 0; k < share.size(); ++k) ASSERT_EQ(share[k], all[size_t(first * 35) + k]) << k;

    LeafValues leaves;
    leaves[x] = Tensor(DType::F32, {rows, 5, 7});
    leaves[step] = Tensor::scalar(3);
    leaves[firstRow] = Tensor::scalar(double(first));
    for (NodeId h : g.leaves(OpKind::Hyper))
      if (!leaves.count(h)) leaves[h] = Tensor::scalar(0.1);
    auto want = interpret(g, leaves, {mask}, Precision::F32);
    ASSERT_TRUE(want.ok()) << want.error().message;
    for (size_t k = 0; k < share.size(); ++k) ASSERT_EQ(share[k], float((*want)[0].data[k])) << k;
  }
}

}  // namespace
}  // namespace nnc
