// Optimizer updates written straight into the state (InPlaceUpdates.h), structurally: which
// updates may skip the copy at the end of the step, and which must keep it. TrainStepTest
// checks the numbers of whole compiled steps against the interpreter.
#include <gtest/gtest.h>

#include "compiler/lowering/Lowering.h"
#include "compiler/interp/Interpreter.h"
#include "compiler/train/Optimizers.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

bool writesInPlace(const LoweredGraph& lg, const Update& u) { return lg.storageRoot(u.value) == u.target; }

size_t copiesInto(const LoweredGraph& lg, CopyStep::To to) {
  size_t n = 0;
  for (const CopyStep& c : lg.copies) n += c.to == to;
  return n;
}

// Momentum SGD on w: b' = 0.9 b + grad; w' = w - lr * b'.
struct Momentum {
  Graph g;
  NodeId w, b, grad, b2, w2;
  explicit Momentum(std::vector<int64_t> dims = {8, 8}) {
    w = param(g, "w", dims);
    b = g.addLeaf(OpKind::State, "w/sgd.momentum", TensorType{DType::F32, Shape{dims}});
    grad = input(g, "grad", DType::F32, dims);
    NodeId lr = g.addLeaf(OpKind::Hyper, "lr", TensorType{DType::F32, Shape{}});
    b2 = op(g, OpKind::Add, {op(g, OpKind::Mul, {b, g.addScalar(0.9)}), grad});
    w2 = op(g, OpKind::Sub, {w, op(g, OpKind::Mul, {lr, b2})});
  }
  void addUpdates() {
    g.updates.push_back({w, w2});
    g.updates.push_back({b, b2});
  }
};

TEST(InPlaceUpdate, OptimizerLoopWritesIntoTheState) {
  Momentum m;
  m.addUpdates();
  LoweredGraph lg = lowerOrFail(m.g);
  ASSERT_EQ(lg.kernels.size(), 1u) << describeKernels(lg);
  EXPECT_TRUE(writesInPlace(lg, m.g.updates[0]));
  EXPECT_TRUE(writesInPlace(lg, m.g.updates[1]));
  EXPECT_TRUE(lg.copies.empty());
  EXPECT_TRUE(lg.buffers.empty());  // nothing left in the workspace
}

TEST(InPlaceUpdate, ALaterReaderOfTheOldValueKeepsTheCopy) {
  // s = sum(w) runs after the update loop (its own kernel, a reduction of another shape), so
  // the loop must not overwrite w; b has no later reader and still goes in place.
  Momentum m;
  m.addUpdates();
  NodeId s = op(m.g, OpKind::ReduceSum, {m.w}, {{"axes", std::vector<int64_t>{0, 1}}, {"keepdims", int64_t(0)}});
  NodeId late =
      op(m.g, OpKind::Add,
         {s, op(m.g, OpKind::ReduceSum, {m.w2}, {{"axes", std::vector<int64_t>{0, 1}}, {"keepdims", int64_t(0)}})});
  m.g.outputs.push_back({"late", late});
  LoweredGraph lg = lowerOrFail(m.g);
  int updateKernel = lg.kernelOf[static_cast<size_t>(m.w2)];
  bool readLater = false;
  for (size_t k = static_cast<size_t>(updateKernel) + 1; k < lg.kernels.size(); ++k)
    for (NodeId r : lg.kernels[k].reads) readLater = readLater || r == m.w;
  ASSERT_TRUE(readLater) << describeKernels(lg);
  EXPECT_FALSE(writesInPlace(lg, m.g.updates[0])) << describeKernels(lg);
  EXPECT_EQ(copiesInto(lg, CopyStep::To::State), 1u);
  EXPECT_TRUE(writesInPlace(lg, m.g.updates[1])) << describeKernels(lg);
}

TEST(InPlaceUpdate, AnOutputOfTheOldValueKeepsTheCopy) {
  // Outputs are copied after every kernel ran: w itself as an output must see the old bytes.
  Momentum m;
  m.addUpdates();
  m.g.outputs.push_back({"w", m.w});
  LoweredGraph lg = lowerOrFail(m.g);
  EXPECT_FALSE(writesInPlace(lg, m.g.updates[0]));
  EXPECT_TRUE(writesInPlace(lg, m.g.updates[1]));
}

TEST(InPlaceUpdate, ATransposedReadKeepsTheCopy) {
  // w' = w - transpose(w) reads w at other positions than it writes.
  Graph g;
  NodeId w = param(g, "w", {8, 8});
  NodeId t = op(g, OpKind::Transpose, {w}, {{"perm", std::vector<int64_t>{1, 0}}});
  NodeId w2 = op(g, OpKind::Sub, {w, t});
  g.updates.push_back({w, w2});
  LoweredGraph lg = lowerOrFail(g);
  EXPECT_FALSE(writesInPlace(lg, g.updates[0])) << describeKernels(lg);
  EXPECT_EQ(copiesInto(lg, CopyStep::To::State), 1u);
}

