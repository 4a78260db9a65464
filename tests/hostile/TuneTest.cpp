// Hyperparameter tuning (issue 16): the tune block's distributions and fallbacks, sampling,
// Hyperband's bracket arithmetic against Li et al. 2018's Table 1, the dropout rate as a
// run-time input (compiled code equals the interpreter), and `nnc tune` end to end on a
// tiny problem: compiled models shared between trials, reproducibility with --seed, Ctrl-C,
// --set / --hparams, and the located errors of bad tune blocks.
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "NncProcess.h"
#include "TinyProblem.h"
#include "compiler/session/InterpreterExecutor.h"
#include "compiler/session/JitExecutor.h"
#include "compiler/session/tune/Search.h"
#include "dsl/Frontend.h"

namespace nnc::hostile {
namespace {

// The tiny problem's data (x: f32[N, 4], label: i32[N], three classes) with a tune block.
const char* kTuneModel = R"(model tiny_tune
tune {
  units = choice(4, 8)
  rate  = uniform(0.0, 0.4)
  lr    = log_uniform(1e-3, 1e-1)
  batch_size = choice(8, 16)
  objective = val_accuracy
  trials = 4
  max_epochs = 2
}
input x: f32[batch, 4]
input label: i32[batch]
h = dense(x, units, activation = relu)
d = dropout(h, rate)
logits = dense(d, 3)
output probs = softmax(logits)
train {
  loss = cross_entropy(logits, label)
  optimizer = adam(lr = lr)
  batch = batch_size
  epochs = 1
  validation = 0.25
}
)";

std::optional<Model> compile(const std::string& source, const HyperparameterValues& values = {},
                             std::string* diagnostics = nullptr) {
  DiagnosticEngine diags("m.nn", source);
  std::optional<Model> m = compileModel(source, diags, {}, values);
  if (diagnostics) {
    std::ostringstream s;
    diags.render(s);
    *diagnostics = s.str();
  }
  if (diags.hasErrors()) return std::nullopt;
  return m;
}

double valueOf(const Model& m, const std::string& name) {
  for (const auto& [n, v] : m.hyperparameters)
    if (n == name) return v;
  ADD_FAILURE() << "no hyperparameter " << name;
  return NAN;
}

TEST(TuneBlock, DistributionsAndTheirFallbacks) {
  auto m = compile(R"(model t
tune {
  a = choice(16, 32, 64)
  b = uniform(0.1, 0.5)
  c = log_uniform(1e-4, 1e-2)
  d = int_uniform(1, 4)
  e = uniform(0.0, 0.4, default = 0.3)
  f = choice(0.5, 0.25)
}
input x: f32[batch, 3]
input label: i32[batch]
y = dense(x, a)
z = dense(y, d)
train { loss = cross_entropy(z, label)  validation = 0.5 }
)");
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->tune);
  ASSERT_EQ(m->tune->params.size(), 6u);
  using Kind = Hyperparameter::Kind;
  EXPECT_EQ(m->tune->params[0].kind, Kind::Choice);
  EXPECT_TRUE(m->tune->params[0].integral);
  EXPECT_EQ(m->tune->params[2].kind, Kind::LogUniform);
  EXPECT_TRUE(m->tune->params[3].integral);
  EXPECT_FALSE(m->tune->params[5].integral);
  EXPECT_EQ(valueOf(*m, "a"), 16);                       // the first choice
  EXPECT_DOUBLE_EQ(valueOf(*m, "b"), 0.3);               // the middle
  EXPECT_NEAR(valueOf(*m, "c"), 1e-3, 1e-12);            // the geometric middle
  EXPECT_EQ(valueOf(*m, "d"), 2);                        // the middle, rounded down
  EXPECT_DOUBLE_EQ(valueOf(*m, "e"), 0.3);               // default =
  EXPECT_EQ(m->tune->objective, TuneObjective::ValLoss);  // the default objective
  // The values stand where the numbers go: y has 16 units, z 2.
  EXPECT_EQ(m->layers.back().outputShape.dims.back(), 2);
  // Values given from outside win.
  auto set = compile(R"(model t
tune { a = choice(16, 32) }
input x: f32[batch, 3]
input label: i32[batch]
y = dense(x, a)
train { loss = cross_entropy(y, label)  validation = 0.5 }
)", {{"a", 32}});
  ASSERT_TRUE(set);
  EXPECT_EQ(set->layers.back().outputShape.dims.back(), 32);
  EXPECT_EQ(valueOf(*set, "a"), 32);
}

