// `nnc FILE.onnx ...` end to end: predict writes every output with its declared element type
// (--out DIR/), --const binds an input, and bad files get a located error and exit status 1.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/data/Npy.h"
#include "tests/onnx/OnnxTestModels.h"

namespace nnc::onnxtest {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int status = -1;
  std::string err;
};

class OnnxDriver : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nnc_onnx_driver_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
    return (dir_ / name).string();
  }
  CliRun nnc(const std::string& args) {
    std::string errPath = (dir_ / "stderr.txt").string();
    int rc = std::system((std::string(NNC_EXE) + " " + args + " 2>" + errPath).c_str());
    CliRun r;
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    std::ifstream in(errPath);
    std::stringstream s;
    s << in.rdbuf();
    r.err = s.str();
    return r;
  }
  fs::path dir_;
};

// y = relu(x), i = argmax(x, axis 1) as int64, over a batch of rows of 3.
onnx::ModelProto twoOutputs() {
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {-1, 3});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {-1, 3});
  addValueInfo(m.mutable_graph()->add_output(), "i", 7, {-1});
  addNode(m, "Relu", {"x"}, {"y"});
  auto* am = addNode(m, "ArgMax", {"x"}, {"i"});
  addIntAttr(am, "axis", 1);
  addIntAttr(am, "keepdims", 0);
  return m;
}

TEST_F(OnnxDriver, PredictWritesEveryOutputInItsDeclaredType) {
  std::string model = write("two.onnx", bytes(twoOutputs()));
  auto x = data::Array::fromF32({2, 3}, {1, -3, 2, -5, 4, 0});
  ASSERT_TRUE(data::saveNpy((dir_ / "x.npy").string(), x).ok());
  fs::create_directories(dir_ / "out");
  CliRun r = nnc(model + " predict --data npy:x=" + (dir_ / "x.npy").string() + " --out " + (dir_ / "out").string() + "/");
  ASSERT_EQ(r.status, 0) << r.err;
  auto y = data::loadNpy((dir_ / "out/y.npy").string());
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(std::vector<float>(y->f32().begin(), y->f32().end()), (std::vector<float>{1, 0, 2, 0, 4, 0}));
  std::ifstream in(dir_ / "out/i.npy", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("'descr': '<i8'"), std::string::npos);
  auto i = data::loadNpy((dir_ / "out/i.npy").string());  // the loader reads int64 as i32
  ASSERT_TRUE(i.ok()) << i.error().message;
  EXPECT_EQ(std::vector<int32_t>(i->i32().begin(), i->i32().end()), (std::vector<int32_t>{2, 1}));
}

TEST_F(OnnxDriver, ConstBindsAnInputThatHoldsAShape) {
  // y = reshape(x, shape): the shape is an input, bound at compile time.
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {2, 3});
  addValueInfo(m.mutable_graph()->add_input(), "shape", 7, {2});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {3, 2});
  addNode(m, "Reshape", {"x", "shape"}, {"y"});
  std::string model = write("reshape.onnx", bytes(m));
  CliRun unbound = nnc(model + " check");
  EXPECT_EQ(unbound.status, 1);
  EXPECT_NE(unbound.err.find("reshape.onnx: error: node 'y_node' (Reshape): its shape (input 1 'shape') must be known"),
            std::string::npos)
      << unbound.err;
  ASSERT_TRUE(data::saveNpy((dir_ / "shape.npy").string(), data::Array::fromI32({2}, {3, 2})).ok());
  CliRun bound = nnc(model + " check --const shape=" + (dir_ / "shape.npy").string());
  EXPECT_EQ(bound.status, 0) << bound.err;
}

TEST_F(OnnxDriver, BadFilesGetALocatedErrorAndStatusOne) {
  std::string garbage = write("garbage.onnx", std::string("\x08\x96\x01garbage\xff\xfe", 12));
  CliRun r = nnc(garbage + " check");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("garbage.onnx: error: not a valid ONNX file"), std::string::npos) << r.err;
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {2});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {2});
  addNode(m, "Acos", {"x"}, {"y"}, "arccos");
  r = nnc(write("cos.onnx", bytes(m)) + " predict --data npy:x=x.npy --out y.npy");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cos.onnx: error: node 'arccos' (Acos): the operator Acos is not supported by nnc"),
            std::string::npos)
      << r.err;
}

// Every file the ONNX fuzz target once failed on (tests/fuzz/regressions/onnx/) is refused by
// the driver with an error and status 1: never a signal or a sanitizer report (exit 23).
TEST_F(OnnxDriver, FuzzFindingsAreRefusedWithStatusOne) {
  const fs::path dir = fs::path(NNC_SOURCE_DIR) / "tests/fuzz/regressions/onnx";
  int seen = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    SCOPED_TRACE(e.path().string());
    CliRun r = nnc(e.path().string() + " check");
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find(": error: "), std::string::npos) << r.err;
    ++seen;
  }
  EXPECT_GE(seen, 4);
}

}  // namespace
}  // namespace nnc::onnxtest
