// lowerModule on an AST built by hand: semantic analysis does not depend on the parser's
// details (e.g. a Number without its source text).
#include <gtest/gtest.h>

#include "dsl/Frontend.h"

namespace nnc::testing {
namespace {

ast::ExprPtr name(const std::string& n) {
  auto e = std::make_shared<ast::Expr>();
  e->kind = ast::ExprKind::Name;
  e->text = n;
  e->loc = {3, 5};
  return e;
}

ast::ExprPtr integer(int64_t v) {
  auto e = std::make_shared<ast::Expr>();
  e->kind = ast::ExprKind::Number;
  e->number = static_cast<double>(v);
  e->isInteger = true;
  e->loc = {3, 9};
  return e;
}

TEST(SemaAst, HandBuiltModule) {
  ast::Module m;
  m.name = "hand";
  ast::Decl in;
  in.kind = ast::DeclKind::Input;
  in.name = "x";
  in.nameLoc = {2, 7};
  in.type.dtype = "f32";
  in.type.dims = {ast::Dim{true, 0, "batch", "batch", {2, 14}}, ast::Dim{false, 6, "", "6", {2, 21}}};
  m.decls.push_back(in);
  ast::Decl h;
  h.kind = ast::DeclKind::Assign;
  h.name = "h";
  h.nameLoc = {3, 1};
  h.isOutput = true;
  auto call = std::make_shared<ast::Expr>();
  call->kind = ast::ExprKind::Call;
  call->text = "dense";
  call->loc = call->calleeLoc = {3, 5};
  call->args = {ast::Arg{"", {}, name("x")}, ast::Arg{"", {}, integer(3)}};
  h.value = call;
  m.decls.push_back(h);

  DiagnosticEngine diags("hand.nn", "");
  std::optional<Model> model = lowerModule(m, diags);
  ASSERT_TRUE(model) << diags.renderToString();
  EXPECT_EQ(model->name, "hand");
  ASSERT_EQ(model->graph.outputs.size(), 1u);
  EXPECT_EQ(model->graph.type(model->graph.outputs[0].node), (TensorType{DType::F32, Shape{kBatch, 3}}));
  EXPECT_EQ(model->layers.back().trainableParams, 6 * 3 + 3);
}

}  // namespace
}  // namespace nnc::testing
