// Shape rules of issue 13's embedding ops: the types they give and the errors they report.
#include <gtest/gtest.h>

#include "compiler/ir/ShapeRules.h"

namespace nnc {
namespace {

const TensorType kTable{DType::F32, Shape{50, 8}};
const TensorType kIds{DType::I32, Shape{kBatch, 20}};
const TensorType kRows{DType::F32, Shape{kBatch, 20, 8}};
const TensorType kScalar{DType::F32, Shape{}};

std::string embeddingRuleError(OpKind op, const std::vector<TensorType>& in, const Attrs& a = {}) {
  Result<TensorType> t = inferType(op, in, a);
  return t ? std::string() : t.error().message;
}

TEST(EmbeddingShapeRules, TypesOfTheThreeOps) {
  Result<TensorType> y = inferType(OpKind::Embedding, {kTable, kIds}, {});
  ASSERT_TRUE(y.ok()) << y.error().message;
  EXPECT_EQ(*y, kRows);
  Result<TensorType> g = inferType(OpKind::EmbeddingGrad, {kRows, kIds}, Attrs{{"depth", int64_t(50)}});
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(*g, kTable);
  Result<TensorType> u = inferType(OpKind::EmbeddingSgdUpdate, {kTable, kRows, kIds, kScalar}, {});
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(*u, kTable);
  // Scalar ids give one row.
  Result<TensorType> one = inferType(OpKind::Embedding, {kTable, TensorType{DType::I32, Shape{}}}, {});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->shape, Shape{8});
}

TEST(EmbeddingShapeRules, Errors) {
  EXPECT_NE(embeddingRuleError(OpKind::Embedding, {kTable, TensorType{DType::F32, Shape{kBatch, 20}}}).find("expects i32 ids"),
            std::string::npos);
  EXPECT_NE(embeddingRuleError(OpKind::Embedding, {TensorType{DType::F32, Shape{50}}, kIds}).find("a table [vocab, dim]"),
            std::string::npos);
  EXPECT_NE(embeddingRuleError(OpKind::Embedding, {kTable}).find("expects 2 operands"), std::string::npos);
  EXPECT_NE(embeddingRuleError(OpKind::EmbeddingGrad, {kRows, kIds}).find("depth"), std::string::npos);
  EXPECT_NE(embeddingRuleError(OpKind::EmbeddingGrad, {TensorType{DType::F32, Shape{kBatch, 19, 8}}, kIds},
                               Attrs{{"depth", int64_t(50)}})
                .find("does not match ids"),
            std::string::npos);
  EXPECT_NE(embeddingRuleError(OpKind::EmbeddingSgdUpdate, {kTable, kRows, kIds, kTable}).find("learning rate"),
            std::string::npos);
}

}  // namespace
}  // namespace nnc
