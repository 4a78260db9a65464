// bf16 mixed precision: the JIT's round_bf16 gives the interpreter's bits for every kind of
// f32 (ties, NaN, inf, subnormals, random bit patterns), vectorised and in remainder loops.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>

#include "compiler/ir/ScalarMath.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

TEST(Bf16Jit, RoundingIsBitExactAgainstTheInterpreter) {
  std::vector<uint32_t> bits = {
      0x3F800000, 0x80000000, 0x00000000, 0x3F807FFF, 0x3F808001, 0x3F808000, 0x3F818000, 0xBF818000,
      0x7F7F8000, 0x7F7FFFFF, 0x7F7F0000, 0x7F800000, 0xFF800000, 0x00000001, 0x00008000, 0x00008001,
      0x00018000, 0x807FFFFF, 0x7FC00000, 0x7F800001, 0xFF80FFFF, 0x3DCCCCCD, 0x40490FDB,
  };
  std::mt19937 rng(17);
  while (bits.size() < 1001) bits.push_back(static_cast<uint32_t>(rng()));  // odd: a remainder loop
  const int64_t n = static_cast<int64_t>(bits.size());

  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, n});
  g.outputs.push_back({"y", op(g, OpKind::RoundBf16, {x})});
  auto compiled = jitCompile(g, nullptr, CompileOptions{});
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;

  HostTensor in, out;
  for (uint32_t b : bits) in.f.push_back(std::bit_cast<float>(b));
  out.f.assign(bits.size(), 0.0f);
  std::vector<const void*> ins{in.data()};
  std::vector<void*> outs{out.data()};
  ASSERT_TRUE((*compiled)->forward(ins, outs, 1).ok());

  Tensor xs(DType::F32, {1, n});
  for (size_t k = 0; k < bits.size(); ++k) xs.data[k] = in.f[k];
  auto want = interpret(g, LeafValues{{x, xs}}, {g.outputs[0].node}, Precision::F32);
  ASSERT_TRUE(want.ok()) << want.error().message;
  for (size_t k = 0; k < bits.size(); ++k) {
    uint32_t jit = std::bit_cast<uint32_t>(out.f[k]);
    uint32_t interp = std::bit_cast<uint32_t>(static_cast<float>((*want)[0].data[k]));
    uint32_t ref = std::bit_cast<uint32_t>(scalar::roundToBf16(in.f[k]));
    EXPECT_EQ(jit, ref) << std::hex << "input 0x" << bits[k];
    EXPECT_EQ(interp, ref) << std::hex << "input 0x" << bits[k];
    EXPECT_EQ(jit & 0xFFFFu, 0u) << std::hex << "input 0x" << bits[k] << ": not a bf16";
  }
}

}  // namespace
}  // namespace nnc
