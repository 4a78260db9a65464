// What keeps compile time down, checked for correctness (never for speed): identical tasks
// compile once (TaskMerge.h), a large module compiles in parallel parts (ModuleSplit.h),
// compiled code is reused in process and from disk (ObjectCache.h), and the stage times add
// up.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "compiler/codegen/kernels/conv/ConvVectorUnit.h"
#include "compiler/codegen/jit/ObjectCache.h"
#include "tests/codegen/CodegenTestUtil.h"

namespace nnc {
namespace {

using namespace nnc::testing;

// h <- tanh(h @ w + b), `steps` times with the same w and b: an unrolled recurrence, whose
// steps lower to kernels of one structure over different buffers.
Graph recurrence(int steps) {
  Graph g;
  NodeId h = input(g, "x", DType::F32, {kBatch, 6});
  NodeId w = param(g, "w", {6, 6});
  NodeId b = param(g, "b", {6});
  for (int s = 0; s < steps; ++s) h = op(g, OpKind::Tanh, {op(g, OpKind::Add, {op(g, OpKind::MatMul, {h, w}), b})});
  g.outputs.push_back({"h", h});
  return g;
}

// Dense layers of different widths: distinct kernels, enough code to be split.
Graph widening(const std::vector<int64_t>& widths) {
  Graph g;
  NodeId h = input(g, "x", DType::F32, {kBatch, widths[0]});
  for (size_t i = 1; i < widths.size(); ++i) {
    std::string name = "w";
    name += std::to_string(i);  // (not "w" + ...: GCC 12 warns falsely, -Wrestrict)
    NodeId w = param(g, name, {widths[i - 1], widths[i]});
    h = op(g, OpKind::Tanh, {op(g, OpKind::MatMul, {h, w})});
  }
  g.outputs.push_back({"y", h});
  return g;
}

// Forward outputs of `g` compiled with `options`, for fixed random inputs and parameters.
std::vector<float> forwardOutputs(const Graph& g, const CompileOptions& options, int64_t batch, CompileTimes* times) {
  auto compiled = jitCompile(g, nullptr, options);
  EXPECT_TRUE(compiled.ok()) << compiled.error().message;
  if (!compiled.ok()) return {};
  CompiledModel& m = **compiled;
  if (times) *times = m.times();
  std::mt19937_64 rng(11);
  Leaves l = makeLeaves(g, m, batch, rng);
  HostTensor out = hostBuffer(m.inference().outputs[0].type, batch);
  std::vector<const void*> in;
  for (HostTensor& h : l.inputs) in.push_back(h.data());
  std::vector<void*> outs{out.data()};
  auto ok = m.forward(in, outs, batch);
  EXPECT_TRUE(ok.ok()) << ok.error().message;
  return out.f;
}

TEST(CompileTime, RepeatedStepsCompileOnceAndMatchTheInterpreter) {
  Graph g = recurrence(6);
  CompileOptions opt;
  opt.useCache = false;
  auto m = jitCompile(g, nullptr, opt);
  ASSERT_TRUE(m.ok()) << m.error().message;
  // Six steps of one structure (the first and last may differ, reading an input or writing
  // an output): at least four tasks merged into others.
  EXPECT_GE((*m)->times().mergedTasks, 4);
  expectMatchesInterpreter(g);
  expectMatchesInterpreter(g, {}, {1, 5}, 1e-4, /*chunkWork=*/32768);
}

TEST(CompileTime, TrainingAndInferenceShareTheirIdenticalTasks) {
  // The training step's forward kernels equal the inference graph's: compiled once.
  Graph inference = widening({8, 16, 4});
  Graph training = widening({8, 16, 4});
  CompileOptions opt;
  opt.useCache = false;
  auto m = jitCompile(inference, &training, opt);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_GE((*m)->times().mergedTasks, 2);
}

TEST(CompileTime, SplitCompilationGivesTheSameResults) {
  Graph g = widening({40, 72, 56, 88, 24, 48, 64, 32, 10});
  CompileOptions whole, split;
  whole.useCache = split.useCache = false;
  whole.compileThreads = 1;
  split.compileThreads = 3;
  CompileTimes wholeTimes, splitTimes;
  std::vector<float> a = forwardOutputs(g, whole, 9, &wholeTimes);
  std::vector<float> b = forwardOutputs(g, split, 9, &splitTimes);
  EXPECT_EQ(wholeTimes.compileParts, 1);
  EXPECT_GT(splitTimes.compileParts, 1) << "the module was too small to split: make the test graph larger";
  ASSERT_EQ(a.size(), b.size());
  ASSERT_FALSE(a.empty());
  // Function by function the same code: bit-identical results.
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  expectMatchesInterpreter(g, {{"x", Range{-1, 1}}}, {3}, 1e-4, 32768);
}

// Instructions of each function defined in LLVM IR text (lines inside its body that are not
// labels): the code-size measure of the tests below.
std::map<std::string, int> functionSizes(const std::string& ir) {
  std::map<std::string, int> sizes;
  std::istringstream in(ir);
  std::string current;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("define ", 0) == 0) {
      size_t at = line.find('@'), paren = line.find('(', at);
      current = line.substr(at + 1, paren - at - 1);
      sizes[current] = 0;
    } else if (line == "}") {
      current.clear();
    } else if (!current.empty() && line.rfind("  ", 0) == 0) {
      ++sizes[current];
    }
  }
  return sizes;
}

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

