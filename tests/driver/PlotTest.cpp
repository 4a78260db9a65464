// Learning curves as a picture: `train --plot FILE.svg` and `nnc plot LOG.jsonl ... -o FILE.svg`.
// The drawn points are read back through the axes' tick marks (SvgReading.h) and compared with
// the values of the log `train --log` wrote; errors are located and leave no file behind.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "RunNnc.h"
#include "SvgReading.h"
#include "SyntheticData.h"
#include "TestFiles.h"

namespace nnc::test {
namespace {

std::vector<nlohmann::json> readJsonLines(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

const DrawnPanel* panelNamed(const std::vector<DrawnPanel>& panels, const std::string& title) {
  for (const DrawnPanel& p : panels)
    if (p.title == title) return &p;
  return nullptr;
}

// The series `name` of `panel` holds exactly (epoch, log[key]) for every epoch of the log.
void expectCurveMatchesLog(const DrawnPanel& panel, const std::string& name, const std::vector<nlohmann::json>& log,
                           const std::string& key, double epochOffset = 0) {
  SCOPED_TRACE(panel.title + " / " + name);
  ASSERT_TRUE(panel.series.count(name)) << "no series '" << name << "'";
  const auto& points = panel.series.at(name);
  ASSERT_EQ(points.size(), log.size());
  // Pixels are written to 0.01: a value is within a few hundred-thousandths of the axis span.
  const double tolX = 1e-3 * std::fabs(panel.x.span()), tolY = 1e-3 * std::fabs(panel.y.span());
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_NEAR(points[i].first, log[i]["epoch"].get<double>() + epochOffset, tolX) << "point " << i;
    EXPECT_NEAR(points[i].second, log[i][key].get<double>(), tolY) << "point " << i;
  }
}

// 3 classes from 6 features; a validation split and early stopping, so every curve and the
// best-epoch marker are drawn.
struct SmallRun {
  ScratchDir dir;
  std::string model, data;
  SmallRun() {
    SplitMix64 rng(7);
    std::vector<float> x;
    std::vector<int32_t> label;
    for (int i = 0; i < 90; ++i) {
      float f[6];
      for (float& v : f) v = float(rng.normal());
      x.insert(x.end(), f, f + 6);
      label.push_back(f[0] + f[1] + 0.7f * float(rng.normal()) > 0 ? (f[2] > 0.8f ? 2 : 1) : 0);
    }
    writeNpy(dir.file("x.npy"), {90, 6}, x);
    writeNpy(dir.file("label.npy"), {90}, label);
    data = "npy:x=" + dir.file("x.npy") + ",label=" + dir.file("label.npy");
    model = dir.write("curves.nn",
                      "model curves_model\n"
                      "input x: f32[batch, 6]\n"
                      "input label: i32[batch]\n"
                      "h = dense(x, 32, activation = relu)\n"
                      "logits = dense(h, 3)\n"
                      "train {\n"
                      "  loss = cross_entropy(logits, label)\n"
                      "  optimizer = adam(lr = 0.03)\n"
                      "  batch = 8\n"
                      "  epochs = 8\n"
                      "  validation = 0.3\n"
                      "  early_stop = 3\n"
                      "}\n");
  }
};

TEST(Plot, TrainPlotDrawsTheLoggedValues) {
  SmallRun run;
  const std::string svgPath = run.dir.file("curves.svg"), logPath = run.dir.file("log.jsonl");
  RunResult r = runNnc({run.model, "train", "--data", run.data, "--threads", "1", "--log", logPath, "--plot", svgPath});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Learning curves written to " + svgPath), std::string::npos) << r.out;
  const std::vector<nlohmann::json> log = readJsonLines(logPath);
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log[0]["model"], "curves_model") << "the log names its model for nnc plot";

  const std::string svg = readFileBytes(svgPath);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<title>curves_model</title>"), std::string::npos) << "the model's name titles the picture";
  const std::vector<DrawnPanel> panels = readPanels(svg);
  ASSERT_EQ(panels.size(), 2u);
  const DrawnPanel* loss = panelNamed(panels, "loss");
  const DrawnPanel* accuracy = panelNamed(panels, "accuracy");
  ASSERT_TRUE(loss && accuracy);
  for (const DrawnPanel* p : {loss, accuracy}) {
    EXPECT_GE(p->xTicks, 2) << p->title;
    EXPECT_GE(p->yTicks, 3) << p->title;
  }
  expectCurveMatchesLog(*loss, "training", log, "loss");
  expectCurveMatchesLog(*loss, "validation", log, "val_loss");
  expectCurveMatchesLog(*accuracy, "training", log, "accuracy");
  expectCurveMatchesLog(*accuracy, "validation", log, "val_accuracy");

