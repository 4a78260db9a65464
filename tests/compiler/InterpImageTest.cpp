// The reference kernels of upsample and pad on hand-computed values (PyTorch's results), their
// gradients as the adjoints of the forward ops, and the shape rules' errors.
#include <gtest/gtest.h>

#include "compiler/interp/Kernels.h"
#include "compiler/ir/ShapeRules.h"

namespace nnc {
namespace {

using V = std::vector<int64_t>;

Tensor runKernel(OpKind op, const Tensor& x, const Attrs& a) {
  Result<TensorType> t = inferType(op, {TensorType{DType::F32, Shape(x.shape)}}, a);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  Node n;
  n.op = op;
  n.attrs = a;
  Tensor out(DType::F32, t->shape.dims);
  interp::kernelFor(op)(interp::KernelArgs{n, {&x}, out});
  return out;
}

// A row [1, w] image of one channel.
Tensor row(std::vector<double> v) { return Tensor(DType::F32, {1, 1, static_cast<int64_t>(v.size()), 1}, v); }

TEST(InterpImage, BilinearMatchesPyTorchAlignCornersFalse) {
  // torch.nn.functional.interpolate([[1, 2, 4]], scale_factor=2, mode='linear') (align_corners=False)
  Tensor y = runKernel(OpKind::Upsample, row({1, 2, 4}), Attrs{{"scale", V{1, 2}}, {"mode", std::string("bilinear")}});
  EXPECT_EQ(y.data, (std::vector<double>{1, 1.25, 1.75, 2.5, 3.5, 4}));
  Tensor n = runKernel(OpKind::Upsample, row({1, 2}), Attrs{{"scale", V{1, 3}}, {"mode", std::string("nearest")}});
  EXPECT_EQ(n.data, (std::vector<double>{1, 1, 1, 2, 2, 2}));
}

TEST(InterpImage, PadReflectAndConstant) {
  Tensor r = runKernel(OpKind::Pad, row({1, 2, 3}), Attrs{{"pads", V{0, 2, 0, 2}}, {"mode", std::string("reflect")}});
  EXPECT_EQ(r.data, (std::vector<double>{3, 2, 1, 2, 3, 2, 1}));
  Tensor c = runKernel(OpKind::Pad, row({1, 2}),
                       Attrs{{"pads", V{1, 1, 0, 0}}, {"mode", std::string("constant")}, {"value", 0.5}});
  EXPECT_EQ(c.shape, (V{1, 2, 3, 1}));
  EXPECT_EQ(c.data, (std::vector<double>{0.5, 0.5, 0.5, 0.5, 1, 2}));
}

TEST(InterpImage, ReflectGradientFoldsTheMirroredCellsBack) {
  Tensor dy = row({1, 10, 100, 1000, 10000, 100000, 1000000});
  Attrs a{{"pads", V{0, 2, 0, 2}}, {"mode", std::string("reflect")}, {"input_hw", V{1, 3}}};
  Result<TensorType> t = inferType(OpKind::PadGrad, {TensorType{DType::F32, Shape(dy.shape)}}, a);
  ASSERT_TRUE(t.ok());
  Node n;
  n.op = OpKind::PadGrad;
  n.attrs = a;
  Tensor dx(DType::F32, t->shape.dims);
  interp::kernelFor(OpKind::PadGrad)(interp::KernelArgs{n, {&dy}, dx});
  // y = [x2, x1, x0, x1, x2, x1, x0]: x0 <- y2, y6; x1 <- y1, y3, y5; x2 <- y0, y4
  EXPECT_EQ(dx.data, (std::vector<double>{100 + 1000000, 10 + 1000 + 100000, 1 + 10000}));
}

TEST(InterpImage, ShapeRulesRefuseBadGeometry) {
  TensorType x{DType::F32, Shape{kBatch, 3, 4, 2}};
  auto message = [&](OpKind op, const Attrs& a) {
    Result<TensorType> t = inferType(op, {x}, a);
    return t.ok() ? std::string("accepted: ") + t->str() : t.error().message;
  };
  EXPECT_EQ(message(OpKind::Pad, Attrs{{"pads", V{3, 0, 0, 0}}, {"mode", std::string("reflect")}}),
            "pad: reflect padding top = 3 must be smaller than the image's height 3");
  EXPECT_EQ(message(OpKind::Pad, Attrs{{"pads", V{0, 0, 0, 4}}, {"mode", std::string("reflect")}}),
            "pad: reflect padding right = 4 must be smaller than the image's width 4");
  EXPECT_EQ(message(OpKind::Pad, Attrs{{"pads", V{0, 0, -1, 0}}, {"mode", std::string("constant")}}),
            "pad: attribute 'pads' must be non-negative, got [0, 0, -1, 0]");
  EXPECT_EQ(message(OpKind::Pad, Attrs{{"pads", V{3, 0, 0, 0}}, {"mode", std::string("constant")}}),
            "accepted: f32[batch, 6, 4, 2]");
  EXPECT_EQ(message(OpKind::Upsample, Attrs{{"scale", V{2, 0}}, {"mode", std::string("nearest")}}),
            "upsample: attribute 'scale' must be positive, got [2, 0]");
  EXPECT_EQ(message(OpKind::Upsample, Attrs{{"scale", V{2, 3}}, {"mode", std::string("cubic")}}),
            "upsample: attribute 'mode' must be nearest or bilinear, got 'cubic'");
  EXPECT_EQ(message(OpKind::Upsample, Attrs{{"scale", V{2, 3}}, {"mode", std::string("bilinear")}}),
            "accepted: f32[batch, 6, 12, 2]");
}

}  // namespace
}  // namespace nnc