TEST(InPlaceUpdate, AnotherUpdateReadingTheTargetKeepsTheCopy) {
  // a <- a * 2 and b <- a: b's value is a's old bytes, copied at the end.
  Graph g;
  NodeId a = param(g, "a", {8});
  NodeId b = param(g, "b", {8});
  NodeId a2 = op(g, OpKind::Mul, {a, g.addScalar(2.0)});
  g.updates.push_back({a, a2});
  g.updates.push_back({b, a});
  LoweredGraph lg = lowerOrFail(g);
  EXPECT_FALSE(writesInPlace(lg, g.updates[0])) << describeKernels(lg);
}

// Momentum SGD whose gradient is a product, grad = x^T dy [in, out], contracted over k rows:
// the update becomes the matmul's epilogue, with w' its last member, unless k is the batch
// (then the optimizer streams apart, Fusion.cpp streamsTooMuchForProduct).
struct MatmulMomentum {
  Graph g;
  NodeId lr, grad, b2, w2;
  MatmulMomentum(int64_t in, int64_t out, int64_t k) {
    NodeId x = input(g, "x", DType::F32, {k, in});
    NodeId dy = input(g, "dy", DType::F32, {k, out});
    NodeId w = param(g, "w", {in, out});
    NodeId b = g.addLeaf(OpKind::State, "w/sgd.momentum", TensorType{DType::F32, Shape{in, out}});
    lr = g.addLeaf(OpKind::Hyper, "lr", TensorType{DType::F32, Shape{}});
    grad = op(g, OpKind::MatMul, {x, dy}, {{"transpose_a", int64_t(1)}});
    b2 = op(g, OpKind::Add, {op(g, OpKind::Mul, {b, g.addScalar(0.9)}), grad});
    w2 = op(g, OpKind::Sub, {w, op(g, OpKind::Mul, {lr, b2})});
    g.updates.push_back({w, w2});
    g.updates.push_back({b, b2});
  }
};

TEST(InPlaceUpdate, MatmulEpilogueWritesIntoTheStateAndKeepsItsSumsApart) {
  // w' normally holds the product's partial sums while K accumulates: written in place, it
  // would overwrite w before the epilogue reads it, so the product gets a buffer of its own.
  MatmulMomentum mm(16, 8, 12);
  LoweredGraph lg = lowerOrFail(mm.g);
  ASSERT_EQ(lg.kernels.size(), 1u) << describeKernels(lg);
  ASSERT_FALSE(lg.kernels[0].epilogue.empty()) << describeKernels(lg);
  ASSERT_EQ(lg.kernels[0].epilogue.back(), mm.w2);
  EXPECT_TRUE(writesInPlace(lg, mm.g.updates[0]));
  EXPECT_TRUE(writesInPlace(lg, mm.g.updates[1]));
  EXPECT_TRUE(lg.copies.empty());
  EXPECT_EQ(lg.storage[static_cast<size_t>(mm.grad)].kind, StorageKind::Arena);
}

TEST(InPlaceUpdate, AWeightGradientOverTheBatchLeavesAStatefulOptimizerApart) {
  // A product contracted over the batch does 2*batch FLOPs per element: momentum SGD (w and
  // its velocity, read and written) streams apart from it; plain SGD (w alone) stays fused.
  MatmulMomentum mm(16, 8, kBatch);
  LoweredGraph lg = lowerOrFail(mm.g);
  ASSERT_EQ(lg.kernels.size(), 2u) << describeKernels(lg);
  for (const Kernel& k : lg.kernels) EXPECT_TRUE(k.epilogue.empty()) << describeKernels(lg);
  EXPECT_TRUE(writesInPlace(lg, mm.g.updates[0]));
  EXPECT_TRUE(writesInPlace(lg, mm.g.updates[1]));

  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 16});
  NodeId dy = input(g, "dy", DType::F32, {kBatch, 8});
  NodeId w = param(g, "w", {16, 8});
  NodeId lr = g.addLeaf(OpKind::Hyper, "lr", TensorType{DType::F32, Shape{}});
  NodeId grad = op(g, OpKind::MatMul, {x, dy}, {{"transpose_a", int64_t(1)}});
  NodeId w2 = op(g, OpKind::Sub, {w, op(g, OpKind::Mul, {lr, grad})});
  g.updates.push_back({w, w2});
  LoweredGraph plain = lowerOrFail(g);
  ASSERT_EQ(plain.kernels.size(), 1u) << describeKernels(plain);
  EXPECT_EQ(plain.kernels[0].epilogue.back(), w2);
}