  // Early stopping keeps the epoch of the lowest val_loss (the first, on a tie): marked in both.
  size_t best = 0;
  for (size_t i = 1; i < log.size(); ++i)
    if (log[i]["val_loss"].get<double>() < log[best]["val_loss"].get<double>()) best = i;
  const double bestEpoch = log[best]["epoch"].get<double>();
  for (const DrawnPanel* p : {loss, accuracy}) {
    ASSERT_EQ(p->markers.size(), 1u) << p->title;
    EXPECT_NEAR(p->markers[0], bestEpoch, 1e-3 * p->x.span()) << p->title;
  }
  EXPECT_NE(svg.find("best epoch " + std::to_string(int(bestEpoch)) + " (weights kept)"), std::string::npos);

  // The same log through `nnc plot` draws the same points.
  const std::string again = run.dir.file("again.svg");
  RunResult p = runNnc({"plot", logPath, "-o", again});
  ASSERT_EQ(p.status, 0) << p.err;
  const std::vector<DrawnPanel> replot = readPanels(readFileBytes(again));
  ASSERT_EQ(replot.size(), 2u);
  expectCurveMatchesLog(replot[0], "training", log, "loss");
  expectCurveMatchesLog(replot[1], "validation", log, "val_accuracy");
  EXPECT_NE(readFileBytes(again).find("<title>curves_model</title>"), std::string::npos);
}

std::string jsonLogLine(int epoch, double loss, double accuracy, double valLoss) {
  nlohmann::json j = {{"epoch", epoch}, {"loss", loss}, {"accuracy", accuracy}, {"val_loss", valLoss},
                      {"seconds", 0.5}, {"model", "m"}};
  return j.dump() + "\n";
}

TEST(Plot, SeveralRunsShareTheAxes) {
  ScratchDir dir;
  std::string a, b;
  for (int e = 1; e <= 3; ++e) a += jsonLogLine(e, 2.0 / e, 0.5 + 0.1 * e, 2.5 / e);
  for (int e = 1; e <= 12; ++e) b += jsonLogLine(e, 40.0 / (e + 10), 0.3 + 0.05 * e, 50.0 / (e + 10));
  const std::string logA = dir.write("adam.jsonl", a), logB = dir.write("sgd.jsonl", b);
  const std::string out = dir.file("both.svg");
  RunResult r = runNnc({"plot", logA, logB, "-o", out});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string svg = readFileBytes(out);
  const std::vector<DrawnPanel> panels = readPanels(svg);
  ASSERT_EQ(panels.size(), 2u);
  std::vector<nlohmann::json> la = readJsonLines(logA), lb = readJsonLines(logB);
  // Runs are named by their files; the x axis spans the longer run.
  expectCurveMatchesLog(panels[0], "adam training", la, "loss");
  expectCurveMatchesLog(panels[0], "adam validation", la, "val_loss");
  expectCurveMatchesLog(panels[0], "sgd training", lb, "loss");
  expectCurveMatchesLog(panels[1], "sgd training", lb, "accuracy");
  EXPECT_FALSE(panels[1].series.count("adam validation")) << "no val_accuracy in the log: no curve";
  EXPECT_TRUE(panels[0].markers.empty()) << "a log does not say which epoch was kept";
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos) << "validation is dashed when runs share a colour";
}

TEST(Plot, ALossWithoutAccuracyDrawsOnePanel) {
  ScratchDir dir;
  const std::string log = dir.write("mse.jsonl", "{\"epoch\": 1, \"loss\": 3.5}\n{\"epoch\": 2, \"loss\": 1.25}\n");
  RunResult r = runNnc({"plot", log, "-o", dir.file("mse.svg")});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<DrawnPanel> panels = readPanels(readFileBytes(dir.file("mse.svg")));
  ASSERT_EQ(panels.size(), 1u);
  expectCurveMatchesLog(panels[0], "training", readJsonLines(log), "loss");
}