TEST(CompileTime, MatrixProductsShareOneLoopNestAndKeepTheirTasksSmall) {
  // Compile time grows with the code: the GEMM loop nest (packing, blocking, both paths) is
  // one driver per module, and a product's task is only its split and a call (its fused
  // epilogue a small function of its own), however many products there are.
  Graph g = widening({128, 160, 144, 192, 136, 128});
  CompileOptions opt;
  opt.useCache = false;
  opt.keepIR = true;
  auto m = jitCompile(g, nullptr, opt);
  ASSERT_TRUE(m.ok()) << m.error().message;
  std::map<std::string, int> sizes = functionSizes((*m)->llvmIR());
  int drivers = 0, products = 0, epilogues = 0;
  for (const auto& [name, size] : sizes) {
    if (name.rfind("nnc.gemm.driver.", 0) == 0) ++drivers;
    if (endsWith(name, "_matmul")) {
      ++products;
      EXPECT_LT(size, 60) << name;
    }
    if (endsWith(name, "_matmul_epilogue")) {
      ++epilogues;
      EXPECT_LT(size, 120) << name;
    }
  }
  EXPECT_EQ(drivers, 1);
  EXPECT_EQ(products, 5);
  EXPECT_EQ(epilogues, 5);  // tanh on each product
  expectMatchesInterpreter(g, {{"x", Range{-1, 1}}}, {1, 7}, 1e-3);  // five layers deep in f32

  // Small products (an LSTM's gates) keep the loop nest and the epilogue in their own task,
  // specialised to their sizes.
  Graph small = widening({8, 16, 4});
  auto s = jitCompile(small, nullptr, opt);
  ASSERT_TRUE(s.ok()) << s.error().message;
  for (const auto& [name, size] : functionSizes((*s)->llvmIR())) {
    EXPECT_NE(name.rfind("nnc.gemm.driver.", 0), 0u) << name;
    EXPECT_FALSE(endsWith(name, "_epilogue")) << name;
  }
  expectMatchesInterpreter(small, {{"x", Range{-1, 1}}}, {1, 7});
}

