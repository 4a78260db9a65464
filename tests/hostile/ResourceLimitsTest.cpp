// Resource limits (issue 6): a model asking for more than the machine can hold, absurd
// dimensions, literals and nesting, and data files whose headers claim more than the file
// holds are refused with a message (sizes in GiB and the limit), exit 1, before anything is
// allocated; every limit can be raised by an option or environment variable.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "NncProcess.h"
#include "TinyProblem.h"
#include "compiler/session/MemoryEstimate.h"
#include "dsl/Frontend.h"

namespace nnc::hostile {
namespace {


const char* kHugeParam =
    "model huge\n"
    "input x: f32[batch, 1000000]\n"
    "input label: i32[batch]\n"
    "param w: f32[1000000, 1000000] = zeros\n"
    "logits = x @ w\n"
    "train {\n"
    "  loss = cross_entropy(logits, label)\n"
    "}\n";

// The example: a 10^12-element parameter is refused with its size and the limit.
TEST(ResourceLimits, TeraElementParameterIsRefusedWithItsSize) {
  TempDir dir;
  std::string model = dir.write("huge.nn", kHugeParam);
  for (const char* command : {"check", "summary", "train"}) {
    RunResult r = runNnc({model, command});
    EXPECT_EQ(r.status, 1) << command << ": " << r.err;
    EXPECT_TRUE(contains(r.err, model + ":4:7: error: parameter 'w' has 1000000000000 elements (3725.3 GiB as f32), "
                                        "more than the limit of 16.0 GiB per tensor"))
        << r.err;
  }
}

// Raising the tensor limit lets the model check, but running it is refused by the memory
// limit before the parameter is allocated (the test would otherwise die allocating 3.7 TB).
TEST(ResourceLimits, ModelBeyondTheMachinesMemoryIsRefusedBeforeAllocating) {
  TempDir dir;
  std::string model = dir.write("huge.nn", kHugeParam);
  RunResult check = runNnc({model, "check", "--max-tensor-gib", "4096"});
  EXPECT_EQ(check.status, 0) << check.err;
  RunResult before = runNnc({"--max-tensor-gib", "4096", model, "check"});
  EXPECT_EQ(before.status, 0) << "global options go before the file too: " << before.err;

  RunResult train = runNnc({model, "train", "--max-tensor-gib", "4096", "--backend", "interpreter",
                            "--data", "npy:x=/nonexistent.npy,label=/nonexistent.npy"});
  EXPECT_EQ(train.status, 1) << train.err;
  EXPECT_TRUE(contains(train.err, "nnc: error: the model needs about ")) << train.err;
  EXPECT_TRUE(contains(train.err, "parameters and state 3725.3 GiB")) << train.err;
  EXPECT_TRUE(contains(train.err, "this machine's memory")) << train.err;
  EXPECT_TRUE(contains(train.err, "--max-memory-gib")) << "says how to raise it: " << train.err;
}

TEST(ResourceLimits, MemoryLimitOptionAndEnvironmentVariable) {
  TinyProblem p;
  std::string ckpt = p.dir().file("w.safetensors");
  RunResult ok = runNnc(p.trainArgs({"--save", ckpt, "--max-memory-gib", "1"}));
  ASSERT_EQ(ok.status, 0) << ok.err;

  RunResult low = runNnc(p.trainArgs({"--max-memory-gib", "0.000001"}));  // about 1 KB
  EXPECT_EQ(low.status, 1) << low.err;
  EXPECT_TRUE(contains(low.err, "more than the limit of 1e-06 GiB (set by --max-memory-gib or NNC_MAX_MEMORY_GIB)"))
      << low.err;

  RunResult env = runNnc(p.trainArgs({}), withEnv("NNC_MAX_MEMORY_GIB", "0.000001"));
  EXPECT_EQ(env.status, 1) << env.err;
  EXPECT_TRUE(contains(env.err, "the model needs about")) << env.err;
  // The intermediate values grow with the batch: a limit between what batch 1 and batch 64
  // need lets eval start (the check before loading the weights passes) and then refuses
  // its batch of 64 once the data is known.
  std::string text = readFile(p.model());
  DiagnosticEngine diags(p.model(), text);
  std::optional<Model> model = compileModel(text, diags);
  ASSERT_TRUE(model);
  Result<MemoryEstimate> e = MemoryEstimate::of(*model);
  ASSERT_TRUE(e.ok());
  long double between = (e->totalBytes(1) + e->totalBytes(64)) / 2 / (1024.0L * 1024 * 1024);
  char limit[64];
  std::snprintf(limit, sizeof limit, "%.12Lf", between);
  RunResult evalLow = runNnc(p.evalArgs(ckpt, {"--max-memory-gib", limit}));
  EXPECT_EQ(evalLow.status, 1) << evalLow.err;
  EXPECT_TRUE(contains(evalLow.err, "intermediate values at batch 64 ")) << evalLow.err;
  EXPECT_EQ(runNnc(p.evalArgs(ckpt, {"--max-memory-gib", limit, "--batch", "1"})).status, 0);

  EXPECT_EQ(runNnc(p.trainArgs({"--max-memory-gib", "0"})).status, 2) << "out of range is a usage error";
  EXPECT_EQ(runNnc(p.trainArgs({"--max-memory-gib", "lots"})).status, 2);
}

TEST(ResourceLimits, AbsurdDimensionsAndLiteralsAreRefused) {
  TempDir dir;
  struct Case {
    const char* body;
    const char* message;
  } cases[] = {
      {"input x: f32[batch, 99999999999999999999999]\n", "out of range"},
      {"input x: f32[batch, 1000000, 1000000, 1000000]\n", "elements"},
      {"input x: f32[batch, 4]\nparam w: f32[1099511627776, 4096]\n", "elements"},
      {"input x: f32[batch, 4]\ny = dense(x, 1e300)\n", "units"},
      {"input x: f32[batch, 4]\ny = x * 1e999\n", "out of range"},
      {"input x: f32[batch, 4, 4, 1]\ny = conv2d(x, 8, kernel = 100000000)\n", "kernel"},
      {"input x: f32[batch, 0]\n", "positive"},
  };
  for (const Case& c : cases) {
    std::string model = dir.write("m.nn", std::string("model m\n") + c.body);
    RunResult r = runNnc({model, "check"});
    EXPECT_EQ(r.status, 1) << c.body << r.err;
    EXPECT_TRUE(contains(r.err, c.message)) << c.body << r.err;
    EXPECT_TRUE(contains(r.err, model + ":")) << r.err;
  }
}

TEST(ResourceLimits, NestingLimitAndItsOption) {
  TempDir dir;
  auto nested = [](int depth) { return std::string(size_t(depth), '(') + "x" + std::string(size_t(depth), ')'); };
  std::string model = dir.write("deep.nn", "model m\ninput x: f32[batch, 4]\noutput y = " + nested(300) + "\n");
  RunResult r = runNnc({model, "check"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.err, "nesting deeper than 256 levels (the limit)")) << r.err;
  EXPECT_EQ(runNnc({model, "check", "--max-nesting", "400"}).status, 0);
  RunResult env = runNnc({model, "check"}, withEnv("NNC_MAX_NESTING", "300"));
  EXPECT_EQ(env.status, 0) << env.err;
  EXPECT_EQ(runNnc({model, "check", "--max-nesting", "0"}).status, 2);
}

// The largest nesting the option allows must not exhaust the stack, whatever is nested:
// brackets, calls, unary minus, lists, or a long chain of binary operators.
TEST(ResourceLimits, MaximumNestingDoesNotExhaustTheStack) {
  TempDir dir;
  const int depth = 4000;
  std::string parens = std::string(depth, '(') + "x" + std::string(depth, ')');
  std::string minus = std::string(depth, '-') + "x";
  std::string calls;
  for (int i = 0; i < depth; ++i) calls += "relu(";
  calls += "x" + std::string(depth, ')');
  std::string chain = "x";
  for (int i = 0; i < depth; ++i) chain += " + x";
  std::string lists = "reshape(x, " + std::string(depth, '[') + "4" + std::string(depth, ']') + ")";
  for (const std::string& expr : {parens, minus, calls, chain, lists}) {
    std::string model = dir.write("deep.nn", "model m\ninput x: f32[batch, 4]\noutput y = " + expr + "\n");
    RunResult r = runNnc({model, "ir", "--stage", "optimized", "--max-nesting", "4096"});
    EXPECT_TRUE(r.status == 0 || r.status == 1) << expr.substr(0, 20) << ": status " << r.status << "\n"
                                                  << r.err.substr(0, 2000);
  }
}

TEST(ResourceLimits, TimeStepsLimitAndItsOption) {
  TempDir dir;
  std::string model = dir.write("rnn.nn", "model m\ninput x: f32[batch, 70000, 2]\noutput y = rnn(x, 4, name = \"r\")\n");
  RunResult r = runNnc({model, "check"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.err, "has 70000 steps; the limit is 65536 (--max-time-steps raises it)")) << r.err;
  RunResult raised = runNnc({model, "check", "--max-time-steps", "70000"});
  EXPECT_EQ(raised.status, 0) << raised.err;
}

TEST(ResourceLimits, ModelFileSizeLimitAndItsOption) {
  TempDir dir;
  std::string text = "model m\ninput x: f32[batch, 4]\noutput y = relu(x)\n";
  std::string comment = "# " + std::string(1022, 'c') + "\n";  // 1 KiB
  for (int i = 0; i < 2048; ++i) text += comment;                  // 2 MiB
  std::string model = dir.write("big.nn", text);
  RunResult r = runNnc({model, "check", "--max-model-mib", "1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.err, "the limit is 1048576 bytes (--max-model-mib raises it)")) << r.err;
  EXPECT_EQ(runNnc({model, "check"}).status, 0);
  std::string huge = dir.file("huge.nn");
  {
    // 17 MiB without writing them: a sparse file.
    TempDir::writeTo(huge, "model m\n");
    ASSERT_EQ(::truncate(huge.c_str(), 17 << 20), 0);
  }
  RunResult big = runNnc({huge, "check"});
  EXPECT_EQ(big.status, 1);
  EXPECT_TRUE(contains(big.err, "the limit is 16777216 bytes")) << big.err;
}

// Data files whose headers claim far more than the file holds are refused by name, before
// any allocation of what the header claims (a 10^18-element claim would otherwise be an
// out-of-memory death), through the command line.
TEST(ResourceLimits, DataHeadersClaimingMoreThanTheFileAreRefused) {
  TinyProblem p;
  auto u32be = [](uint32_t v) {
    return std::string{char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
  };
  std::string idxImages = p.dir().write("images.idx", std::string("\0\0\x08\x02", 4) + u32be(0xFFFFFFFFu) +
                                                          u32be(0xFFFFFFFFu) + std::string(64, '\x01'));
  std::string idxLabels = p.dir().write("labels.idx", std::string("\0\0\x08\x01", 4) + u32be(1000000000u) + "\x01\x02");
  std::string npyHeader = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 4), }";
  npyHeader += std::string(64 - (10 + npyHeader.size() + 1) % 64, ' ') + "\n";
  std::string npy = p.dir().write("claims.npy", std::string("\x93NUMPY\x01\x00", 8) + char(npyHeader.size() & 0xff) +
                                               char(npyHeader.size() >> 8) + npyHeader + std::string(64, '\0'));
  std::string npyLen = p.dir().write("len.npy", std::string("\x93NUMPY\x02\x00\xff\xff\xff\x7f{}", 14));
  struct Case {
    std::string data, file;
  } cases[] = {
      {"idx:" + idxImages + "," + idxLabels, idxImages},
      {"npy:x=" + npy + ",label=" + p.dir().file("label.npy"), npy},
      {"npy:x=" + npyLen + ",label=" + p.dir().file("label.npy"), npyLen},
  };
  for (const Case& c : cases) {
    for (const char* command : {"train", "predict"}) {
      std::vector<std::string> args = {p.model(), command, "--data", c.data, "--backend", "interpreter"};
      if (std::strcmp(command, "predict") == 0) {
        std::string ckpt = p.dir().file("w.safetensors");
        if (!fileExists(ckpt)) {
          ASSERT_EQ(runNnc(p.trainArgs({"--save", ckpt, "--epochs", "1"})).status, 0);
        }
        args.insert(args.end(), {"--weights", ckpt, "--out", p.dir().file("out.npy")});
      }
      RunResult r = runNnc(args);
      EXPECT_EQ(r.status, 1) << c.data << " " << command << "\n" << r.err;
      EXPECT_TRUE(contains(r.err, "nnc: error: " + c.file)) << r.err;
    }
  }
}

}  // namespace
}  // namespace nnc::hostile