TEST(TuneBlock, TrainKeysTakeTuneNames) {
  auto m = compile(kTuneModel, {{"lr", 0.02}, {"batch_size", 16}});
  ASSERT_TRUE(m);
  EXPECT_DOUBLE_EQ(m->train->optimizer.lr(), 0.02);
  EXPECT_EQ(m->train->batch, 16);
  EXPECT_EQ(m->tune->trials, 4);
  EXPECT_EQ(m->tune->maxEpochs, 2);
  EXPECT_EQ(m->tune->objective, TuneObjective::ValAccuracy);
}

TEST(TuneBlock, TuneIsANameOutsideABlock) {
  EXPECT_TRUE(compile("model t\ninput x: f32[batch, 3]\ntune = relu(x)\noutput y = tune\n"));
}

TEST(TuneSearch, SamplesStayInTheirDistributionsAndRepeatWithTheSeed) {
  auto m = compile(R"(model t
tune {
  a = choice(16, 32, 64)
  b = uniform(0.1, 0.5)
  c = log_uniform(1e-4, 1e-2)
  d = int_uniform(1, 4)
}
input x: f32[batch, 3]
input label: i32[batch]
y = dense(x, a)
train { loss = cross_entropy(y, label)  validation = 0.5 }
)");
  ASSERT_TRUE(m);
  tune::Random random(7), again(7);
  std::set<double> choices, ints;
  int belowGeometricMiddle = 0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    HyperparameterValues v = tune::sampleAll(*m->tune, random, {{"b", 0.2}});
    EXPECT_EQ(v, tune::sampleAll(*m->tune, again, {{"b", 0.2}}));
    choices.insert(v["a"]);
    EXPECT_EQ(v["b"], 0.2) << "a fixed name is not searched";
    EXPECT_GE(v["c"], 1e-4);
    EXPECT_LE(v["c"], 1e-2);
    belowGeometricMiddle += v["c"] < 1e-3;
    EXPECT_EQ(v["d"], std::floor(v["d"]));
    ints.insert(v["d"]);
  }
  EXPECT_EQ(choices, (std::set<double>{16, 32, 64}));
  EXPECT_EQ(ints, (std::set<double>{1, 2, 3, 4})) << "both ends of int_uniform";
  // log_uniform: half the draws below the geometric middle (a plain uniform would give 9%).
  EXPECT_NEAR(double(belowGeometricMiddle) / n, 0.5, 0.06);
  const Hyperparameter& b = m->tune->params[1];
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    double v = tune::sample(b, random);
    EXPECT_GE(v, 0.1);
    EXPECT_LE(v, 0.5);
    sum += v;
  }
  EXPECT_NEAR(sum / n, 0.3, 0.01);
}

// Li et al. 2018, Table 1: R = 81, eta = 3.
TEST(TuneSearch, HyperbandBracketsMatchTheTableOfLiEtAl) {
  std::vector<tune::Bracket> b = tune::hyperbandBrackets(81, 3);
  ASSERT_EQ(b.size(), 5u);
  const std::vector<std::vector<std::pair<int64_t, double>>> table = {
      {{81, 1}, {27, 3}, {9, 9}, {3, 27}, {1, 81}},
      {{34, 3}, {11, 9}, {3, 27}, {1, 81}},
      {{15, 9}, {5, 27}, {1, 81}},
      {{8, 27}, {2, 81}},
      {{5, 81}},
  };
  for (size_t s = 0; s < table.size(); ++s) {
    EXPECT_EQ(b[s].s, int64_t(4 - s));
    ASSERT_EQ(b[s].rounds.size(), table[s].size()) << "bracket s = " << b[s].s;
    for (size_t i = 0; i < table[s].size(); ++i) {
      EXPECT_EQ(b[s].rounds[i].configs, table[s][i].first) << "s = " << b[s].s << ", i = " << i;
      EXPECT_DOUBLE_EQ(b[s].rounds[i].resource, table[s][i].second) << "s = " << b[s].s << ", i = " << i;
    }
  }
  // max_epochs = 4: s_max = 1; 3 configurations at 2 epochs then the best at 4, and 2 at 4.
  std::vector<tune::Bracket> small = tune::hyperbandBrackets(4, 3);
  ASSERT_EQ(small.size(), 2u);
  EXPECT_EQ(small[0].rounds[0].configs, 3);
  EXPECT_EQ(tune::epochsFor(small[0].rounds[0].resource, 4), 2);
  EXPECT_EQ(small[0].rounds[1].configs, 1);
  EXPECT_EQ(tune::epochsFor(small[0].rounds[1].resource, 4), 4);
  EXPECT_EQ(small[1].rounds[0].configs, 2);
  EXPECT_EQ(tune::epochsFor(small[1].rounds[0].resource, 4), 4);
  EXPECT_EQ(tune::hyperbandBrackets(1, 3).size(), 1u);
}