TEST(CompileTime, ConvolutionInputGradientLoopsOverItsInteriorWindowColumns) {
  // The input gradient of the CNN example's second layer (14 x 14 x 32 -> 64, 5 x 5, same):
  // only the border kx of each register block are emitted one by one. Fully unrolled over
  // kx it was over 3000 instructions with the AVX2 blocking (4 pixels x 3 channels), the
  // slowest function of the model to compile; the AVX-512 blocking (4 x 6) is twice the
  // block, so its bound is larger.
  Attrs geo{{"strides", std::vector<int64_t>{1, 1}}, {"pads", std::vector<int64_t>{2, 2, 2, 2}}};
  geo.set("input_hw", std::vector<int64_t>{14, 14});
  Graph g;
  NodeId dy = input(g, "dy", DType::F32, {kBatch, 14, 14, 64});
  NodeId w = param(g, "w", {5, 5, 32, 64});
  g.outputs.push_back({"dx", op(g, OpKind::Conv2DGradInput, {dy, w}, geo)});
  CompileOptions opt;
  opt.useCache = false;
  opt.keepIR = true;
  for (auto [unit, bound] : {std::pair{codegen::VectorUnit{8, 16}, 2000}, std::pair{codegen::VectorUnit{16, 32}, 2600}}) {
    SCOPED_TRACE("lanes " + std::to_string(unit.lanes));
    codegen::overrideConvVectorUnit(unit);
    auto m = jitCompile(g, nullptr, opt);
    codegen::clearConvVectorUnitOverride();
    ASSERT_TRUE(m.ok()) << m.error().message;
    int found = 0;
    for (const auto& [name, size] : functionSizes((*m)->llvmIR()))
      if (endsWith(name, "_conv2d_grad_input")) {
        ++found;
        EXPECT_LT(size, bound) << name;
      }
    EXPECT_EQ(found, 1);
  }
}

TEST(CompileTime, StageTimesAddUpAndACacheHitSkipsCompilation) {
  clearJitCache();
  Graph g = recurrence(3);
  auto first = jitCompile(g, nullptr);
  ASSERT_TRUE(first.ok()) << first.error().message;
  const CompileTimes& t = (*first)->times();
  EXPECT_FALSE(t.cacheHit);
  for (double s : {t.lowering, t.irGen, t.optimize, t.codegen}) EXPECT_GE(s, 0);
  EXPECT_GE(t.total + 1e-9, t.lowering + t.irGen + t.optimize + t.codegen);
  EXPECT_GE(t.compileParts, 1);
  auto second = jitCompile(g, nullptr);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE((*second)->times().cacheHit);
  EXPECT_EQ((*second)->times().optimize, 0.0);
  EXPECT_EQ((*second)->times().codegen, 0.0);
}

// Points the disk cache at a fresh directory for one test, and restores the environment.
struct DiskCacheScope {
  std::filesystem::path dir;
  std::string before;
  bool had = false;
  DiskCacheScope() {
    std::string name = "nnc_cache_test_";
    name += std::to_string(::getpid());
    dir = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(dir);
    if (const char* b = std::getenv("NNC_CACHE_DIR")) {
      had = true;
      before = b;
    }
    ::setenv("NNC_CACHE_DIR", dir.c_str(), 1);
    ::unsetenv("NNC_DISK_CACHE");
  }
  ~DiskCacheScope() {
    if (had)
      ::setenv("NNC_CACHE_DIR", before.c_str(), 1);
    else
      ::unsetenv("NNC_CACHE_DIR");
    ::unsetenv("NNC_DISK_CACHE");
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::vector<std::filesystem::path> entries() const {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) files.push_back(e.path());
    return files;
  }
};

