// nnc's LLVM pass pipeline (OptimizationPipeline.h): what it must still do to the kernels
// (promote the accumulators, vectorise), and that a pipeline that does not parse is an
// error value, not an abort.
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <string>

#include "compiler/codegen/OptimizationPipeline.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

CompileOptions uncachedWithIR() {
  CompileOptions opt;
  opt.useCache = false;
  opt.diskCache = false;
  opt.keepIR = true;
  return opt;
}

// The body of function `name` in `ir` (empty if it is not there).
std::string functionBody(const std::string& ir, const std::string& nameSuffix) {
  std::regex head("define [^\\n]*@[A-Za-z0-9_.]*" + nameSuffix + "\\(");
  std::smatch m;
  if (!std::regex_search(ir, m, head)) return "";
  size_t start = static_cast<size_t>(m.position(0));
  size_t end = ir.find("\n}\n", start);
  return ir.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

struct EnvScope {
  EnvScope(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~EnvScope() { unsetenv(name_); }
  const char* name_;
};

TEST(OptimizationPipeline, LevelsNameTheirPasses) {
  EXPECT_EQ(codegen::optimizationPipeline(0), "default<O0>");
  EXPECT_EQ(codegen::optimizationPipeline(1).find("vectorize"), std::string::npos);
  std::string full = codegen::optimizationPipeline(3);
  for (const char* pass : {"sroa", "licm", "indvars", "gvn", "loop-vectorize", "slp-vectorizer"})
    EXPECT_NE(full.find(pass), std::string::npos) << pass;
  EXPECT_NE(full.find("no-verify-fixpoint"), std::string::npos);  // a failed check would abort
}

TEST(OptimizationPipeline, ElementwiseLoopsAreVectorised) {
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 1000});
  NodeId y = op(g, OpKind::Add, {op(g, OpKind::Mul, {op(g, OpKind::Exp, {x}), x}), x});
  g.outputs.push_back({"y", y});
  auto m = jitCompile(g, nullptr, uncachedWithIR());
  ASSERT_TRUE(m.ok()) << m.error().message;
  std::string body = functionBody((*m)->optimizedIR(), "_k0_add");
  ASSERT_FALSE(body.empty()) << (*m)->optimizedIR();
  EXPECT_TRUE(std::regex_search(body, std::regex("fmul (fast |contract |reassoc )*<(4|8|16) x float>")))
      << "the elementwise loop was not vectorised:\n" << body;
  expectMatchesInterpreter(g, {{"x", Range{-2, 2}}}, {1, 7});
}

TEST(OptimizationPipeline, ConvolutionAccumulatorsLiveInRegisters) {
  Attrs geo{{"strides", std::vector<int64_t>{1, 1}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}};
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 9, 9, 8});
  NodeId w = param(g, "w", {3, 3, 8, 16});
  g.outputs.push_back({"y", op(g, OpKind::Conv2D, {x, w}, geo)});
  auto m = jitCompile(g, nullptr, uncachedWithIR());
  ASSERT_TRUE(m.ok()) << m.error().message;
  std::string body = functionBody((*m)->optimizedIR(), "_k0_conv2d");
  ASSERT_FALSE(body.empty()) << (*m)->optimizedIR();
  EXPECT_EQ(body.find(" alloca "), std::string::npos) << "an accumulator stayed on the stack:\n" << body;
  EXPECT_NE((*m)->llvmIR().find(" alloca "), std::string::npos);  // before the pipeline it was there
}

TEST(OptimizationPipeline, AnInvalidPipelineIsAnError) {
  EnvScope bad("NNC_LLVM_PIPELINE", "function(no-such-pass)");
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 4});
  g.outputs.push_back({"y", op(g, OpKind::Exp, {x})});
  CompileOptions opt = uncachedWithIR();
  auto m = jitCompile(g, nullptr, opt);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("no-such-pass"), std::string::npos) << m.error().message;
}

TEST(OptimizationPipeline, LLVMsOwnPipelineGivesTheSameResults) {
  // The kernels do not depend on which pipeline optimised them (default<O3> is the
  // experiment NNC_LLVM_PIPELINE exists for).
  Attrs geo{{"strides", std::vector<int64_t>{1, 1}}, {"pads", std::vector<int64_t>{2, 2, 2, 2}}};
  Graph g;
  NodeId x = input(g, "x", DType::F32, {kBatch, 12, 12, 1});
  NodeId w = param(g, "w", {5, 5, 1, 8});
  NodeId y = op(g, OpKind::Relu, {op(g, OpKind::Conv2D, {x, w}, geo)});
  NodeId w2 = param(g, "w2", {12 * 12 * 8, 10});
  NodeId flat = op(g, OpKind::Reshape, {y}, Attrs{{"shape", std::vector<int64_t>{kBatch, 12 * 12 * 8}}});
  g.outputs.push_back({"z", op(g, OpKind::Tanh, {op(g, OpKind::MatMul, {flat, w2})})});
  expectMatchesInterpreter(g, {{"x", Range{-1, 1}}}, {1, 5});
  clearJitCache();  // (the in-process cache does not know the pipeline changed)
  EnvScope o3("NNC_LLVM_PIPELINE", "default<O3>");
  expectMatchesInterpreter(g, {{"x", Range{-1, 1}}}, {1, 5});
  clearJitCache();
}

}  // namespace
}  // namespace nnc
