// The pipeline: passes feeding each other to a fixed point, statistics, verification, and
// value preservation on random graphs and on real training graphs.
#include <fstream>
#include <sstream>

#include "PassTestUtil.h"
#include "compiler/passes/AlgebraicSimplification.h"
#include "compiler/passes/CommonSubexpressionElimination.h"
#include "compiler/passes/ConstantFolding.h"
#include "compiler/passes/DeadCodeElimination.h"
#include "compiler/passes/PassPipeline.h"
#include "compiler/train/TrainingGraph.h"
#include "dsl/Frontend.h"

namespace nnc {
namespace {

using namespace passtest;


Graph optimized(const Graph& g, std::vector<PassStats>* stats = nullptr, const PassOptions& opts = {}) {
  std::vector<PassStats> local;
  Result<Graph> r = optimizeGraph(g, opts, stats ? *stats : local);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return g;
  Result<void> ok = verifyGraph(*r);
  EXPECT_TRUE(ok.ok());
  return std::move(*r);
}

TEST(PassPipeline, PassesFeedEachOtherToAFixedPoint) {
  Graph g;
  NodeId x = input(g, "x", f32({kBatch, 3}));
  // x * (1 - 0) + y * (2 - 2): folding gives x * 1 + y * 0, simplification x + y * 0.
  NodeId oneMinusZero = op(g, OpKind::Sub, {fill(g, 1, f32({})), fill(g, 0, f32({}))});
  NodeId a = op(g, OpKind::Mul, {x, oneMinusZero});
  NodeId b = op(g, OpKind::Mul, {x, fill(g, 1, f32({}))});
  NodeId e1 = op(g, OpKind::Exp, {a});
  NodeId e2 = op(g, OpKind::Exp, {b});  // the same as e1 once both products are x
  g.outputs.push_back({"s", op(g, OpKind::Add, {e1, e2})});
  std::vector<PassStats> stats;
  Graph out = optimized(g, &stats);
  EXPECT_EQ(countNonLeaves(out), 2) << printGraph(out);  // exp(x) + exp(x)
  EXPECT_EQ(countOps(out, OpKind::Exp), 1);
  EXPECT_EQ(countOps(out, OpKind::Constant), 0);
  ASSERT_FALSE(stats.empty());
  EXPECT_EQ(stats.front().nodesBefore, g.size());
  EXPECT_EQ(stats.back().nodesAfter, out.size());
  // The last round changed nothing.
  int lastRound = stats.back().round;
  for (const PassStats& s : stats) {
    if (s.round == lastRound) {
      EXPECT_FALSE(s.changed) << s.pass;
    }
  }
  EXPECT_GE(lastRound, 2);
  expectSameValues(g, out, randomLeafValues(g, 2, 3));
}

TEST(PassPipeline, StatisticsNameEveryPassAndFormatAsText) {
  Graph g;
  NodeId x = input(g, "x", f32({2}));
  g.outputs.push_back({"y", op(g, OpKind::Neg, {op(g, OpKind::Neg, {x})})});
  std::vector<PassStats> stats;
  optimized(g, &stats);
  ASSERT_GE(stats.size(), 4u);
  EXPECT_EQ(stats[0].pass, "algebraic-simplification");
  EXPECT_EQ(stats[1].pass, "constant-folding");
  EXPECT_EQ(stats[2].pass, "common-subexpression-elimination");
  EXPECT_EQ(stats[3].pass, "dead-code-elimination");
  EXPECT_EQ(stats[3].nodesAfter, 1u);
  std::string text = formatPassStats(stats);
  EXPECT_NE(text.find("dead-code-elimination"), std::string::npos) << text;
  EXPECT_NE(text.find("total: 3 -> 1 nodes"), std::string::npos) << text;
}

TEST(PassPipeline, OptionsTurnPassesOffAndBoundTheRounds) {
  Graph g;
  NodeId x = input(g, "x", f32({2}));
  op(g, OpKind::Exp, {x});  // dead
  g.outputs.push_back({"y", op(g, OpKind::Neg, {op(g, OpKind::Neg, {x})})});
  PassOptions onlyDce;
  onlyDce.algebraicSimplification = onlyDce.constantFolding = onlyDce.commonSubexpressionElimination = false;
  std::vector<PassStats> stats;
  Graph out = optimized(g, &stats, onlyDce);
  EXPECT_EQ(countOps(out, OpKind::Exp), 0);
  EXPECT_EQ(countOps(out, OpKind::Neg), 2);
  for (const PassStats& s : stats) EXPECT_EQ(s.pass, "dead-code-elimination");
  PassOptions noRounds;
  noRounds.maxRounds = 0;
  Graph same = optimized(g, nullptr, noRounds);
  EXPECT_EQ(printGraph(same), printGraph(g));
}

TEST(PassPipeline, RefusesAnInvalidInputGraph) {
  Graph g;
  NodeId x = input(g, "x", f32({2}));
  g.addWithType(OpKind::Neg, {x}, {}, f32({3}));  // wrong type
  Result<Graph> r = optimizeGraph(g);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("optimizer input"), std::string::npos) << r.error().message;
}

// Passes are meant for verified graphs, but called on a malformed one they must return an
// error or a graph, never crash.
TEST(PassPipeline, PassesSurviveMalformedGraphs) {
  std::vector<Graph> graphs(4);
  {
    Graph& g = graphs[0];  // matmul of scalars
    NodeId c = fill(g, 1, f32({}));
    g.outputs.push_back({"m", g.addWithType(OpKind::MatMul, {c, c}, {}, f32({}))});
  }
  {
    Graph& g = graphs[1];  // an operand that does not exist
    g.outputs.push_back({"n", g.addWithType(OpKind::Neg, {42}, {}, f32({}))});
  }
  {
    Graph& g = graphs[2];  // ops without operands, reductions over bad axes
    NodeId e = g.addWithType(OpKind::ElementCount, {}, Attrs{{"axes", ints({3})}}, f32({}));
    NodeId t = g.addWithType(OpKind::Transpose, {e}, Attrs{{"perm", ints({1, 0})}}, f32({}));
    NodeId r = g.addWithType(OpKind::ReduceSum, {t}, Attrs{{"axes", ints({5})}}, f32({}));
    g.outputs.push_back({"r", g.addWithType(OpKind::Concat, {}, {}, f32({}))});
    g.outputs.push_back({"r2", r});
  }
  {
    Graph& g = graphs[3];  // roots out of range
    g.outputs.push_back({"x", 7});
    g.updates.push_back({3, 4});
    g.loss = 9;
  }
  for (const Graph& g : graphs) {
    EXPECT_FALSE(optimizeGraph(g).ok());
    (void)simplifyAlgebra(g);
    (void)foldConstants(g);
    (void)eliminateCommonSubexpressions(g);
    (void)eliminateDeadCode(g);
  }
}

// ---- random graphs --------------------------------------------------------------------------

// A random graph over small shapes, biased towards the patterns the passes rewrite (unit
// constants, negations, transposes, reshapes, broadcasts, trivial reductions, duplicates).
Graph randomGraph(unsigned seed) {
  std::mt19937 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  Graph g;
  std::vector<NodeId> pool = {input(g, "x", f32({kBatch, 2, 3})), input(g, "y", f32({2, 3})), param(g, "w", f32({3})),
                              param(g, "m", f32({3, 3})), g.addLeaf(OpKind::Hyper, "lr", f32({}))};
  for (double c : {0.0, 1.0, -1.0, 2.0, 0.5}) pool.push_back(fill(g, c, f32({})));
  pool.push_back(fill(g, 1.0, f32({2, 3})));
  pool.push_back(values(g, {0.5, -2, 3}, f32({3})));
  auto any = [&] { return pool[pick(pool.size())]; };
  auto tryAdd = [&](OpKind k, std::vector<NodeId> ins, Attrs a = {}) {
    Result<NodeId> r = g.add(k, std::move(ins), std::move(a));
    if (r) pool.push_back(*r);
  };
  const OpKind binaries[] = {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Maximum, OpKind::Minimum, OpKind::Div};
  const OpKind unaries[] = {OpKind::Neg, OpKind::Relu, OpKind::Abs, OpKind::Square, OpKind::Tanh, OpKind::Sign};
  for (int i = 0; i < 40; ++i) {
    NodeId a = any();
    const Shape s = g.type(a).shape;
    switch (pick(12)) {
      case 0: case 1: case 2: tryAdd(binaries[pick(std::size(binaries))], {a, any()}); break;
      case 3: case 4: tryAdd(unaries[pick(std::size(unaries))], {a}); break;
      case 5:
        if (s.rank() >= 2) {
          std::vector<int64_t> perm;
          for (size_t d = 0; d < s.rank(); ++d) perm.push_back(static_cast<int64_t>(d));
          std::swap(perm[s.rank() - 1], perm[s.rank() - 2]);
          tryAdd(OpKind::Transpose, {a}, Attrs{{"perm", perm}});
        }
        break;
      case 6: {
        Shape t = s;
        t.dims.push_back(1);
        tryAdd(OpKind::Reshape, {a}, Attrs{{"shape", pick(2) ? t.dims : s.dims}});
        break;
      }
      case 7: tryAdd(OpKind::BroadcastTo, {a}, Attrs{{"shape", pick(2) ? ints({kBatch, 2, 3}) : ints({2, 3})}}); break;
      case 8:
        if (s.rank() >= 1) {
          int64_t axis = static_cast<int64_t>(pick(s.rank()));
          OpKind k = pick(2) ? OpKind::ReduceSum : OpKind::ReduceMean;
          tryAdd(k, {a}, Attrs{{"axes", std::vector<int64_t>{axis}}, {"keepdims", int64_t(pick(2))}});
        }
        break;
      case 9: tryAdd(OpKind::Select, {op(g, OpKind::Greater, {a, pool[5]}), any(), any()}); break;
      case 10:
        if (s.rank() >= 1 && s.dims.back() != kBatch) {
          int64_t axis = static_cast<int64_t>(s.rank()) - 1;
          int64_t end = s.dims.back();
          tryAdd(OpKind::Slice, {a}, Attrs{{"axis", axis}, {"begin", int64_t(pick(2))}, {"end", end}});
        }
        break;
      case 11: {  // a duplicate of an existing computation
        const Node n = g.node(pool[pick(pool.size())]);
        if (!isLeaf(n.op)) tryAdd(n.op, n.inputs, n.attrs);
        break;
      }
    }
  }
  for (int i = 0; i < 4; ++i) g.outputs.push_back({"out" + std::to_string(i), pool[pool.size() - 1 - pick(std::min<size_t>(pool.size(), 12))]});
  g.loss = op(g, OpKind::ReduceSum, {pool.back()}, Attrs{{"axes", [&] {
                                                              std::vector<int64_t> all;
                                                              for (size_t d = 0; d < g.type(pool.back()).shape.rank(); ++d)
                                                                all.push_back(static_cast<int64_t>(d));
                                                              return all;
                                                            }()},
                                                           {"keepdims", int64_t{0}}});
  if (g.type(g.loss).dtype != DType::F32 || !g.type(g.loss).shape.isScalar()) g.loss = kNoNode;
  return g;
}

TEST(PassPipeline, RandomGraphsComputeTheSameValuesAfterOptimisation) {
  size_t before = 0, after = 0;
  for (unsigned seed = 1; seed <= 150; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Graph g = randomGraph(seed);
    ASSERT_TRUE(verifyGraph(g).ok());
    Graph out = optimized(g);
    before += g.size();
    after += out.size();
    expectSameValues(g, out, randomLeafValues(g, 2, seed));
    // Optimising again finds nothing more to do.
    std::vector<PassStats> stats;
    Graph again = optimized(out, &stats);
    EXPECT_EQ(printGraph(again), printGraph(out));
    if (HasFatalFailure()) return;
  }
  EXPECT_LT(after, before);
}

// ---- training graphs --------------------------------------------------------------------------

// fashion_mlp's structure at a small size, built directly: flatten, two relu dense layers, a
// dense output, softmax output and mean cross entropy, trained with `optimizer`.
Model smallMlp(const std::string& optimizer) {
  Model m;
  m.name = "mlp";
  Graph& g = m.graph;
  NodeId image = input(g, "image", f32({kBatch, 4, 4}));
  NodeId label = input(g, "label", i32({kBatch}));
  NodeId flat = op(g, OpKind::Reshape, {image}, Attrs{{"shape", ints({kBatch, 16})}});
  auto dense = [&](NodeId x, const std::string& name, int64_t in, int64_t out, bool relu) {
    NodeId w = param(g, name + ".weight", f32({in, out}));
    NodeId b = param(g, name + ".bias", f32({out}));
    NodeId y = op(g, OpKind::Add, {op(g, OpKind::MatMul, {x, w}, Attrs{{"transpose_a", int64_t{0}}, {"transpose_b", int64_t{0}}}), b});
    return relu ? op(g, OpKind::Relu, {y}) : y;
  };
  NodeId h1 = dense(flat, "h1", 16, 8, true);
  NodeId h2 = dense(h1, "h2", 8, 6, true);
  NodeId logits = dense(h2, "logits", 6, 5, false);
  g.outputs.push_back({"probs", op(g, OpKind::Softmax, {logits}, Attrs{{"axis", int64_t{1}}})});
  NodeId logp = op(g, OpKind::LogSoftmax, {logits}, Attrs{{"axis", int64_t{1}}});
  NodeId onehot = op(g, OpKind::OneHot, {label}, Attrs{{"depth", int64_t{5}}});
  NodeId picked = op(g, OpKind::ReduceSum, {op(g, OpKind::Mul, {logp, onehot})}, Attrs{{"axes", ints({1})}, {"keepdims", int64_t{0}}});
  NodeId loss = op(g, OpKind::Neg, {op(g, OpKind::ReduceMean, {picked}, Attrs{{"axes", ints({0})}, {"keepdims", int64_t{0}}})});
  TrainConfig cfg;
  cfg.loss = loss;
  cfg.optimizer = optimizerNamed(optimizer).value();
  cfg.optimizer.setLr(1e-3);
  if (optimizer == "sgd") cfg.optimizer.set("momentum", 0.9);
  m.train = cfg;
  return m;
}

void expectSmallerAndEquivalent(const Graph& training, int64_t intRange) {
  std::vector<PassStats> stats;
  Graph out = optimized(training, &stats);
  EXPECT_LT(out.size(), training.size());
  EXPECT_LT(countNonLeaves(out), countNonLeaves(training));
  // Every bound leaf survives, with its name.
  for (const Node& n : training.nodes()) {
    if (isLeaf(n.op) && n.op != OpKind::Constant) {
      EXPECT_NE(out.findLeaf(n.op, n.name), kNoNode) << n.name;
    }
  }
  for (unsigned seed : {11u, 12u}) expectSameValues(training, out, randomLeafValues(training, 2, seed, intRange), Precision::F32, 1e-5);
  std::cout << "[ stats    ] " << training.name << ": " << countNonLeaves(training) << " -> " << countNonLeaves(out)
            << " operations, " << training.size() << " -> " << out.size() << " nodes\n"
            << formatPassStats(stats);
}

TEST(PassPipeline, OptimisedTrainingGraphsAreSmallerAndComputeTheSameStep) {
  for (const char* optimizer : {"adam", "sgd", "rmsprop"}) {
    SCOPED_TRACE(optimizer);
    Result<Graph> training = buildTrainingGraph(smallMlp(optimizer));
    ASSERT_TRUE(training.ok()) << training.error().message;
    expectSmallerAndEquivalent(*training, 5);
  }
}

std::optional<Model> exampleModel(const std::string& file) {
  std::ifstream in(std::string(NNC_SOURCE_DIR) + "/examples/" + file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  std::string source = text.str();
  DiagnosticEngine diags(file, source);
  std::optional<Model> model = compileModel(source, diags);
  EXPECT_TRUE(model.has_value()) << diags.renderToString();
  return model;
}

TEST(PassPipeline, OptimisedFashionMlpTrainingStepIsSmallerAndComputesTheSameStep) {
  std::optional<Model> model = exampleModel("fashion_mlp.nn");
  ASSERT_TRUE(model.has_value()) << "examples/fashion_mlp.nn is missing";
  Result<Graph> training = buildTrainingGraph(*model);
  ASSERT_TRUE(training.ok()) << training.error().message;
  expectSmallerAndEquivalent(*training, 10);
}

// Every example model: its training step (when it has a train block) and its inference
// graph optimise to a valid graph computing the same values.
TEST(PassPipeline, ExampleModelsOptimiseToEquivalentGraphs) {
  for (const char* file : {"fashion_mlp.nn", "fashion_cnn.nn", "explicit_params.nn", "maxout_batchnorm.nn",
                           "sequence_lstm.nn"}) {
    SCOPED_TRACE(file);
    std::optional<Model> model = exampleModel(file);
    if (!model) continue;
    Result<Graph> inference = buildInferenceGraph(*model, /*withLoss=*/model->train.has_value());
    ASSERT_TRUE(inference.ok()) << inference.error().message;
    Graph optimizedInference = optimized(*inference);
    expectSameValues(*inference, optimizedInference, randomLeafValues(*inference, 2, 5), Precision::F32, 1e-5);
    if (!model->train) continue;
    Result<Graph> training = buildTrainingGraph(*model);
    ASSERT_TRUE(training.ok()) << training.error().message;
    expectSmallerAndEquivalent(*training, 10);
  }
}

}  // namespace
}  // namespace nnc
