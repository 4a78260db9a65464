// The importer's image ops (compiler/onnx/OnnxOpsImage.cpp and the dilated/grouped paths of
// OnnxOpsNeural.cpp): Resize onto nnc's upsample op where it is exact and onto interpolation
// matrices otherwise, grouped convolutions as one grouped Conv2D, ConvTranspose with groups,
// and located errors for what neither expresses.
#include <gtest/gtest.h>

#include <cmath>

#include "compiler/onnx/OnnxImport.h"
#include "compiler/session/ForwardRunner.h"
#include "tests/onnx/OnnxTestModels.h"

namespace nnc::onnxtest {
namespace {

using onnximport::importOnnxBytes;

void imageStringAttr(onnx::NodeProto* n, const std::string& name, const std::string& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

int imageCountOps(const Graph& g, OpKind k) {
  int count = 0;
  for (const Node& n : g.nodes()) count += n.op == k;
  return count;
}

std::vector<float> imageRun(const Model& m, std::vector<float> x, size_t outSize, int64_t batch = 1) {
  auto runner = ForwardRunner::create(m);
  EXPECT_TRUE(runner.ok()) << runner.error().message;
  std::vector<float> y(outSize);
  if (!runner.ok()) return y;
  const void* in[] = {x.data()};
  void* out[] = {y.data()};
  auto r = (*runner)->run(in, out, batch);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return y;
}

// Resize of a [batch, 1, 2, 2] image by `scales` with the given attributes.
onnx::ModelProto imageResizeModel(std::vector<double> scales, std::vector<int64_t> outDims,
                                  std::vector<std::pair<std::string, std::string>> attrs) {
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {-1, 1, 2, 2});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, outDims);
  addInitializer(m, "scales", 1, {4}, scales);
  auto* n = addNode(m, "Resize", {"x", "", "scales"}, {"y"}, "up");
  for (auto& [k, v] : attrs) imageStringAttr(n, k, v);
  return m;
}

TEST(OnnxImage, NearestResizeByTwoIsNncsUpsample) {
  // PyTorch's F.interpolate(scale_factor = 2, mode = "nearest").
  auto m = imageResizeModel({1, 1, 2, 2}, {-1, 1, 4, 4}, {{"mode", "nearest"}, {"coordinate_transformation_mode", "asymmetric"},
                                                          {"nearest_mode", "floor"}});
  auto r = importOnnxBytes(bytes(m), "m.onnx");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(imageCountOps(r->model.graph, OpKind::Upsample), 1);
  EXPECT_EQ(imageCountOps(r->model.graph, OpKind::MatMul), 0);
  // A float initializer that only holds scales is read at import, not made a parameter.
  EXPECT_EQ(imageCountOps(r->model.graph, OpKind::Param), 0);
  std::vector<float> y = imageRun(r->model, {1, 2, 3, 4}, 16);
  std::vector<float> want = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
  EXPECT_EQ(y, want);
}

TEST(OnnxImage, BilinearHalfPixelIsNncsUpsample) {
  auto m = imageResizeModel({1, 1, 2, 2}, {-1, 1, 4, 4}, {{"mode", "linear"}, {"coordinate_transformation_mode", "pytorch_half_pixel"}});
  auto r = importOnnxBytes(bytes(m), "m.onnx");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(imageCountOps(r->model.graph, OpKind::Upsample), 1);
  std::vector<float> y = imageRun(r->model, {0, 4, 8, 12}, 16);
  // Row 0 of PyTorch's interpolate(align_corners = False): 0, 1, 3, 4.
  EXPECT_FLOAT_EQ(y[0], 0);
  EXPECT_FLOAT_EQ(y[1], 1);
  EXPECT_FLOAT_EQ(y[2], 3);
  EXPECT_FLOAT_EQ(y[3], 4);
}

TEST(OnnxImage, AlignCornersBecomesAnInterpolationMatrix) {
  // Width 2 -> 4 with align_corners: source column o / 3 of [0, 3] is o.
  auto m = imageResizeModel({1, 1, 1, 2}, {-1, 1, 2, 4}, {{"mode", "linear"}, {"coordinate_transformation_mode", "align_corners"}});
  auto r = importOnnxBytes(bytes(m), "m.onnx");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(imageCountOps(r->model.graph, OpKind::Upsample), 0);
  EXPECT_EQ(imageCountOps(r->model.graph, OpKind::MatMul), 1);
  std::vector<float> y = imageRun(r->model, {0, 3, 6, 9}, 8);
  std::vector<float> want = {0, 1, 2, 3, 6, 7, 8, 9};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-5) << i;
}

TEST(OnnxImage, ResizeErrorsNameTheNode) {
  auto bad = imageResizeModel({1, 1, 2, 2}, {-1, 1, 4, 4}, {{"mode", "nearest"}, {"coordinate_transformation_mode", "sideways"}});
  auto r = importOnnxBytes(bytes(bad), "m.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("node 'up' (Resize): coordinate_transformation_mode 'sideways' is not supported"),
            std::string::npos)
      << r.error().message;
  // Scales computed at run time: the import says which input to bind.
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {1, 1, 2, 2});
  addValueInfo(m.mutable_graph()->add_input(), "s", 1, {4});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {1, 1, 4, 4});
  addNode(m, "Resize", {"x", "", "s"}, {"y"}, "up");
  r = importOnnxBytes(bytes(m), "m.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("node 'up' (Resize): its scales (input 2 's') must be known"), std::string::npos)
      << r.error().message;
}