// With runtimeDropoutRates, the rate is a run-time scalar of the step: the compiled mask
// equals the interpreter's, and one compiled step serves every rate.
TEST(TuneDropout, RunTimeRateMatchesTheInterpreterAndSharesTheCode) {
  auto build = [](double rate) {
    auto m = compile(kTuneModel, {{"rate", rate}, {"units", 8}});
    EXPECT_TRUE(m);
    m->runtimeDropoutRates = true;
    return *m;
  };
  std::vector<float> x(16 * 4);
  std::vector<int32_t> labels(16);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(std::sin(double(i)));
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = int32_t(i % 3);
  const void* inputs[] = {x.data(), labels.data()};
  std::vector<double> jitLosses;
  for (double rate : {0.0, 0.3}) {
    Model m = build(rate);
    auto jit = JitExecutor::create(m, ExecutorOptions{});
    ASSERT_TRUE(jit) << jit.error().message;
    auto interp = InterpreterExecutor::create(m, 0);
    ASSERT_TRUE(interp) << interp.error().message;
    auto a = (*jit)->trainStep(inputs, 16, 0.01f, 3.0f);
    auto b = (*interp)->trainStep(inputs, 16, 0.01f, 3.0f);
    ASSERT_TRUE(a && b);
    EXPECT_NEAR(a->loss, b->loss, 1e-5 * std::max(1.0, std::fabs(b->loss))) << "rate " << rate;
    jitLosses.push_back(a->loss);
    if (rate > 0) {
      EXPECT_TRUE((*jit)->compiled().times().cacheHit) << "rate 0.3 reuses rate 0's code";
    }
  }
  EXPECT_NE(jitLosses[0], jitLosses[1]) << "the rate reaches the mask";
}

// ---- nnc tune end to end (JIT, a tiny model, trials of 1-2 epochs).

