#include "compiler/codegen/kernels/conv/ConvTaps.h"

#include "compiler/ir/OpAttrs.h"

namespace nnc::codegen {

using llvm::Value;

GroupedConvDims groupedConvDims(const Node& n, const Shape& x, const Shape& w, const Shape& y) {
  GroupedConvDims g;
  g.G = convGroupsAttr(n.attrs);
  g.d = ConvDims{x[1], x[2], x[3], w[0], w[1], w[3], y[1], y[2], Window::from(n.attrs, w[0], w[1])};
  g.Cg = x[3] / g.G;
  g.Fg = w[3] / g.G;
  return g;
}

bool needsGroupedConv(const Node& n) {
  return convGroupsAttr(n.attrs) != 1 || Window::from(n.attrs, 1, 1).dilated();
}

TapColumn tapColumn(TaskBuilder& tb, const Window& geo, int64_t width, Value* ow, Value* kx) {
  auto& b = tb.b();
  Value* col = sAdd(b, sAdd(b, sMul(b, ow, geo.sw), sMul(b, kx, geo.dw)), -geo.pl);
  Value* inside = b.CreateAnd(b.CreateICmpSGE(col, tb.i64(0)), b.CreateICmpSLT(col, tb.i64(width)));
  Value* clamped = tb.smin(tb.smax(col, tb.i64(0)), tb.i64(width - 1));
  return {col, inside, clamped};
}

Value* blockInterior(TaskBuilder& tb, const Window& geo, int64_t width, Value* ow0, int64_t np) {
  auto& b = tb.b();
  Value* first = sAdd(b, sMul(b, ow0, geo.sw), -geo.pl);
  Value* last = sAdd(b, first, (np - 1) * geo.sw + (geo.kw - 1) * geo.dw);
  return b.CreateAnd(b.CreateICmpSGE(first, tb.i64(0)), b.CreateICmpSLT(last, tb.i64(width)));
}

void splitInterior(TaskBuilder& tb, Value* interior, const std::function<void(bool)>& body) {
  tb.ifThen(interior, [&] { body(true); });
  tb.ifThen(tb.b().CreateNot(interior), [&] { body(false); });
}

Value* keepInside(TaskBuilder& tb, Value* value, Value* inside) {
  return tb.b().CreateSelect(inside, value, llvm::Constant::getNullValue(value->getType()));
}

}  // namespace nnc::codegen
