// Option values at the edges of their types: refused as usage errors (exit 2) with a plain
// message, or handled, never a crash, an overflow or an allocation of what they claim.
#include <gtest/gtest.h>

#include "NncProcess.h"
#include "TinyProblem.h"

namespace nnc::hostile {
namespace {


// `--lr nan` used to pass CLI::PositiveNumber and train to a NaN loss.
TEST(HostileOptions, NonFiniteOrNonPositiveNumbersAreUsageErrors) {
  TinyProblem p;
  for (const char* lr : {"nan", "inf", "-inf", "0", "-1", "1e999"}) {
    RunResult r = runNnc(p.trainArgs({"--lr", lr}));
    EXPECT_EQ(r.status, 2) << lr << ": " << r.err;
    EXPECT_TRUE(contains(r.err, std::string("--lr: '") + lr + "' is not a positive number")) << r.err;
  }
  RunResult epochs = runNnc(p.trainArgs({"--epochs", "0"}));
  EXPECT_EQ(epochs.status, 2);
  EXPECT_TRUE(contains(epochs.err, "--epochs: '0' is not a positive number")) << epochs.err;
  EXPECT_EQ(runNnc(p.evalArgs(p.dir().file("w"), {"--batch", "-3"})).status, 2);
}

// A batch far beyond the number of samples is one step over all of them: the batch buffers
// follow the samples, not the option (2^63 - 1 used to overflow the step count and the
// buffer size).
TEST(HostileOptions, HugeBatchIsOneStepOverAllSamples) {
  TinyProblem p;
  std::string ckpt = p.dir().file("w.safetensors");
  const std::string huge = "9223372036854775807";
  RunResult train = runNnc(p.trainArgs({"--batch", huge, "--save", ckpt, "--epochs", "1"}));
  ASSERT_EQ(train.status, 0) << train.err;
  RunResult eval = runNnc(p.evalArgs(ckpt, {"--batch", huge}));
  EXPECT_EQ(eval.status, 0) << eval.err;
  RunResult predict = runNnc({p.model(), "predict", "--data", p.data(), "--backend", "interpreter", "--weights", ckpt,
                              "--out", p.dir().file("p.npy"), "--batch", huge});
  EXPECT_EQ(predict.status, 0) << predict.err;
  // Validation after the training split starts at a sample > 0: first + batch overflowed.
  std::string model = readFile(p.model());
  std::string withValidation = model.substr(0, model.rfind('}')) + "  validation = 0.25\n}\n";
  TempDir::writeTo(p.model(), withValidation);
  RunResult validated = runNnc(p.trainArgs({"--batch", huge, "--epochs", "1"}));
  EXPECT_EQ(validated.status, 0) << validated.err;
  EXPECT_TRUE(contains(validated.out, "val_loss")) << validated.out;
}

TEST(HostileOptions, LimitOptionsRefuseNonsense) {
  TinyProblem p;
  struct Case {
    const char* option;
    const char* value;
    const char* message;
  } cases[] = {
      {"--max-nesting", "2.5", "'2.5' is not a whole number from 1 to 4096"},
      {"--max-nesting", "0", "'0' is not a whole number from 1 to 4096"},
      {"--max-nesting", "100000", "is not a whole number from 1 to 4096"},
      {"--max-memory-gib", "lots", "'lots' is not a number from"},
      {"--max-tensor-gib", "nan", "'nan' is not a number from"},
      {"--max-time-steps", "-1", "is not a whole number"},
      {"--max-model-mib", "", "is not a number"},
  };
  for (const Case& c : cases) {
    RunResult r = runNnc({p.model(), "check", c.option, c.value});
    EXPECT_EQ(r.status, 2) << c.option << " " << c.value;
    EXPECT_TRUE(contains(r.err, c.message)) << r.err;
  }
  RunResult env = runNnc({p.model(), "check"}, withEnv("NNC_MAX_NESTING", "many"));
  EXPECT_EQ(env.status, 2) << "a bad environment variable is a usage error too: " << env.err;
}

}  // namespace
}  // namespace nnc::hostile
