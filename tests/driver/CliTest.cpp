// The command line's contract (LANGUAGE.md): exit statuses, help, version, check, summary, ir.
#include <gtest/gtest.h>

#include "RunNnc.h"

using nnc::test::runNnc;
using nnc::test::sourcePath;

namespace {

bool endsWithLine(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(Cli, VersionAndHelp) {
  auto v = runNnc({"--version"});
  EXPECT_EQ(v.status, 0);
  EXPECT_NE(v.out.find("nnc "), std::string::npos);
  auto h = runNnc({"--help"});
  EXPECT_EQ(h.status, 0);
  for (const char* cmd : {"check", "summary", "ir", "gradcheck"}) EXPECT_NE(h.out.find(cmd), std::string::npos) << cmd;
  auto sub = runNnc({sourcePath("examples/fashion_mlp.nn"), "ir", "--help"});
  EXPECT_EQ(sub.status, 0);
  EXPECT_NE(sub.out.find("--stage"), std::string::npos);
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(runNnc({}).status, 2);
  auto unknown = runNnc({sourcePath("examples/fashion_mlp.nn"), "chekc"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.err.find("did you mean 'check'?"), std::string::npos) << unknown.err;
  EXPECT_EQ(runNnc({sourcePath("examples/fashion_mlp.nn"), "ir", "--stage", "bogus"}).status, 2);
  EXPECT_EQ(runNnc({sourcePath("examples/fashion_mlp.nn"), "check", "--no-such-flag"}).status, 2);
}

TEST(Cli, MissingFileIsAnErrorNotACrash) {
  auto r = runNnc({"/nonexistent/model.nn", "check"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("/nonexistent/model.nn: error: cannot open the model file"), std::string::npos) << r.err;
  auto d = runNnc({"/tmp", "check"});
  EXPECT_EQ(d.status, 1);
}

TEST(Cli, CheckPrintsNothingOnSuccess) {
  for (const char* ex : {"examples/fashion_mlp.nn", "examples/fashion_cnn.nn", "examples/sequence_lstm.nn",
                         "examples/maxout_batchnorm.nn", "examples/explicit_params.nn"}) {
    auto r = runNnc({sourcePath(ex), "check"});
    EXPECT_EQ(r.status, 0) << ex << "\n" << r.err;
    EXPECT_EQ(r.out, "") << ex;
    EXPECT_EQ(r.err, "") << ex;
  }
}

TEST(Cli, CheckReportsLocatedErrorsWithCaret) {
  std::string dir = nnc::test::makeTempDir();
  std::string path = nnc::test::writeFile(dir, "bad.nn",
                                          "model bad\ninput x: f32[batch, 4]\ny = dense(x, 3, activation = rleu)\n");
  auto r = runNnc({path, "check"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(path + ":3:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("y = dense(x, 3, activation = rleu)\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("^"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("relu"), std::string::npos) << "suggests the activation: " << r.err;
}

TEST(Cli, SummaryTotals) {
  auto mlp = runNnc({sourcePath("examples/fashion_mlp.nn"), "summary"});
  ASSERT_EQ(mlp.status, 0) << mlp.err;
  EXPECT_TRUE(endsWithLine(mlp.out, "Total params: 235,146")) << mlp.out;
  EXPECT_TRUE(endsWithLine(mlp.out, "Trainable params: 235,146")) << mlp.out;
  EXPECT_TRUE(endsWithLine(mlp.out, "Non-trainable params: 0")) << mlp.out;
  EXPECT_NE(mlp.out.find("h1 (Dense)"), std::string::npos) << mlp.out;
  auto cnn = runNnc({sourcePath("examples/fashion_cnn.nn"), "summary"});
  ASSERT_EQ(cnn.status, 0) << cnn.err;
  EXPECT_TRUE(endsWithLine(cnn.out, "Total params: 3,274,634")) << cnn.out;
  auto bn = runNnc({sourcePath("examples/maxout_batchnorm.nn"), "summary"});
  ASSERT_EQ(bn.status, 0) << bn.err;
  EXPECT_EQ(bn.out.find("Non-trainable params: 0\n"), std::string::npos) << "running statistics are non-trainable";
}

TEST(Cli, IrStages) {
  auto parsed = runNnc({sourcePath("examples/fashion_mlp.nn"), "ir"});
  ASSERT_EQ(parsed.status, 0) << parsed.err;
  EXPECT_EQ(parsed.out.rfind("graph fashion_mlp {", 0), 0u) << parsed.out;
  EXPECT_NE(parsed.out.find("%h1.weight = param"), std::string::npos) << parsed.out;
  EXPECT_NE(parsed.out.find("output probs = %probs"), std::string::npos) << parsed.out;
  // The printer is stable: the same model prints the same text.
  EXPECT_EQ(runNnc({sourcePath("examples/fashion_mlp.nn"), "ir", "--stage", "parsed"}).out, parsed.out);

  auto train = runNnc({sourcePath("examples/fashion_mlp.nn"), "ir", "--stage", "train"});
  ASSERT_EQ(train.status, 0) << train.err;
  EXPECT_NE(train.out.find("h1.weight/adam.m"), std::string::npos);
  EXPECT_NE(train.out.find("update %h1.weight <-"), std::string::npos);

  auto opt = runNnc({sourcePath("examples/fashion_mlp.nn"), "ir", "--stage", "optimized"});
  ASSERT_EQ(opt.status, 0) << opt.err;
  EXPECT_LT(opt.out.size(), train.out.size() * 2) << "optimized prints the training and inference graphs";
}

TEST(Cli, IrTrainWithoutTrainBlock) {
  std::string dir = nnc::test::makeTempDir();
  std::string path = nnc::test::writeFile(dir, "m.nn", "model m\ninput x: f32[batch, 2]\noutput y = relu(x)\n");
  auto r = runNnc({path, "ir", "--stage", "train"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no train block"), std::string::npos) << r.err;
}

}  // namespace
