// Per-channel reductions over N, H, W (batch-norm statistics) are split across threads along
// the channels; each thread's share must still be vector code (EmitFused.cpp: the sums in
// vector registers across the rows, and vectorizeShortChunks), and the result must not
// depend on the thread count.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>

#include "compiler/codegen/aot/AotCompile.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

Graph channelStatistics() {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 6, 6, 32});
  NodeId centred = op(g, OpKind::Mul, {x, x});
  g.outputs.push_back({"sum", op(g, OpKind::ReduceSum, {centred}, {{"axes", std::vector<int64_t>{0, 1, 2}},
                                                                   {"keepdims", int64_t(0)}})});
  g.outputs.push_back({"mean", op(g, OpKind::ReduceMean, {x}, {{"axes", std::vector<int64_t>{0, 1, 2}},
                                                              {"keepdims", int64_t(0)}})});
  return g;
}

TEST(ChannelReduction, MatchesTheInterpreterOnOneAndTwoThreads) {
  // chunkWork 1: the 32 channels are split across both threads.
  expectMatchesInterpreter(channelStatistics(), {}, {1, 7, 16}, 1e-5, /*chunkWork=*/1);
}

TEST(ChannelReduction, AThreadsShareOfTheChannelsIsVectorised) {
  auto ir = optimizedLLVMIR(channelStatistics(), nullptr);
  ASSERT_TRUE(ir.ok()) << ir.error().message;
  // The vectorised loops' minimum trip counts: one vector (at most 16 floats), not the four
  // interleaved vectors (32 floats on AVX2) that 16 channels per thread never reach.
  std::regex check("min\\.iters\\.check[0-9]* = icmp ult i64 %[0-9a-z.]+, ([0-9]+)");
  int loops = 0;
  for (std::sregex_iterator it(ir->begin(), ir->end(), check), end; it != end; ++it) {
    EXPECT_LE(std::stoi((*it)[1]), 16) << (*it)[0];
    ++loops;
  }
  EXPECT_GE(loops, 2);
  // The sums are vector registers carried across the rows (a vector phi), not reloaded and
  // stored for every row.
  EXPECT_TRUE(std::regex_search(*ir, std::regex("phi <[0-9]+ x float>"))) << *ir;
}

// The per-sample half of a split batch reduction (IRBuilder::reduce): [N, H, W, C] summed over
// H and W, in parallel over the samples, every thread all C channels (odd C: 7 and 37, which
// leave single channels after the vector blocks). Bit-identical on 1 and 2 threads.
Graph perSampleChannelSums(int64_t channels) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 5, 3, channels});
  NodeId sq = op(g, OpKind::Square, {x});
  NodeId perSample = op(g, OpKind::ReduceSum, {sq}, {{"axes", std::vector<int64_t>{1, 2}}, {"keepdims", int64_t(0)}});
  g.outputs.push_back({"per_sample", perSample});
  g.outputs.push_back({"total", op(g, OpKind::ReduceSum, {perSample}, {{"axes", std::vector<int64_t>{0}},
                                                                        {"keepdims", int64_t(0)}})});
  NodeId means = op(g, OpKind::ReduceMean, {x}, {{"axes", std::vector<int64_t>{1, 2}}, {"keepdims", int64_t(0)}});
  g.outputs.push_back({"mean", op(g, OpKind::ReduceMean, {means}, {{"axes", std::vector<int64_t>{0}},
                                                                    {"keepdims", int64_t(0)}})});
  return g;
}

TEST(ChannelReduction, PerSampleSumsMatchTheInterpreterBitIdenticallyOnOneAndTwoThreads) {
  for (int64_t channels : {7, 37}) {
    SCOPED_TRACE("channels " + std::to_string(channels));
    MatchOptions o;
    o.batches = {1, 2, 7, 16};
    o.rtol = 1e-5;
    o.bitIdenticalAcrossThreads = true;
    expectMatchesInterpreter(perSampleChannelSums(channels), o);
  }
}

}  // namespace
}  // namespace nnc
