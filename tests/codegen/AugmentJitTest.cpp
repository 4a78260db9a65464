// AugmentImages compiled (EmitAugment.cpp) against the reference interpreter, bit for bit:
// every flip mode, translations and their inverse (the gradient), [batch, h, w, c] and
// [batch, h, w] images, on 1 and 2 threads, at a step other than 0, and keyed by first_row
// so that a process's share of a batch draws the whole batch's transforms for its rows.
#include <gtest/gtest.h>

#include "compiler/ir/Augment.h"
#include "compiler/train/TrainingGraph.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

TEST(AugmentImages, CompiledDrawsEqualTheInterpreterAndTheWholeBatch) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 6, 5, 3});
  NodeId x3 = input(g, "x3", DType::F32, {kBatch, 7, 9});
  TensorType scalar{DType::F32, Shape{}};
  g.addLeaf(OpKind::Hyper, kLearningRateName, scalar);
  NodeId step = g.addLeaf(OpKind::Hyper, kStepName, scalar);
  NodeId firstRow = g.addLeaf(OpKind::Hyper, kFirstRowName, scalar);
  auto flip = [&](const char* mode) {
    return Attrs{{"transform", std::string("flip")}, {"mode", std::string(mode)}, {"seed", int64_t(5)},
                 {"salt", int64_t(augment::kSaltBase)}};
  };
  auto shift = [&](double fh, double fw, bool inverse) {
    return Attrs{{"transform", std::string("translation")}, {"height", fh}, {"width", fw}, {"seed", int64_t(5)},
                 {"salt", int64_t(augment::kSaltBase + 1)}, {"inverse", int64_t(inverse)}};
  };
  std::vector<NodeId> outs;
  for (const char* mode : {"horizontal", "vertical", "both"}) {
    outs.push_back(op(g, OpKind::AugmentImages, {x, step, firstRow}, flip(mode)));
    outs.push_back(op(g, OpKind::AugmentImages, {x3, step, firstRow}, flip(mode)));
  }
  for (bool inverse : {false, true}) {
    outs.push_back(op(g, OpKind::AugmentImages, {x, step, firstRow}, shift(0.34, 0.5, inverse)));
    outs.push_back(op(g, OpKind::AugmentImages, {x3, step, firstRow}, shift(0.3, 1.0, inverse)));
  }
  outs.push_back(op(g, OpKind::AugmentImages, {x, step}, shift(0.5, 0.2, false)));  // without first_row
  for (size_t i = 0; i < outs.size(); ++i) g.outputs.push_back({"y" + std::to_string(i), outs[i]});
  Graph inference;
  inference.outputs.push_back({"x", input(inference, "x", DType::F32, {kBatch, 6, 5, 3})});
  inference.outputs.push_back({"x3", input(inference, "x3", DType::F32, {kBatch, 7, 9})});
  CompileOptions opt;
  opt.chunkWork = 1;  // several threads' chunks, each drawing for its own images
  auto m = jitCompile(inference, &g, opt);
  ASSERT_TRUE(m.ok()) << m.error().message;

  const int64_t whole = 11;
  std::mt19937_64 rng(3);
  Tensor xs = randomTensor(g.type(x), whole, Range{}, rng), x3s = randomTensor(g.type(x3), whole, Range{}, rng);
  HostTensor hx = toHost(xs), hx3 = toHost(x3s);
  auto run = [&](int64_t first, int64_t rows) {
    std::vector<HostTensor> results;
    for (NodeId o : outs) results.push_back(hostBuffer(g.type(o), rows));
    std::vector<const void*> in{hx.f.data() + first * 90, hx3.f.data() + first * 63};
    std::vector<void*> outPtrs;
    for (HostTensor& r : results) outPtrs.push_back(r.data());
    EXPECT_TRUE((*m)->trainStep(in, rows, 0.1f, 37.0f, nullptr, outPtrs, float(first)).ok());
    return results;
  };
  std::vector<HostTensor> all = run(0, whole);
  for (int threads : {1, 2}) {
    ThreadsScope ts(threads);
    for (auto [first, rows] : std::vector<std::pair<int64_t, int64_t>>{{0, whole}, {0, 4}, {4, 6}, {10, 1}}) {
      SCOPED_TRACE("threads " + std::to_string(threads) + " rows " + std::to_string(first) + "+" + std::to_string(rows));
      std::vector<HostTensor> share = run(first, rows);
      LeafValues leaves;
      leaves[x] = Tensor(DType::F32, {rows, 6, 5, 3},
                         std::vector<double>(xs.data.begin() + first * 90, xs.data.begin() + (first + rows) * 90));
      leaves[x3] = Tensor(DType::F32, {rows, 7, 9},
                          std::vector<double>(x3s.data.begin() + first * 63, x3s.data.begin() + (first + rows) * 63));
      leaves[step] = Tensor::scalar(37);
      leaves[firstRow] = Tensor::scalar(double(first));
      for (NodeId h : g.leaves(OpKind::Hyper))
        if (!leaves.count(h)) leaves[h] = Tensor::scalar(0.1);
      auto want = interpret(g, leaves, outs, Precision::F32);
      ASSERT_TRUE(want.ok()) << want.error().message;
      for (size_t o = 0; o < outs.size(); ++o) {
        SCOPED_TRACE("output " + std::to_string(o));
        const size_t perRow = share[o].size() / size_t(rows);
        for (size_t k = 0; k < share[o].size(); ++k) {
          ASSERT_EQ(share[o].f[k], float((*want)[o].data[k])) << k;
          if (o + 1 < outs.size()) {  // keyed by global row (the last output has no first_row)
            ASSERT_EQ(share[o].f[k], all[o].f[size_t(first) * perRow + k]) << k;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace nnc
