// The onnx("FILE.onnx", x, ...) layer of .nn files, end to end through `nnc`: the path is
// relative to the .nn file, arguments bind to the graph's inputs, `output =` picks an output,
// initializers become `<layer>.<name>` parameters, and every bad call gets a located error and
// exit status 1. (Agreement with PyTorch's training: tests/onnx/test_onnx_layer.py, label peers.)
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "compiler/onnx/OnnxImport.h"
#include "tests/onnx/OnnxTestModels.h"

namespace nnc::onnxtest {
namespace {

namespace fs = std::filesystem;

struct LayerRun {
  int status = -1;
  std::string out, err;
};

class OnnxLayer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nnc_onnx_layer_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "nets");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
    return (dir_ / name).string();
  }
  // `nnc MODEL.nn COMMAND`, run from another folder than the model's.
  LayerRun nnc(const std::string& model, const std::string& command) {
    std::string outPath = (dir_ / "stdout.txt").string(), errPath = (dir_ / "stderr.txt").string();
    int rc = std::system((std::string(NNC_EXE) + " " + model + " " + command + " >" + outPath + " 2>" + errPath).c_str());
    LayerRun r;
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = read(outPath);
    r.err = read(errPath);
    return r;
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // A .nn whose line 3 is `line`.
  std::string model(const std::string& line) {
    return write("m.nn", "model m\ninput x: f32[batch, 3]\n" + line + "\noutput out = h\n");
  }
  fs::path dir_;
};

// y = relu(x @ w + b) with w [3, 2], b [2]; i = argmax(x, axis 1) as int64.
onnx::ModelProto affineRelu() {
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {-1, 3});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {-1, 2});
  addValueInfo(m.mutable_graph()->add_output(), "i", 7, {-1});
  addInitializer(m, "fc.weight", 1, {3, 2}, {1, 2, 3, 4, 5, 6});
  addInitializer(m, "fc.bias", 1, {2}, {0.5, -0.5});
  addNode(m, "Gemm", {"x", "fc.weight", "fc.bias"}, {"a"});
  addNode(m, "Relu", {"a"}, {"y"});
  auto* am = addNode(m, "ArgMax", {"x"}, {"i"});
  addIntAttr(am, "axis", 1);
  addIntAttr(am, "keepdims", 0);
  return m;
}

TEST_F(OnnxLayer, ParametersAreNamedAfterTheLayerAndThePathIsRelativeToTheModel) {
  write("nets/f.onnx", bytes(affineRelu()));
  LayerRun r = nnc(model("h = onnx(\"nets/f.onnx\", x)"), "summary");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("ONNX"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Trainable params: 8"), std::string::npos) << r.out;
  r = nnc((dir_ / "m.nn").string(), "ir");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("h.fc.weight"), std::string::npos);
  EXPECT_NE(r.out.find("h.fc.bias"), std::string::npos);
}

TEST_F(OnnxLayer, TrainableFalseMakesTheWeightsState) {
  write("nets/f.onnx", bytes(affineRelu()));
  LayerRun r = nnc(model("h = onnx(\"nets/f.onnx\", x, trainable = false)"), "summary");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Trainable params: 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Non-trainable params: 8"), std::string::npos) << r.out;
}

TEST_F(OnnxLayer, OutputPicksANamedOutput) {
  write("nets/f.onnx", bytes(affineRelu()));
  LayerRun r = nnc(model("h = onnx(\"nets/f.onnx\", x, output = \"i\")"), "ir");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("i32[batch]"), std::string::npos) << r.out;
}

struct BadCall {
  const char* line;
  const char* message;
};

TEST_F(OnnxLayer, BadCallsGetALocatedErrorAndExitOne) {
  write("nets/f.onnx", bytes(affineRelu()));
  write("nets/garbage.onnx", std::string("\x08\x07not a model at all\xff\xff", 22));
  const BadCall cases[] = {
      {"h = onnx(\"nets/missing.onnx\", x)", "cannot open the ONNX file"},
      {"h = onnx(\"nets\", x)", "not a regular file"},
      {"h = onnx(\"nets/garbage.onnx\", x)", "garbage.onnx"},
      {"h = onnx(\"nets/f.onnx\")", "has 1 input ('x'), got 0 arguments"},
      {"h = onnx(\"nets/f.onnx\", x, x)", "has 1 input ('x'), got 2 arguments"},
      {"h = onnx(\"nets/f.onnx\", reshape(x, [3, 1]))", "input 'x' of"},
      {"h = onnx(\"nets/f.onnx\", x, output = \"why\")", "has no output 'why'"},
      {"h = onnx(\"nets/f.onnx\", inputs = x)", "takes positional arguments only"},
      {"h = onnx(x)", "must be a string"},
  };
  for (const BadCall& c : cases) {
    LayerRun r = nnc(model(c.line), "check");
    EXPECT_EQ(r.status, 1) << c.line;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.line << "\n" << r.err;
    EXPECT_NE(r.err.find("m.nn:3:"), std::string::npos) << c.line << "\n" << r.err;
    EXPECT_EQ(r.err.find("Assertion"), std::string::npos) << r.err;
  }
}

