// What a new user hit (issue 17, items 3, 4, 7 and 8): NaN in data, the sigmoid-into-loss
// idiom, prediction from features only, CSV output, options as the help describes them,
// commands typed first, capped errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "RunNnc.h"
#include "SyntheticData.h"
#include "TestFiles.h"

namespace nnc::test {
namespace {

// The Keras idiom of item 4: a sigmoid output given to binary_cross_entropy.
const char* kSigmoidModel =
    "model bce\n"
    "input x: f32[batch, 2]\n"
    "input y: f32[batch, 1]\n"
    "h = dense(x, 16, activation = relu)\n"
    "output p = dense(h, 1, activation = sigmoid)\n"
    "train {\n"
    "  loss = binary_cross_entropy(p, y)\n"
    "  optimizer = adam(lr = 1e-2)\n"
    "  epochs = 4\n"
    "  seed = 3\n"
    "}\n";

// 400 points, labelled by the side of a line: easy to learn well.
struct Points {
  std::vector<float> x, y;
};
Points linearlySeparable(int n) {
  SplitMix64 rng(7);
  Points p;
  for (int i = 0; i < n; ++i) {
    float a = float(rng.normal()), b = float(rng.normal());
    p.x.push_back(a);
    p.x.push_back(b);
    p.y.push_back(a + b > 0 ? 1.0f : 0.0f);
  }
  return p;
}

std::vector<std::vector<double>> readCsvRows(const std::string& path, std::string& header) {
  std::ifstream in(path);
  std::getline(in, header);
  std::vector<std::vector<double>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<double> row;
    std::stringstream ss(line);
    for (std::string field; std::getline(ss, field, ',');) row.push_back(std::stod(field));
    rows.push_back(row);
  }
  return rows;
}

TEST(NewUser, SigmoidIntoTheLossWarnsAndAccuracyIsTheModelsDecision) {
  ScratchDir dir;
  const std::string model = dir.write("bce.nn", kSigmoidModel);
  const Points pts = linearlySeparable(400);
  writeNpy(dir.file("x.npy"), {400, 2}, pts.x);
  writeNpy(dir.file("y.npy"), {400, 1}, pts.y);
  const std::string data = "npy:x=" + dir.file("x.npy") + ",y=" + dir.file("y.npy");

  RunResult check = runNnc({model, "check"});
  EXPECT_EQ(check.status, 0) << check.err;
  EXPECT_NE(check.err.find(model + ":7:31: warning: binary_cross_entropy applies sigmoid itself and expects logits"),
            std::string::npos)
      << check.err;
  const std::string weights = dir.file("w.safetensors");
  RunResult train = runNnc({model, "train", "--data", data, "--save", weights, "--threads", "2"});
  ASSERT_EQ(train.status, 0) << train.out << train.err;
  EXPECT_NE(train.err.find("warning: binary_cross_entropy applies sigmoid itself"), std::string::npos) << train.err;

  RunResult eval = runNnc({model, "eval", "--weights", weights, "--data", data, "--json", "--backend", "interpreter"});
  ASSERT_EQ(eval.status, 0) << eval.err;
  const double accuracy = nlohmann::json::parse(eval.out)["accuracy"].get<double>();

  // What the model decides: p > 0.5, from predict's own output.
  RunResult predict = runNnc({model, "predict", "--weights", weights, "--data", "npy:x=" + dir.file("x.npy"), "--out",
                              dir.file("p.csv"), "--backend", "interpreter"});
  ASSERT_EQ(predict.status, 0) << predict.err;
  std::string header;
  auto rows = readCsvRows(dir.file("p.csv"), header);
  ASSERT_EQ(rows.size(), 400u);
  int agree = 0;
  for (size_t i = 0; i < rows.size(); ++i) agree += (rows[i][0] > 0.5) == (pts.y[i] > 0.5);
  EXPECT_NEAR(accuracy, agree / 400.0, 1e-9);
  EXPECT_GT(accuracy, 0.8) << "before the fix, accuracy was the share of positive labels (p > 0 always)";
}

TEST(NewUser, NonFiniteDataIsRefusedByEveryCommand) {
  ScratchDir dir;
  const std::string model = dir.write("bce.nn", kSigmoidModel);
  Points pts = linearlySeparable(40);
  writeNpy(dir.file("x.npy"), {40, 2}, pts.x);
  writeNpy(dir.file("y.npy"), {40, 1}, pts.y);
  pts.x[2 * 17 + 1] = std::numeric_limits<float>::quiet_NaN();
  writeNpy(dir.file("bad.npy"), {40, 2}, pts.x);
  const std::string weights = dir.file("w.safetensors");
  ASSERT_EQ(runNnc({model, "train", "--data", "npy:x=" + dir.file("x.npy") + ",y=" + dir.file("y.npy"), "--save",
                    weights, "--epochs", "1", "--backend", "interpreter"})
                .status,
            0);
  const std::string bad = "npy:x=" + dir.file("bad.npy") + ",y=" + dir.file("y.npy");
  const std::string expected = dir.file("bad.npy") + ": sample 17, position [1] is NaN";
  for (std::vector<std::string> args :
       {std::vector<std::string>{model, "train", "--data", bad, "--backend", "interpreter"},
        std::vector<std::string>{model, "eval", "--weights", weights, "--data", bad, "--backend", "interpreter"},
        std::vector<std::string>{model, "predict", "--weights", weights, "--data", "npy:x=" + dir.file("bad.npy"),
                                 "--out", dir.file("p.npy"), "--backend", "interpreter"}}) {
    RunResult r = runNnc(args);
    EXPECT_EQ(r.status, 1) << args[1] << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << args[1] << "\n" << r.err;
    EXPECT_EQ(r.out.find("nan"), std::string::npos) << args[1] << "\n" << r.out;
  }
  EXPECT_FALSE(std::ifstream(dir.file("p.npy")).good()) << "predict wrote rows from NaN data";
}

TEST(NewUser, PredictFromFeaturesOnlyCsvAndWritesCsv) {
  ScratchDir dir;
  const std::string model = dir.write("bce.nn", kSigmoidModel);
  const Points pts = linearlySeparable(40);
  writeNpy(dir.file("x.npy"), {40, 2}, pts.x);
  writeNpy(dir.file("y.npy"), {40, 1}, pts.y);
  const std::string weights = dir.file("w.safetensors");
  ASSERT_EQ(runNnc({model, "train", "--data", "npy:x=" + dir.file("x.npy") + ",y=" + dir.file("y.npy"), "--save",
                    weights, "--epochs", "1", "--backend", "interpreter"})
                .status,
            0);
  std::string features = "x,x\n", labelled = "x,x,y\n";
  for (int i = 0; i < 5; ++i) {
    std::string row = std::to_string(pts.x[size_t(2 * i)]) + "," + std::to_string(pts.x[size_t(2 * i + 1)]);
    features += row + "\n";
    labelled += row + "," + std::to_string(pts.y[size_t(i)]) + "\n";
  }
  dir.write("features.csv", features);
  dir.write("labelled.csv", labelled);
  RunResult a = runNnc({model, "predict", "--weights", weights, "--data", "csv:" + dir.file("features.csv"), "--out",
                        dir.file("a.csv"), "--backend", "interpreter"});
  ASSERT_EQ(a.status, 0) << a.err;
  RunResult b = runNnc({model, "predict", "--weights", weights, "--data", "csv:" + dir.file("labelled.csv"), "--out",
                        dir.file("b.csv"), "--backend", "interpreter"});
  ASSERT_EQ(b.status, 0) << b.err;
  std::string headerA, headerB;
  auto rowsA = readCsvRows(dir.file("a.csv"), headerA), rowsB = readCsvRows(dir.file("b.csv"), headerB);
  EXPECT_EQ(headerA, "p");
  ASSERT_EQ(rowsA.size(), 5u);
  EXPECT_EQ(rowsA, rowsB);
  for (const auto& r : rowsA) EXPECT_TRUE(r.size() == 1 && r[0] > 0 && r[0] < 1);
  // The .npy form is still NumPy; any other name is refused before any work.
  RunResult npy = runNnc({model, "predict", "--weights", weights, "--data", "csv:" + dir.file("features.csv"), "--out",
                          dir.file("c.npy"), "--backend", "interpreter"});
  ASSERT_EQ(npy.status, 0) << npy.err;
  std::ifstream c(dir.file("c.npy"), std::ios::binary);
  std::string magic(6, '\0');
  c.read(magic.data(), 6);
  EXPECT_EQ(magic, "\x93NUMPY");
  RunResult txt = runNnc({model, "predict", "--weights", weights, "--data", "csv:" + dir.file("features.csv"), "--out",
                          dir.file("p.txt")});
  EXPECT_EQ(txt.status, 1);
  EXPECT_NE(txt.err.find("expected a file name ending in .npy (NumPy) or .csv"), std::string::npos) << txt.err;
  EXPECT_FALSE(std::ifstream(dir.file("p.txt")).good());
}

TEST(NewUser, OptionsAndCommandsAsUsersTypeThem) {
  ScratchDir dir;
  const std::string model = dir.write("bce.nn", kSigmoidModel);
  for (const char* cmd : {"train", "gradcheck"}) {
    RunResult r = runNnc({model, cmd, "--seed", "-1"});
    EXPECT_EQ(r.status, 2) << cmd;
    EXPECT_NE(r.err.find("'-1' is not an unsigned integer"), std::string::npos) << r.err;
  }
  // The command first, as git users type it.
  RunResult first = runNnc({"summary", model});
  EXPECT_EQ(first.status, 0) << first.err;
  EXPECT_NE(first.out.find("Total params: 65"), std::string::npos) << first.out;
  // One usage line, the contract's.
  RunResult help = runNnc({"--help"});
  EXPECT_EQ(help.status, 0);
  size_t usages = 0;
  for (size_t at = help.out.find("Usage:"); at != std::string::npos; at = help.out.find("Usage:", at + 1)) ++usages;
  EXPECT_EQ(usages, 1u) << help.out;
  EXPECT_NE(help.out.find("Usage: nnc FILE COMMAND [options]"), std::string::npos) << help.out;
  RunResult subHelp = runNnc({model, "predict", "--help"});
  EXPECT_NE(subHelp.out.find("Usage: nnc FILE predict [options]"), std::string::npos) << subHelp.out;
}

TEST(NewUser, AFailedRunSaysNothingWasSavedInItsOwnSentence) {
  ScratchDir dir;
  std::string text = kSigmoidModel;
  text.replace(text.find("  epochs = 4\n"), 13, "  epochs = 1\n  validation = 0.5\n");
  const std::string model = dir.write("v.nn", text);
  writeNpy(dir.file("x.npy"), {1, 2}, std::vector<float>{0.5f, -0.5f});
  writeNpy(dir.file("y.npy"), {1, 1}, std::vector<float>{1.0f});
  RunResult r = runNnc({model, "train", "--data", "npy:x=" + dir.file("x.npy") + ",y=" + dir.file("y.npy"), "--save",
                        dir.file("w.safetensors"), "--backend", "interpreter"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("leaves no training samples out of 1. Nothing was saved.\n"), std::string::npos) << r.err;
}

TEST(NewUser, RepeatedErrorsAreCapped) {
  ScratchDir dir;
  std::string text = "model many\ninput x: f32[batch, 4]\n";
  for (int i = 0; i < 99; ++i) text += "y" + std::to_string(i) + " = relu(nosuch)\n";
  const std::string model = dir.write("many.nn", text);
  RunResult r = runNnc({model, "check"});
  EXPECT_EQ(r.status, 1);
  size_t shown = 0;
  for (size_t at = r.err.find(": error: "); at != std::string::npos; at = r.err.find(": error: ", at + 1)) ++shown;
  EXPECT_EQ(shown, 20u) << r.err;
  EXPECT_NE(r.err.find(model + ": note: 79 more errors not shown"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nnc::test