TEST(InPlaceUpdate, MatmulEpilogueUpdateMatchesTheInterpreterAcrossKBlocks) {
  // The same update compiled: a K of 600 spans several K blocks, so partial sums go to memory
  // between them. w and its momentum after one step must match the interpreter, with the
  // optimizer as the product's epilogue (fixed K) and as its own pass (K the batch).
  for (int64_t kRows : {int64_t(600), kBatch}) {
    MatmulMomentum mm(24, 20, kRows);
    Graph& g = mm.g;
    g.loss = op(g, OpKind::ReduceSum, {g.findLeaf(OpKind::Input, "dy")},
                {{"axes", std::vector<int64_t>{0, 1}}, {"keepdims", int64_t(0)}});
    Graph inference;
    NodeId ix = input(inference, "x", DType::F32, {kBatch, 24});
    inference.outputs.push_back({"y", op(inference, OpKind::MatMul, {ix, param(inference, "w", {24, 20})})});
    auto compiled = jitCompile(inference, &g);
    ASSERT_TRUE(compiled.ok()) << compiled.error().message;
    CompiledModel& m = **compiled;
    for (int64_t batch : {3, 600}) {
      for (int threads : {1, 2}) {
        ThreadsScope ts(threads);
        std::mt19937_64 rng(static_cast<uint64_t>(batch));
        Leaves l = makeLeaves(g, m, batch, rng);  // the state (and inference inputs, unused here)
        std::vector<HostTensor> hostInputs;
        for (const TensorSpec& s : m.training()->inputs) {
          Tensor t = randomTensor(s.type, batch, Range{}, rng);
          l.values[g.findLeaf(OpKind::Input, s.name)] = t;
          hostInputs.push_back(toHost(t));
        }
        std::vector<const void*> in;
        for (HostTensor& h : hostInputs) in.push_back(h.data());
        l.values[mm.lr] = Tensor::scalar(0.05);
        auto want = interpret(g, l.values, {mm.w2, mm.b2}, Precision::F32);
        ASSERT_TRUE(want.ok()) << want.error().message;
        float loss = 0;
        auto ok = m.trainStep(in, batch, 0.05f, 0.0f, &loss);
        ASSERT_TRUE(ok.ok()) << ok.error().message;
        for (auto [name, k] : {std::pair<const char*, size_t>{"w", 0}, {"w/sgd.momentum", 1}}) {
          std::span<float> got = m.tensor(name);
          HostTensor h;
          h.f.assign(got.begin(), got.end());
          EXPECT_TRUE(closeTo((*want)[k], h)) << name << " k " << kRows << " batch " << batch << " threads " << threads;
        }
      }
    }
  }
}

TEST(InPlaceUpdate, AdamStaysApartFromAWeightGradientOverTheBatch) {
  // Adam (w and two moments, read and written: six streams) as the train block writes it:
  // apart from a product over the batch (measured no faster fused even with the GEMM's row
  // panels, slower at batch 512: Fusion.cpp streamsTooMuchForProduct), but the epilogue of
  // one over a fixed K, written into the state in place.
  for (int64_t k : {kBatch, int64_t(240)}) {
    Graph g;
    NodeId x = input(g, "x", DType::F32, {k, 200});
    NodeId dy = input(g, "dy", DType::F32, {k, 80});
    NodeId w = param(g, "w", {200, 80});
    NodeId lr = g.addLeaf(OpKind::Hyper, "lr", TensorType{DType::F32, Shape{}});
    NodeId step = g.addLeaf(OpKind::Hyper, "step", TensorType{DType::F32, Shape{}});
    NodeId grad = op(g, OpKind::MatMul, {x, dy}, {{"transpose_a", int64_t(1)}});
    ASSERT_TRUE(emitOptimizerUpdates(g, OptimizerConfig{AdamHyper{}}, {ParamGradient{w, grad}}, lr, step).ok());
    ASSERT_EQ(g.updates.size(), 3u);
    LoweredGraph lg = lowerOrFail(g);
    int product = lg.kernelOf[static_cast<size_t>(grad)];
    ASSERT_GE(product, 0) << describeKernels(lg);
    const Kernel& kern = lg.kernels[static_cast<size_t>(product)];
    EXPECT_EQ(kern.root, grad) << describeKernels(lg);
    EXPECT_EQ(kern.epilogue.empty(), k == kBatch) << describeKernels(lg);
    for (const Update& u : g.updates) EXPECT_TRUE(writesInPlace(lg, u)) << g.node(u.target).name << describeKernels(lg);
  }
}

}  // namespace
}  // namespace nnc
