// The ONNX importer: located errors for bad files, shape arithmetic folded at import with the
// batch kept symbolic, NCHW kept at the boundary, and results computed by the compiled model.
#include <gtest/gtest.h>

#include <cstring>

#include "compiler/onnx/OnnxImport.h"
#include "compiler/session/ForwardRunner.h"
#include "tests/onnx/OnnxTestModels.h"

namespace nnc::onnxtest {
namespace {

using onnximport::importOnnxBytes;

std::string errorOf(const std::string& bytes) {
  auto r = importOnnxBytes(bytes, "m.onnx");
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : r.error().message;
}

TEST(OnnxImport, GarbageIsNotAValidFile) {
  EXPECT_NE(errorOf("this is not protobuf at all \xff\xff\xff").find("m.onnx: not a valid ONNX file"), std::string::npos);
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {2});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {2});
  addNode(m, "Relu", {"x"}, {"y"});
  std::string b = bytes(m);
  EXPECT_NE(errorOf(b.substr(0, b.size() / 2)).find("not a valid ONNX file"), std::string::npos);
}

TEST(OnnxImport, UnsupportedOperatorNamesTheNode) {
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {2});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {2});
  addNode(m, "Acos", {"x"}, {"y"}, "my_acos");
  EXPECT_EQ(errorOf(bytes(m)), "m.onnx: node 'my_acos' (Acos): the operator Acos is not supported by nnc");
}

TEST(OnnxImport, CheckerRefusesUndefinedInputs) {
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {2});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {2});
  addNode(m, "Add", {"x", "nowhere"}, {"y"});
  EXPECT_NE(errorOf(bytes(m)).find("the ONNX checker refuses the model"), std::string::npos);
}

TEST(OnnxImport, SymbolicDimensionOtherThanTheFirstIsRefused) {
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {2, -1});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {2, -1});
  addNode(m, "Relu", {"x"}, {"y"});
  EXPECT_NE(errorOf(bytes(m)).find("graph input 'x' has a symbolic dimension 1 ('N')"), std::string::npos);
}

TEST(OnnxImport, ShapeArithmeticFoldsAndBatchStaysSymbolic) {
  // y = x.view(x.size(0), -1), as PyTorch exports it.
  onnx::ModelProto m = newModel(12);  // Unsqueeze with an axes attribute: converted to opset 17
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {-1, 2, 3});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {-1, 6});
  addInitializer(m, "zero", 7, {}, {0});
  addInitializer(m, "minus1", 7, {1}, {-1});
  addNode(m, "Shape", {"x"}, {"s"});
  addNode(m, "Gather", {"s", "zero"}, {"n"});
  addIntsAttr(addNode(m, "Unsqueeze", {"n"}, {"n1"}), "axes", {0});
  addIntAttr(addNode(m, "Concat", {"n1", "minus1"}, {"shape"}), "axis", 0);
  addNode(m, "Reshape", {"x", "shape"}, {"y"});
  auto r = importOnnxBytes(bytes(m), "m.onnx");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Graph& g = r->model.graph;
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.type(g.outputs[0].node).str(), "f32[batch, 6]");
  EXPECT_EQ(r->opsetBefore, 12);
  for (const Node& n : g.nodes()) EXPECT_TRUE(n.op == OpKind::Input || n.op == OpKind::Reshape) << opName(n.op);
}

TEST(OnnxImport, ConvKeepsNCHWAndComputes) {
  // A 1x1 convolution with two output channels and a bias over a [batch, 1, 2, 2] image.
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {-1, 1, 2, 2});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {-1, 2, 2, 2});
  addInitializer(m, "w", 1, {2, 1, 1, 1}, {2, -1});
  addInitializer(m, "b", 1, {2}, {0.5, 1});
  addNode(m, "Conv", {"x", "w", "b"}, {"y"}, "conv");
  auto r = importOnnxBytes(bytes(m), "m.onnx");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model.graph.findLeaf(OpKind::Param, "w") != kNoNode, true);
  auto runner = ForwardRunner::create(r->model);
  ASSERT_TRUE(runner.ok()) << runner.error().message;
  std::vector<float> x = {1, 2, 3, 4}, y(8);
  const void* in[] = {x.data()};
  void* out[] = {y.data()};
  ASSERT_TRUE((*runner)->run(in, out, 1).ok());
  std::vector<float> want = {2.5, 4.5, 6.5, 8.5, 0, -1, -2, -3};
  EXPECT_EQ(y, want);
}



}  // namespace
}  // namespace nnc::onnxtest