struct TuneRun {
  TinyProblem p{TinyProblemOptions{128, 8, "sgd(lr = 0.1)"}};
  std::string model = p.dir().write("tune.nn", kTuneModel);
  std::vector<std::string> args(const std::string& out, const std::vector<std::string>& extra) const {
    std::vector<std::string> a = {model, "tune", "--data", p.data(), "--out", out, "--threads", "1"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

std::vector<nlohmann::json> readTrials(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(TuneCommand, TrialsShareCompiledModelsAndTheWinnerRetrains) {
  TuneRun t;
  std::string out = t.p.dir().file("out");
  RunResult r = runNnc(t.args(out, {"--strategy", "random", "--trials", "4", "--max-epochs", "1", "--seed", "3"}));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto trials = readTrials(out + "/trials.jsonl");
  ASSERT_EQ(trials.size(), 4u);
  std::set<int64_t> architectures;
  int compiled = 0;
  for (const auto& j : trials) {
    architectures.insert(j["values"]["units"].get<int64_t>());
    compiled += j["compiled"].get<bool>();
    EXPECT_EQ(j["metrics"].size(), 1u);
    EXPECT_TRUE(j["metrics"][0].contains("val_accuracy"));
  }
  EXPECT_EQ(compiled, int(architectures.size())) << "one compiled model per distinct units, whatever the other values";
  // trials.svg draws each trial's objective at each of its epochs (issue 17, item 10).
  ASSERT_TRUE(fileExists(out + "/trials.svg"));
  std::string svg = readFile(out + "/trials.svg");
  for (size_t i = 1; i <= trials.size(); ++i)
    EXPECT_TRUE(contains(svg, "data-series=\"trial " + std::to_string(i) + "\"")) << "trial " << i << " not drawn";
  EXPECT_TRUE(contains(svg, "best: trial " + std::to_string(nlohmann::json::parse(readFile(out + "/best.json"))["trial"].get<int64_t>())));
  EXPECT_TRUE(contains(r.out, "Compiled " + std::to_string(compiled) + " model")) << r.out;
  // best.json and best.safetensors: the winner trains on, evaluates, and summary shows it.
  ASSERT_TRUE(fileExists(out + "/best.json"));
  ASSERT_TRUE(fileExists(out + "/best.safetensors"));
  auto best = nlohmann::json::parse(readFile(out + "/best.json"));
  EXPECT_EQ(best["objective"], "val_accuracy");
  std::string units = std::to_string(best["values"]["units"].get<int64_t>());
  RunResult s = runNnc({t.model, "summary", "--hparams", out + "/best.json"});
  EXPECT_EQ(s.status, 0) << s.err;
  EXPECT_TRUE(contains(s.out, "Hyperparameters: units = " + units + ",")) << s.out;
  RunResult e = runNnc({t.model, "eval", "--hparams", out + "/best.json", "--weights", out + "/best.safetensors",
                        "--data", t.p.data()});
  EXPECT_EQ(e.status, 0) << e.err;
  RunResult tr = runNnc({t.model, "train", "--hparams", out + "/best.json", "--data", t.p.data(), "--epochs", "1",
                         "--init", out + "/best.safetensors", "--set", "rate=0.1"});
  EXPECT_EQ(tr.status, 0) << tr.err;
}

TEST(TuneCommand, HyperbandWithASeedRepeats) {
  TuneRun t;
  std::string a = t.p.dir().file("a"), b = t.p.dir().file("b");
  // max_epochs 3: brackets s = 1 (3 configurations for 1 epoch, the best on to 3) and s = 0
  // (2 for 3 epochs): 6 trials.
  RunResult ra = runNnc(t.args(a, {"--trials", "6", "--seed", "11", "--max-epochs", "3"}));
  RunResult rb = runNnc(t.args(b, {"--trials", "6", "--seed", "11", "--max-epochs", "3"}));
  ASSERT_EQ(ra.status, 0) << ra.out << ra.err;
  ASSERT_EQ(rb.status, 0) << rb.err;
  auto ta = readTrials(a + "/trials.jsonl"), tb = readTrials(b + "/trials.jsonl");
  ASSERT_EQ(ta.size(), 6u);
  ASSERT_EQ(tb.size(), 6u);
  for (size_t i = 0; i < ta.size(); ++i) {
    EXPECT_EQ(ta[i]["values"], tb[i]["values"]) << "trial " << i + 1;
    ASSERT_FALSE(ta[i]["score"].is_null());
    EXPECT_NEAR(ta[i]["score"].get<double>(), tb[i]["score"].get<double>(), 1e-6) << "trial " << i + 1;
  }
  EXPECT_EQ(readFile(a + "/best.json"), readFile(b + "/best.json"));
}

TEST(TuneCommand, HyperbandContinuesTheBestConfigurations) {
  TuneRun t;
  std::string out = t.p.dir().file("hb");
  // max_epochs 3: s_max = 1, bracket s = 1 runs 3 configurations for 1 epoch, then the best
  // one continues to 3 epochs: the fourth trial repeats the best values of the first three.
  RunResult r = runNnc(t.args(out, {"--trials", "4", "--max-epochs", "3", "--seed", "2"}));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto trials = readTrials(out + "/trials.jsonl");
  ASSERT_EQ(trials.size(), 4u);
  size_t best = 0;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(trials[i]["epochs"], 1);
    if (trials[i]["score"].get<double>() > trials[best]["score"].get<double>()) best = i;
  }
  EXPECT_EQ(trials[3]["values"], trials[best]["values"]);
  EXPECT_EQ(trials[3]["epochs"], 3);
  EXPECT_EQ(trials[3]["metrics"].size(), 3u) << "its history goes on from the first round";
  EXPECT_FALSE(trials[3]["compiled"].get<bool>());
}

TEST(TuneCommand, InterruptKeepsTheFinishedTrials) {
  TuneRun t;
  std::string out = t.p.dir().file("int");
  RunningNnc run(t.args(out, {"--strategy", "random", "--trials", "100000", "--max-epochs", "2"}));
  ASSERT_TRUE(run.waitForOutput("(trial 1)")) << run.out() << run.err();
  run.sendSignal(SIGINT);
  EXPECT_EQ(run.wait(), 1) << run.out() << run.err();
  EXPECT_TRUE(contains(run.out(), "Interrupted: the ")) << run.out();
  auto trials = readTrials(out + "/trials.jsonl");
  EXPECT_GE(trials.size(), 1u);
  EXPECT_LT(trials.size(), 100000u);
  auto best = nlohmann::json::parse(readFile(out + "/best.json"));
  EXPECT_TRUE(best["values"].contains("units"));
  EXPECT_TRUE(fileExists(out + "/best.safetensors"));
}

// ---- Bad input: located errors, exit status 1.

struct BadCase {
  std::string name, tuneBlock, use, trainExtra, expected;
};

TEST(TuneErrors, BadTuneBlocksAreLocated) {
  const std::vector<BadCase> cases = {
      {"not a distribution", "  units = 64\n", "units", "validation = 0.2", "tune.nn:3:11: error: tune name 'units' needs a distribution"},
      {"unknown distribution", "  units = normal(1, 2)\n", "units", "validation = 0.2", "tune.nn:3:11: error: tune name 'units' needs a distribution"},
      {"empty range", "  units = int_uniform(8, 4)\n", "units", "validation = 0.2", "tune.nn:3:26: error: int_uniform needs lo < hi"},
      {"log of zero", "  units = choice(4)\n  lr = log_uniform(0, 1)\n", "units", "validation = 0.2", "tune.nn:4:20: error: log_uniform needs lo > 0"},
      {"default outside", "  units = choice(4, 8, default = 5)\n", "units", "validation = 0.2", "tune.nn:3:34: error: default = 5 is not a value of choice(4, 8)"},
      {"fractional units", "  units = uniform(4, 8)\n", "units", "validation = 0.2", "tune.nn:7:14: error: argument 'units' of 'dense' must be an integer, got 'units' = 6 (from uniform(4, 8), which takes fractional values)"},
      {"no validation", "  units = choice(4, 8)\n", "units", "", "tune.nn:2:1: error: the tune block scores trials on the validation split"},
      {"bad objective", "  units = choice(4)\n  objective = accuracy\n", "units", "validation = 0.2", "tune.nn:4:15: error: objective must be val_loss or val_accuracy"},
  };
  TinyProblem p;
  for (const BadCase& c : cases) {
    std::string model = p.dir().write("tune.nn", "model bad\ntune {\n" + c.tuneBlock +
                                                    "}\ninput x: f32[batch, 4]\ninput label: i32[batch]\n"
                                                    "h = dense(x, " + c.use + ")\nlogits = dense(h, 3)\n"
                                                    "train {\n  loss = cross_entropy(logits, label)\n  " +
                                                    c.trainExtra + "\n}\n");
    RunResult r = runNnc({model, "check"});
    EXPECT_EQ(r.status, 1) << c.name;
    EXPECT_TRUE(contains(r.err, c.expected)) << c.name << ":\n" << r.err;
    EXPECT_EQ(r.err.find(": error: ", r.err.find(": error: ") + 1), std::string::npos) << "one error: " << r.err;
  }
}

TEST(TuneErrors, BadCommandLinesSayWhat) {
  TuneRun t;
  RunResult unknown = runNnc({t.model, "summary", "--set", "unit=4"});
  EXPECT_EQ(unknown.status, 1);
  EXPECT_TRUE(contains(unknown.err, "'unit' (--set or --hparams) is not a name of the tune block (did you mean 'units'?)"))
      << unknown.err;
  RunResult notNumber = runNnc({t.model, "summary", "--set", "units=many"});
  EXPECT_EQ(notNumber.status, 1);
  EXPECT_TRUE(contains(notNumber.err, "--set units: 'many' is not a number")) << notNumber.err;
  RunResult missing = runNnc({t.model, "summary", "--hparams", t.p.dir().file("none.json")});
  EXPECT_EQ(missing.status, 1);
  EXPECT_TRUE(contains(missing.err, "cannot open the hyperparameter file")) << missing.err;
  RunResult noBlock = runNnc({t.p.model(), "tune", "--data", t.p.data()});
  EXPECT_EQ(noBlock.status, 1);
  EXPECT_TRUE(contains(noBlock.err, "the model has no tune block")) << noBlock.err;
  // A sampled value the model cannot take stops the search with the model's error.
  std::string zero = t.p.dir().write("zero.nn", std::string(kTuneModel).replace(
                                                    std::string(kTuneModel).find("choice(4, 8)"), 12, "int_uniform(0, 4)"));
  RunResult bad = runNnc({zero, "tune", "--data", t.p.data(), "--out", t.p.dir().file("z"), "--strategy", "random",
                          "--trials", "20", "--max-epochs", "1"});
  EXPECT_EQ(bad.status, 1) << bad.out;
  EXPECT_TRUE(contains(bad.err, "does not make a valid model")) << bad.err;
}

}  // namespace
}  // namespace nnc::hostile
