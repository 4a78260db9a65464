// `embedding` and issue 13's losses from the command line: the summary row, i32 ids from NPY
// and CSV, the run-time error for an id out of range (exit 1, the input, value and position
// named, nothing saved) with the JIT and the interpreter, and located compile-time errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "RunNnc.h"
#include "TestFiles.h"

namespace nnc::test {
namespace {

const char* kEmbeddingCliModel =
    "model text\n"
    "input ids: i32[batch, 4]\n"
    "input label: i32[batch]\n"
    "emb = embedding(ids, 12, 5)\n"
    "pooled = mean(emb, axis = 1)\n"
    "logits = dense(pooled, 3)\n"
    "output probs = softmax(logits)\n"
    "train {\n"
    "  loss = cross_entropy(logits, label, label_smoothing = 0.1)\n"
    "  optimizer = sgd(lr = 0.5)\n"
    "  batch = 4\n"
    "}\n";

TEST(EmbeddingCli, SummaryHasAnEmbeddingRow) {
  ScratchDir dir;
  std::string model = dir.write("text.nn", kEmbeddingCliModel);
  RunResult r = runNnc({model, "summary"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Embedding"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(batch, 4, 5)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("60"), std::string::npos) << r.out;            // 12 * 5
  EXPECT_NE(r.out.find("Total params: 78"), std::string::npos) << r.out;  // 60 + 5*3 + 3
}

TEST(EmbeddingCli, TrainsOnNpyAndCsvIds) {
  ScratchDir dir;
  std::string model = dir.write("text.nn", kEmbeddingCliModel);
  std::vector<int32_t> ids, labels;
  for (int i = 0; i < 10; ++i) {
    for (int j = 0; j < 4; ++j) ids.push_back((i * 5 + j * 3) % 12);
    labels.push_back(i % 3);
  }
  writeNpy(dir.file("ids.npy"), {10, 4}, ids);
  writeNpy(dir.file("label.npy"), {10}, labels);
  RunResult npy = runNnc({model, "train", "--data", "npy:ids=" + dir.file("ids.npy") + ",label=" + dir.file("label.npy"),
                          "--save", dir.file("w.safetensors")});
  EXPECT_EQ(npy.status, 0) << npy.err;
  EXPECT_TRUE(std::filesystem::exists(dir.file("w.safetensors")));
  std::string csv = "ids,ids,ids,ids,label\n";
  for (int i = 0; i < 10; ++i) {
    for (int j = 0; j < 4; ++j) csv += std::to_string(ids[size_t(i * 4 + j)]) + ",";
    csv += std::to_string(labels[size_t(i)]) + "\n";
  }
  std::string csvPath = dir.write("data.csv", csv);
  RunResult fromCsv = runNnc({model, "train", "--data", "csv:" + csvPath});
  EXPECT_EQ(fromCsv.status, 0) << fromCsv.err;
}

TEST(EmbeddingCli, IdOutOfRangeIsExitOneNamingTheInputWithEveryBackend) {
  ScratchDir dir;
  std::string model = dir.write("text.nn", kEmbeddingCliModel);
  std::vector<int32_t> ids(8 * 4, 1), labels(8, 0);
  ids[6 * 4 + 2] = 12;  // sample 6, position 2: one past the vocabulary
  writeNpy(dir.file("ids.npy"), {8, 4}, ids);
  writeNpy(dir.file("label.npy"), {8}, labels);
  std::string data = "npy:ids=" + dir.file("ids.npy") + ",label=" + dir.file("label.npy");
  for (const char* backend : {"jit", "interpreter"}) {
    SCOPED_TRACE(backend);
    RunResult r = runNnc({model, "train", "--data", data, "--backend", backend, "--save", dir.file("w.safetensors")});
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find("input 'ids': id 12 at [6, 2] is outside [0, 12), the vocabulary of embedding 'emb'"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file("w.safetensors")));
  }
  // predict too (the forward entry point).
  std::vector<int32_t> good(8 * 4, 2);
  writeNpy(dir.file("good.npy"), {8, 4}, good);
  RunResult trained = runNnc({model, "train", "--data", "npy:ids=" + dir.file("good.npy") + ",label=" + dir.file("label.npy"),
                              "--save", dir.file("ok.safetensors")});
  ASSERT_EQ(trained.status, 0) << trained.err;
  RunResult p = runNnc({model, "predict", "--weights", dir.file("ok.safetensors"), "--data",
                        "npy:ids=" + dir.file("ids.npy"), "--out", dir.file("p.npy")});
  EXPECT_EQ(p.status, 1) << p.err;
  EXPECT_NE(p.err.find("input 'ids': id 12 at [6, 2]"), std::string::npos) << p.err;
}

// Under Adam the table's gradient lives in a persistent buffer (EmbeddingGradBuffers.h): it is
// scratch, so checkpoints hold the table and its moments but not the buffer, and such a
// checkpoint starts training again with either backend.
TEST(EmbeddingCli, GradientBufferIsNotCheckpointed) {
  ScratchDir dir;
  std::string src = kEmbeddingCliModel;
  src.replace(src.find("sgd(lr = 0.5)"), 13, "adam(lr = 0.01)");
  std::string model = dir.write("text.nn", src);
  std::vector<int32_t> ids, labels;
  for (int i = 0; i < 10; ++i) {
    for (int j = 0; j < 4; ++j) ids.push_back((i * 7 + j * 5) % 12);
    labels.push_back(i % 3);
  }
  writeNpy(dir.file("ids.npy"), {10, 4}, ids);
  writeNpy(dir.file("label.npy"), {10}, labels);
  std::string data = "npy:ids=" + dir.file("ids.npy") + ",label=" + dir.file("label.npy");
  for (const char* backend : {"jit", "interpreter"}) {
    SCOPED_TRACE(backend);
    std::string saved = dir.file(std::string(backend) + ".safetensors");
    RunResult r = runNnc({model, "train", "--data", data, "--backend", backend, "--save", saved});
    ASSERT_EQ(r.status, 0) << r.err;
    SafetensorsFile f = readSafetensorsFile(saved);
    EXPECT_TRUE(f.tensors.count("emb.weight"));
    EXPECT_TRUE(f.tensors.count("emb.weight/adam.m"));
    for (const auto& [name, t] : f.tensors) EXPECT_EQ(name.find("grad_buffer"), std::string::npos) << name;
    RunResult again = runNnc({model, "train", "--data", data, "--backend", backend, "--init", saved});
    EXPECT_EQ(again.status, 0) << again.err;
    EXPECT_EQ(again.err.find("warning"), std::string::npos) << again.err;
  }
}

TEST(EmbeddingCli, LocatedErrorsForWrongDtypesAndShapes) {
  ScratchDir dir;
  struct Bad {
    const char* line;
    const char* message;
  } cases[] = {
      {"e = embedding(x, 10, 4)", "embedding expects i32"},
      {"e = embedding(ids, 0, 4)", "vocab"},
      {"l = cross_entropy(x, t)", "must have the shape of the logits"},
      {"l = cross_entropy(x, label, label_smoothing = 1.5)", "label_smoothing"},
      {"l = huber(x, t)", "different shapes"},
      {"l = huber(x, x, delta = 0)", "delta"},
      {"w = where(x, x, ids)", "different dtypes"},
      {"w = where(t, x, x)", "cannot be broadcast"},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(c.line);
    std::string src = std::string("model bad\ninput x: f32[batch, 4]\ninput t: f32[batch, 3]\ninput ids: i32[batch, 2]\n"
                                  "input label: i32[batch]\n") +
                      c.line + "\n";
    std::string model = dir.write("bad.nn", src);
    RunResult r = runNnc({model, "check"});
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find("bad.nn:6:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace nnc::test
