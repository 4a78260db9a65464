// Deep chains of transcendental ops (MathEmitter.h): beyond a per-function budget the exp/log
// polynomials are calls to shared functions with vector variants, so the optimised IR grows
// by a few instructions per op (not by two inlined polynomials, vector and scalar), the loop
// stays vectorised, and the results are those of the inlined code.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "compiler/codegen/aot/AotCompile.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

Graph chain(const std::vector<OpKind>& ops, int length) {
  Graph g;
  NodeId h = input(g, "x", DType::F32, {kBatch, 64});
  for (int i = 0; i < length; ++i) h = op(g, ops[static_cast<size_t>(i) % ops.size()], {h});
  g.outputs.push_back({"y", h});
  return g;
}

// Instructions in the function bodies of an LLVM IR text (lines indented by two spaces).
int instructionsIn(const std::string& ir) {
  std::istringstream in(ir);
  int n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.size() > 2 && line.compare(0, 2, "  ") == 0 && line[2] != ' ') ++n;
  return n;
}

TEST(MathSharing, DeepSeluChainStaysSmallAndVectorised) {
  auto ir = optimizedLLVMIR(chain({OpKind::Selu}, 250), nullptr);
  ASSERT_TRUE(ir.ok()) << ir.error().message;
  // Inlined, each selu was about 200 instructions (exp and log, in the vector body and the
  // scalar remainder): 50k in all. Shared, it is a call and a few selects per copy.
  EXPECT_LT(instructionsIn(*ir), 250 * 30);
  EXPECT_NE(ir->find("define internal float @nnc_math_expm1(float"), std::string::npos);
  // The vectorised loop calls a vector variant.
  EXPECT_NE(ir->find("x float> @nnc_math_expm1_v"), std::string::npos);
}

TEST(MathSharing, ShortChainsStayInlined) {
  auto ir = optimizedLLVMIR(chain({OpKind::Tanh, OpKind::Sigmoid}, 4), nullptr);
  ASSERT_TRUE(ir.ok()) << ir.error().message;
  EXPECT_EQ(ir->find("@nnc_math_"), std::string::npos);
}

TEST(MathSharing, DeepMixedChainMatchesTheInterpreter) {
  // Within the budget, then beyond it: inlined, shared scalar (the remainder of a batch of 7)
  // and shared vector code all compute what the interpreter does.
  Graph g = chain({OpKind::Tanh, OpKind::Softplus, OpKind::Sigmoid, OpKind::Selu, OpKind::Elu, OpKind::Exp,
                   OpKind::Log},
                  42);
  expectMatchesInterpreter(g, {{"x", Range{-3.0, 3.0}}}, {1, 7, 16}, 1e-4);
}

}  // namespace
}  // namespace nnc