TEST(CompileTime, DiskCacheServesALaterCompileAndSurvivesCorruption) {
  DiskCacheScope scope;
  Graph g = widening({12, 20, 7});
  CompileOptions opt;  // useCache and diskCache: the defaults
  clearJitCache();
  CompileTimes first, fromDisk, afterCorruption;
  std::vector<float> want = forwardOutputs(g, opt, 5, &first);
  EXPECT_FALSE(first.diskCacheHit);
  ASSERT_EQ(scope.entries().size(), 1u);

  clearJitCache();  // as if a new process
  std::vector<float> got = forwardOutputs(g, opt, 5, &fromDisk);
  EXPECT_TRUE(fromDisk.diskCacheHit);
  EXPECT_FALSE(fromDisk.cacheHit);
  EXPECT_EQ(fromDisk.optimize, 0.0);
  ASSERT_EQ(want.size(), got.size());
  EXPECT_EQ(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)), 0);

  // A damaged entry is ignored (the model compiles) and replaced by a good one.
  std::filesystem::path entry = scope.entries()[0];
  auto size = std::filesystem::file_size(entry);
  {
    std::fstream f(entry, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.put('\x5a').put('\xa5').put('\x00');
  }
  clearJitCache();
  got = forwardOutputs(g, opt, 5, &afterCorruption);
  EXPECT_FALSE(afterCorruption.diskCacheHit);
  EXPECT_EQ(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)), 0);
  clearJitCache();
  got = forwardOutputs(g, opt, 5, &fromDisk);
  EXPECT_TRUE(fromDisk.diskCacheHit);

  // A truncated entry too.
  std::filesystem::resize_file(entry, size / 3);
  clearJitCache();
  got = forwardOutputs(g, opt, 5, &afterCorruption);
  EXPECT_FALSE(afterCorruption.diskCacheHit);
  EXPECT_EQ(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)), 0);
  clearJitCache();
}

TEST(CompileTime, DiskCacheCanBeTurnedOff) {
  DiskCacheScope scope;
  Graph g = widening({9, 5});
  clearJitCache();
  ::setenv("NNC_DISK_CACHE", "0", 1);
  CompileTimes t;
  forwardOutputs(g, CompileOptions{}, 2, &t);
  EXPECT_TRUE(scope.entries().empty());
  ::unsetenv("NNC_DISK_CACHE");
  CompileOptions off;
  off.diskCache = false;
  clearJitCache();
  forwardOutputs(g, off, 2, &t);
  EXPECT_TRUE(scope.entries().empty());
  CompileOptions noCache;
  noCache.useCache = false;
  forwardOutputs(g, noCache, 2, &t);
  EXPECT_TRUE(scope.entries().empty());
  clearJitCache();
}

TEST(CompileTime, DiskCacheKeepsToItsSizeEvictingTheLeastRecentlyUsed) {
  DiskCacheScope scope;
  using codegen::loadObjects;
  using codegen::storeObjects;
  const std::string dir = scope.dir.string();
  const std::vector<std::string> object{std::string(4000, 'x')};
  ASSERT_TRUE(storeObjects(dir, "a", object));
  ASSERT_TRUE(storeObjects(dir, "b", object));
  ASSERT_TRUE(storeObjects(dir, "c", object));
  // Make the order of use explicit: a, then b, then c ...
  auto t = std::filesystem::file_time_type::clock::now() - std::chrono::hours(3);
  for (const char* k : {"a", "b", "c"}) {
    std::filesystem::last_write_time(codegen::objectCachePath(dir, k), t);
    t += std::chrono::hours(1);
  }
  // ... then a is used again (a hit refreshes it), so b is now the least recently used.
  ASSERT_TRUE(loadObjects(dir, "a").has_value());
  const int64_t entryBytes = int64_t(std::filesystem::file_size(codegen::objectCachePath(dir, "a")));
  codegen::trimObjectCache(dir, 2 * entryBytes + entryBytes / 2);
  EXPECT_TRUE(loadObjects(dir, "a").has_value());
  EXPECT_FALSE(loadObjects(dir, "b").has_value());
  EXPECT_TRUE(loadObjects(dir, "c").has_value());
  // Storing keeps to the limit by itself.
  ::setenv("NNC_CACHE_MAX_MB", "0", 1);
  ASSERT_TRUE(storeObjects(dir, "d", object));
  ::unsetenv("NNC_CACHE_MAX_MB");
  EXPECT_TRUE(scope.entries().empty());
}

}  // namespace
}  // namespace nnc
