// Pooling over [batch, height, width, channels]: maxpool and avgpool (window `size`, `stride`
// defaulting to the window, `valid` or TensorFlow's `same` padding) and global_avgpool.
#include "compiler/ir/ShapeRules.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

const TensorReq kImage{DTypeReq::F32, 4, 4, "an input", "[batch, height, width, channels]"};

std::optional<NodeId> buildPool(Sema& s, const BoundCall& b) {
  NodeId x = b.tensor("x");
  const Shape shape = s.type(x).shape;
  auto [kh, kw] = b.pair("size");
  auto [sh, sw] = b.has("stride") ? b.pair("stride") : std::pair{kh, kw};
  std::vector<int64_t> pads = windowPads(b.word("padding") == "same", shape[1], shape[2], kh, kw, sh, sw);
  OpKind op = b.callee->name == "maxpool" ? OpKind::MaxPool : OpKind::AvgPool;
  return s.emit(op, {x},
                Attrs{{"window", std::vector<int64_t>{kh, kw}}, {"strides", std::vector<int64_t>{sh, sw}}, {"pads", pads}},
                b.loc);
}

std::optional<NodeId> buildGlobalAvgPool(Sema& s, const BoundCall& b) {
  return s.emit(OpKind::ReduceMean, {b.tensor("x")},
                Attrs{{"axes", std::vector<int64_t>{1, 2}}, {"keepdims", int64_t(0)}}, b.loc);
}

}  // namespace

std::vector<int64_t> windowPads(bool same, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t sh, int64_t sw) {
  if (!same) return {0, 0, 0, 0};
  auto [top, bottom] = samePadding(h, kh, sh);
  auto [left, right] = samePadding(w, kw, sw);
  return {top, left, bottom, right};
}

void addPoolingOps(Registry& r) {
  for (const char* name : {"maxpool", "avgpool"}) {
    Callable c;
    c.name = name;
    c.params = {spec::tensor("x", kImage), spec::intOrPair("size", spec::required(), spec::atLeast(1)),
                spec::intOrPair("stride", spec::unset(), spec::atLeast(1)),
                spec::word("padding", spec::word("valid"), {"same", "valid"}, "padding")};
    c.build = buildPool;
    c.summaryKind = std::string(name) == "maxpool" ? "MaxPooling2D" : "AveragePooling2D";
    r.add(std::move(c));
  }
  Callable g;
  g.name = "global_avgpool";
  g.params = {spec::tensor("x", kImage)};
  g.build = buildGlobalAvgPool;
  g.summaryKind = "GlobalAveragePooling2D";
  r.add(std::move(g));
}

}  // namespace nnc::sema