// The importer emits nnc's mode-dependent ops, so the layer trains as batchnorm/dropout do.
TEST(OnnxModeOps, BatchNormalizationAndDropoutBecomeModeDependentOps) {
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {-1, 2, 3, 3});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {-1, 2, 3, 3});
  for (const char* s : {"bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"})
    addInitializer(m, s, 1, {2}, {1, 1});
  auto* ratio = addNode(m, "Constant", {}, {"ratio"});  // as PyTorch writes it
  auto* value = ratio->add_attribute();
  value->set_name("value_float");
  value->set_type(onnx::AttributeProto::FLOAT);
  value->set_f(0.25f);
  // Training-mode exports name outputs nothing reads: the running statistics and the mask.
  auto* bn = addNode(m, "BatchNormalization", {"x", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"},
                     {"b", "unused_mean", "unused_var"});
  addIntAttr(bn, "training_mode", 1);
  addNode(m, "Dropout", {"b", "ratio"}, {"y", "unused_mask"});
  auto imported = onnximport::importOnnxBytes(bytes(m), "bn.onnx");
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  const Graph& g = imported->model.graph;
  int batchNorms = 0, dropouts = 0;
  for (const Node& n : g.nodes()) {
    if (n.op == OpKind::BatchNorm) {
      ++batchNorms;
      EXPECT_NEAR(n.attrs.getFloat("momentum"), 0.9, 1e-12);
      EXPECT_EQ(n.type.shape.dims.back(), 2);  // channels last inside
    }
    if (n.op == OpKind::Dropout) {
      ++dropouts;
      EXPECT_DOUBLE_EQ(n.attrs.getFloat("rate"), 0.25);
    }
  }
  EXPECT_EQ(batchNorms, 1);
  EXPECT_EQ(dropouts, 1);
  EXPECT_EQ(g.leaves(OpKind::State).size(), 2u);
}

}  // namespace
}  // namespace nnc::onnxtest

namespace nnc::onnxtest {
namespace {

// Conv -> Relu -> Conv as PyTorch writes it (NCHW, OIHW weights): after import, the only
// data transposes are the input's and the output's; none sits between the convolutions.
TEST(OnnxTransposeSinking, ImportedConvReluConvHasNoTransposeBetweenTheConvolutions) {
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {-1, 2, 6, 6});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {-1, 3, 6, 6});
  std::vector<double> w1(4 * 2 * 9, 0.1), w2(3 * 4 * 9, -0.1);
  addInitializer(m, "w1", 1, {4, 2, 3, 3}, w1);
  addInitializer(m, "b1", 1, {4}, {0.1, 0.2, 0.3, 0.4});
  addInitializer(m, "w2", 1, {3, 4, 3, 3}, w2);
  addIntsAttr(addNode(m, "Conv", {"x", "w1", "b1"}, {"c1"}), "pads", {1, 1, 1, 1});
  addNode(m, "Relu", {"c1"}, {"r"});
  addIntsAttr(addNode(m, "Conv", {"r", "w2"}, {"y"}), "pads", {1, 1, 1, 1});
  auto imported = onnximport::importOnnxBytes(bytes(m), "crc.onnx");
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  const Graph& g = imported->model.graph;
  int batchedTransposes = 0;
  const Node* second = nullptr;
  for (const Node& n : g.nodes()) {
    batchedTransposes += n.op == OpKind::Transpose && n.type.shape.isBatched();
    if (n.op == OpKind::Conv2D) second = &n;
  }
  EXPECT_EQ(batchedTransposes, 2);
  ASSERT_NE(second, nullptr);
  for (NodeId v = second->inputs[0]; g.node(v).op != OpKind::Conv2D; v = g.node(v).inputs[0]) {
    ASSERT_NE(g.node(v).op, OpKind::Transpose);
    ASSERT_FALSE(g.node(v).inputs.empty());
  }
}

}  // namespace
}  // namespace nnc::onnxtest

namespace nnc::onnxtest {
namespace {

// 3-D Conv and pooling are built from 2-D ones; bad geometry is an error, never a division
// by zero.
TEST(OnnxThreeD, BadStridesAndPadsAreErrors) {
  for (const char* op : {"Conv", "MaxPool", "AveragePool"})
    for (auto [attr, values] : {std::pair<const char*, std::vector<int64_t>>{"strides", {0, 1, 1}},
                                {"pads", {-1, 0, 0, 0, 0, 0}}}) {
      onnx::ModelProto m = newModel();
      addValueInfo(m.mutable_graph()->add_input(), "x", 1, {-1, 1, 3, 3, 3});
      addValueInfo(m.mutable_graph()->add_output(), "y", 1, {});
      std::vector<std::string> inputs{"x"};
      if (std::string(op) == "Conv") {
        addInitializer(m, "w", 1, {1, 1, 2, 2, 2}, std::vector<double>(8, 1.0));
        inputs.push_back("w");
      }
      auto* n = addNode(m, op, inputs, {"y"});
      if (std::string(op) != "Conv") addIntsAttr(n, "kernel_shape", {2, 2, 2});
      addIntsAttr(n, attr, values);
      auto imported = onnximport::importOnnxBytes(bytes(m), "bad3d.onnx");
      EXPECT_FALSE(imported.ok()) << op << " " << attr;
    }
}

}  // namespace
}  // namespace nnc::onnxtest
