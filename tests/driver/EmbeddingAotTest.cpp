// An AOT object of a model with an embedding (issue 13): an id out of range makes its
// forward and train_step return NNC_AOT_ERR_INDEX, with nothing changed; ids in range run.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>

#include "RunNnc.h"
#include "TestFiles.h"

namespace nnc::test {
namespace {

int embeddingAotShell(const std::string& command, std::string* output) {
  std::string cmd = command + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

TEST(EmbeddingAot, IdOutOfRangeReturnsTheIndexErrorCode) {
#ifdef NNC_SANITIZED_BUILD
  GTEST_SKIP() << "libnnc_rt.a carries sanitizer calls that a plain `cc` link cannot resolve";
#endif
  std::string ignored;
  if (embeddingAotShell("command -v cc", &ignored) != 0) GTEST_SKIP() << "no cc";
  ScratchDir dir;
  const std::string model = dir.write("emb.nn",
                                      "model emb\ninput ids: i32[batch, 3]\ninput label: i32[batch]\n"
                                      "e = embedding(ids, 10, 4)\nlogits = dense(mean(e, axis = 1), 2, name = \"fc\")\n"
                                      "output p = softmax(logits)\n"
                                      "train {\n  loss = cross_entropy(logits, label)\n  optimizer = sgd(lr = 0.1)\n}\n");
  auto r = runNnc({model, "compile", "-o", dir.file("out")});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string program = dir.write("run.c", R"(#include <stdio.h>
#include "emb.h"
int main(void) {
  emb_model* m = 0;
  if (emb_create(&m) != 0) return 2;
  int ids[6] = {1, 2, 3, 4, 10, 5}, labels[2] = {0, 1};
  float before[40], after[40], p[4], loss = 0;
  emb_get_tensor(m, "e.weight", before, 40);
  const void* in[2] = {ids, labels};
  void* out[1] = {p};
  int f = emb_forward(m, in, out, 2);
  int t = emb_train_step(m, in, 2, 0.1f, &loss);
  emb_get_tensor(m, "e.weight", after, 40);
  int same = 1;
  for (int i = 0; i < 40; ++i) same = same && before[i] == after[i];
  ids[4] = 9;
  int ok = emb_train_step(m, in, 2, 0.1f, &loss);
  printf("forward %d train %d unchanged %d good %d: %s\n", f, t, same, ok, nnc_aot_error_string(t));
  emb_free(m);
  return 0;
}
)");
  std::string log;
  ASSERT_EQ(embeddingAotShell("cc -std=c99 -I" + dir.file("out") + " -I" + sourcePath("runtime/include") + " " + program +
                                  " " + dir.file("out/emb.o") + " -L" + std::string(NNC_BINARY_DIR) +
                                  "/lib -lnnc_rt -lm -lpthread -lstdc++ -o " + dir.file("run"),
                              &log),
            0)
      << log;
  std::string out;
  ASSERT_EQ(embeddingAotShell(dir.file("run"), &out), 0) << out;
  EXPECT_NE(out.find("forward -8 train -8 unchanged 1 good 0: an embedding id"), std::string::npos) << out;
}

}  // namespace
}  // namespace nnc::test