TEST(OnnxImage, DepthwiseConvIsOneGroupedConv) {
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {-1, 2, 3, 3});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {-1, 2, 1, 1});
  std::vector<double> w(18, 1.0);
  for (size_t i = 9; i < 18; ++i) w[i] = -1.0;
  addInitializer(m, "w", 1, {2, 1, 3, 3}, w);
  auto* n = addNode(m, "Conv", {"x", "w"}, {"y"}, "dw");
  addIntAttr(n, "group", 2);
  addIntsAttr(n, "dilations", {1, 1});
  auto r = importOnnxBytes(bytes(m), "m.onnx");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(imageCountOps(r->model.graph, OpKind::Conv2D), 1);
  EXPECT_EQ(imageCountOps(r->model.graph, OpKind::Slice), 0);
  std::vector<float> x(18);
  for (size_t i = 0; i < 18; ++i) x[i] = static_cast<float>(i);
  std::vector<float> y = imageRun(r->model, x, 2);
  EXPECT_FLOAT_EQ(y[0], 36);            // 0 + 1 + ... + 8
  EXPECT_FLOAT_EQ(y[1], -(9 + 17) * 4.5f);  // -(9 + ... + 17)
}

TEST(OnnxImage, GroupedConvTransposeComputes) {
  // Two groups of one channel each, stride 2: each input cell spreads its own channel's 2x2
  // kernel.
  onnx::ModelProto m = newModel();
  addValueInfo(m.mutable_graph()->add_input(), "x", 1, {1, 2, 1, 1});
  addValueInfo(m.mutable_graph()->add_output(), "y", 1, {1, 2, 2, 2});
  addInitializer(m, "wt", 1, {2, 1, 2, 2}, {1, 2, 3, 4, 10, 20, 30, 40});
  auto* t = addNode(m, "ConvTranspose", {"x", "wt"}, {"y"}, "up");
  addIntAttr(t, "group", 2);
  addIntsAttr(t, "strides", {2, 2});
  auto r = importOnnxBytes(bytes(m), "m.onnx");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(imageCountOps(r->model.graph, OpKind::Conv2DGradInput), 1);
  std::vector<float> y = imageRun(r->model, {1, 2}, 8);
  std::vector<float> want = {1, 2, 3, 4, 20, 40, 60, 80};
  EXPECT_EQ(y, want);
}

TEST(OnnxImage, AbsurdGeometryIsALocatedError) {
  auto message = [](const onnx::ModelProto& m) {
    auto r = importOnnxBytes(bytes(m), "m.onnx");
    return r.ok() ? std::string("imported") : r.error().message;
  };
  auto nan = imageResizeModel({1, 1, std::nan(""), 2}, {-1, 1, -1, -1}, {});
  EXPECT_NE(message(nan).find("node 'up' (Resize): scale nan must be positive"), std::string::npos) << message(nan);
  onnx::ModelProto huge = newModel();  // width 5000 -> 20000000, cubic: a matrix of 10^11 entries
  addValueInfo(huge.mutable_graph()->add_input(), "x", 1, {1, 1, 2, 5000});
  addValueInfo(huge.mutable_graph()->add_output(), "y", 1, {1, 1, -1, -1});
  addInitializer(huge, "scales", 1, {4}, {1, 1, 1, 4000});
  imageStringAttr(addNode(huge, "Resize", {"x", "", "scales"}, {"y"}, "up"), "mode", "cubic");
  EXPECT_NE(message(huge).find("node 'up' (Resize): the axis 3 resize from 5000 to 20000000 is too large"), std::string::npos)
      << message(huge);
  onnx::ModelProto ct = newModel();
  addValueInfo(ct.mutable_graph()->add_input(), "x", 1, {1, 1, 3, 3});
  addValueInfo(ct.mutable_graph()->add_output(), "y", 1, {1, 1, -1, -1});
  addInitializer(ct, "w", 1, {1, 1, 2, 2}, {1, 1, 1, 1});
  addIntsAttr(addNode(ct, "ConvTranspose", {"x", "w"}, {"y"}, "up"), "output_shape", {int64_t(1) << 40, 3});
  EXPECT_NE(message(ct).find("node 'up' (ConvTranspose): output_shape 1099511627776 is out of range"), std::string::npos)
      << message(ct);
  onnx::ModelProto pool = newModel();
  addValueInfo(pool.mutable_graph()->add_input(), "x", 1, {1, 1, 8, 8});
  addValueInfo(pool.mutable_graph()->add_output(), "y", 1, {1, 1, -1, -1});
  auto* n = addNode(pool, "MaxPool", {"x"}, {"y"}, "pool");
  addIntsAttr(n, "kernel_shape", {int64_t(1) << 40, 2});
  addIntsAttr(n, "dilations", {3, 3});
  EXPECT_NE(message(pool).find("node 'pool' (MaxPool): kernel_shape must be between 1 and 2^20"), std::string::npos)
      << message(pool);
}

}  // namespace
}  // namespace nnc::onnxtest