TEST(Plot, ErrorsNameTheFileAndLineAndWriteNothing) {
  ScratchDir dir;
  const std::string out = dir.write("keep.svg", "old picture");
  std::filesystem::create_directory(dir.file("sub"));
  struct Case {
    std::string name, log, message;
  };
  const std::string good = jsonLogLine(1, 1.0, 0.5, 1.1);
  const std::vector<Case> cases = {
      {"missing log", dir.file("nope.jsonl"), dir.file("nope.jsonl") + ": cannot open the log: No such file or directory"},
      {"not JSON lines", dir.write("text.jsonl", good + "Epoch 2/3 - loss: 0.4\n"),
       dir.file("text.jsonl") + ":2: not a JSON object; a log written by 'train --log' has one object per line"},
      {"no epochs", dir.write("empty.jsonl", "\n"), dir.file("empty.jsonl") + ": the log holds no epochs (it is empty)"},
      {"no loss", dir.write("noloss.jsonl", "{\"epoch\": 1}\n"),
       dir.file("noloss.jsonl") + ":1: 'loss' is missing or not a number"},
      {"bad epoch", dir.write("epoch.jsonl", "{\"epoch\": 0, \"loss\": 1}\n"),
       dir.file("epoch.jsonl") + ":1: 'epoch' is missing or not a positive integer"},
      {"epochs out of order", dir.write("order.jsonl", jsonLogLine(2, 1, 0.5, 1) + jsonLogLine(2, 1, 0.5, 1)),
       dir.file("order.jsonl") + ":2: epoch 2 comes after epoch 2; the epochs of a log increase"},
      {"bad accuracy", dir.write("acc.jsonl", "{\"epoch\": 1, \"loss\": 1, \"accuracy\": \"high\"}\n"),
       dir.file("acc.jsonl") + ":1: 'accuracy' is not a number"},
      {"a directory", dir.file("sub"), dir.file("sub") + ": cannot open the log: it is a directory"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RunResult r = runNnc({"plot", dir.write("fine.jsonl", good), c.log, "-o", out});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("nnc: error: " + c.message), std::string::npos) << r.err;
    EXPECT_EQ(readFileBytes(out), "old picture") << "the picture is untouched";
  }
  EXPECT_EQ(runNnc({"plot", dir.file("fine.jsonl"), "-o", dir.file("no/such/dir.svg")}).status, 1);
}

TEST(Plot, UsageErrorsExitTwo) {
  ScratchDir dir;
  const std::string log = dir.write("l.jsonl", jsonLogLine(1, 1.0, 0.5, 1.1));
  EXPECT_EQ(runNnc({"plot"}).status, 2);
  EXPECT_EQ(runNnc({"plot", log}).status, 2) << "-o is required";
  RunResult png = runNnc({"plot", log, "-o", dir.file("x.png")});
  EXPECT_EQ(png.status, 2);
  EXPECT_NE(png.err.find("the picture is SVG; name the file FILE.svg"), std::string::npos) << png.err;
  RunResult help = runNnc({"plot", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("Usage: nnc plot [OPTIONS] LOG..."), std::string::npos) << help.out;
  EXPECT_NE(runNnc({"--help"}).out.find("nnc plot"), std::string::npos) << "the main help mentions plot";
}

TEST(Plot, TrainRefusesABadPlotPathBeforeTraining) {
  SmallRun run;
  RunResult ext = runNnc({run.model, "train", "--data", run.data, "--plot", run.dir.file("c.png")});
  EXPECT_EQ(ext.status, 2);
  RunResult dir = runNnc({run.model, "train", "--data", run.data, "--plot", run.dir.file("missing/c.svg")});
  EXPECT_EQ(dir.status, 1);
  EXPECT_EQ(dir.out.find("Epoch 1/"), std::string::npos) << "fails before the first epoch: " << dir.out;
  EXPECT_NE(dir.err.find("missing' does not exist"), std::string::npos) << dir.err;
}

TEST(Plot, AModelFileNamedPlotIsReachedByAPath) {
  // `nnc plot ...` is always the plot command; a model file called `plot` is written ./plot,
  // and a plot command that looks like it meant that file says so.
  ScratchDir dir;
  dir.write("plot", "model p\ninput x: f32[batch, 2]\noutput y = dense(x, 1)\n");
  const std::filesystem::path before = std::filesystem::current_path();
  std::filesystem::current_path(dir.file(""));
  RunResult byPath = runNnc({"./plot", "check"});
  RunResult asCommand = runNnc({"plot", "check", "-o", "x.svg"});
  RunResult noOut = runNnc({"plot", "check"});
  std::filesystem::current_path(before);
  EXPECT_EQ(byPath.status, 0) << byPath.err;
  EXPECT_EQ(asCommand.status, 1);
  EXPECT_NE(asCommand.err.find("write: nnc ./plot check"), std::string::npos) << asCommand.err;
  EXPECT_EQ(noOut.status, 2);
  EXPECT_NE(noOut.err.find("write: nnc ./plot check"), std::string::npos) << noOut.err;
}

}  // namespace
}  // namespace nnc::test
