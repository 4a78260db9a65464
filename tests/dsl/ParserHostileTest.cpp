// Hostile input: random bytes, random token soups, every truncation and byte flip of a valid
// file, megabyte lines, pathological nesting. The parser must answer every one with a module
// or exactly one positioned error; never crash, hang or throw. And its stack use at the
// nesting limit must be small next to a thread's default stack.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <functional>

#include "tests/dsl/ParserTestHelpers.h"

namespace nnc {
namespace {

using parser_test::loc;
using parser_test::parse;
using parser_test::Parsed;

// A fixed pseudo-random sequence: the same cases on every run.
struct Lcg {
  uint64_t state;
  uint32_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return uint32_t(state >> 33);
  }
  size_t below(size_t n) { return next() % n; }
};

size_t lineCount(std::string_view s) { return size_t(std::count(s.begin(), s.end(), '\n')) + 1; }

// The one property every input must have.
void expectWellFormedAnswer(std::string_view source) {
  Parsed p = parse(source);
  if (p.module) {
    EXPECT_TRUE(p.diags.empty());
    return;
  }
  ASSERT_EQ(p.diags.size(), 1u) << p.rendered;
  const Diagnostic& d = p.diags[0];
  EXPECT_GE(d.loc.line, 1u);
  EXPECT_LE(d.loc.line, lineCount(source));
  EXPECT_GE(d.loc.col, 1u);
  EXPECT_FALSE(d.message.empty());
}

const char* kValidModel = R"(# a complete model
model fashion_mlp
input image: f32[batch, 28, 28]
input label: i32[batch]
param scale: f32[] = constant(0.5)
flat   = flatten(image) * scale
h1     = dense(flat, 256, activation = relu, name = "fc1")
h2     = -dense(h1, 128) @ [[1, 2], [3, 4]] / (2 - h1)
output probs = softmax(h2, axis = -1)
output h1
train {
  loss      = cross_entropy(h2, label)
  optimizer = adam(lr = 1e-3)
  normalize = scale(1 / 255)
}
)";

TEST(ParserHostile, ValidModelParses) { EXPECT_TRUE(parse(kValidModel).module) << parse(kValidModel).rendered; }

TEST(ParserHostile, EveryTruncation) {
  std::string src = kValidModel;
  for (size_t n = 0; n <= src.size(); ++n) {
    SCOPED_TRACE(n);
    expectWellFormedAnswer(std::string_view(src).substr(0, n));
  }
}

TEST(ParserHostile, EveryByteReplaced) {
  std::string src = kValidModel;
  const char replacements[] = {'\0', ')', '(', '[', '=', '-', '"', '#', 'x', '1', '.', '\n', '\xff', '}'};
  for (size_t i = 0; i < src.size(); ++i) {
    for (char r : replacements) {
      std::string mutated = src;
      mutated[i] = r;
      SCOPED_TRACE(std::to_string(i) + " " + std::to_string(int(r)));
      expectWellFormedAnswer(mutated);
    }
  }
}

TEST(ParserHostile, RandomBytes) {
  Lcg rng{1};
  for (int i = 0; i < 3000; ++i) {
    std::string s(rng.below(300), '\0');
    for (char& c : s) c = char(rng.next());
    if (i % 2) s = "model m\n" + s;  // get past the header half of the time
    expectWellFormedAnswer(s);
  }
}

TEST(ParserHostile, RandomTokenSoup) {
  const char* vocabulary[] = {"model", "m",  "input", "param", "output", "train", "x",     "batch", ":",
                              "f32",   "[",  "]",     "(",     ")",      "{",     "}",     "=",     ",",
                              "+",     "-",  "*",     "/",     "@",      "1",     "0.5",   "1e-3",  "\"s\"",
                              "dense", " ", "\n",    "# c\n", "relu",   "-1",    "f32[3]"};
  Lcg rng{7};
  size_t parsedOk = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = "model m\n";
    size_t n = rng.below(40);
    for (size_t k = 0; k < n; ++k) (s += vocabulary[rng.below(std::size(vocabulary))]) += ' ';
    Parsed p = parse(s);
    if (p.module) {
      ++parsedOk;
      continue;
    }
    ASSERT_EQ(p.diags.size(), 1u) << s;
    ASSERT_TRUE(p.diags[0].loc.valid()) << s;
  }
  EXPECT_GT(parsedOk, 0u);  // the soup is not all garbage
}

TEST(ParserHostile, WhitespaceOnlyFiles) {
  for (std::string s : {"", " ", "\n\n\n", "\t\r\n", "#", "# comment without newline", "#\n#\n#\n"}) {
    Parsed p = parse(s);
    ASSERT_EQ(p.diags.size(), 1u);
    EXPECT_EQ(loc(p.diags[0].loc), "1:1");
    EXPECT_EQ(p.diags[0].message, "expected 'model NAME' at the start of the file, found end of file");
  }
}

TEST(ParserHostile, MegabyteLineParses) {
  std::string list = "x = [0";
  while (list.size() < (1u << 20)) list += ", 1.5";
  Parsed p = parse("model m\n" + list + "]\n");
  ASSERT_TRUE(p.module) << p.rendered.substr(0, 500);
  EXPECT_GT(p.module->decls[0].value->items.size(), 200000u);
}

TEST(ParserHostile, MegabyteNameCommentAndString) {
  std::string big(1u << 20, 'a');
  EXPECT_TRUE(parse("model m\nx = " + big + "\n").module);
  EXPECT_TRUE(parse("model m\n#" + big + "\nx = 1\n").module);
  EXPECT_TRUE(parse("model m\nx = f(name = \"" + big + "\")\n").module);
}

TEST(ParserHostile, MegabyteLineWithErrorAtItsEnd) {
  std::string list = "x = [0";
  while (list.size() < (1u << 20)) list += ", 0";
  Parsed p = parse("model m\n" + list + " 7]\n");
  ASSERT_EQ(p.diags.size(), 1u);
  EXPECT_EQ(loc(p.diags[0].loc), "2:" + std::to_string(list.size() + 2));
  EXPECT_EQ(p.diags[0].message, "expected ']' to close the list opened at 2:5, found '7'");
  // The rendered source line is cut around the caret.
  EXPECT_LT(p.rendered.size(), 1000u);
}

TEST(ParserHostile, MegabyteChainIsRefusedAtTheLimit) {
  std::string chain = "y = a";
  while (chain.size() < (1u << 20)) chain += "+a";
  Parsed p = parse("model m\n" + chain + "\n");
  ASSERT_EQ(p.diags.size(), 1u);
  EXPECT_EQ(loc(p.diags[0].loc), "2:" + std::to_string(6 + 2 * 256));
  EXPECT_EQ(p.diags[0].message, "expression nested deeper than 256 levels (the limit); split it into named values");
}

TEST(ParserHostile, MegabyteOfOpeningBrackets) {
  for (char open : {'(', '[', '-'}) {
    Parsed p = parse("model m\ny = " + std::string(1u << 20, open));
    ASSERT_EQ(p.diags.size(), 1u);
    EXPECT_EQ(loc(p.diags[0].loc), "2:261");
    EXPECT_EQ(p.diags[0].message, "nesting deeper than 256 levels (the limit)");
  }
}

TEST(ParserHostile, ManyDeclarations) {
  std::string src = "model m\nx0 = 1\n";
  for (int i = 1; i < 50000; ++i) {
    // (Appended piece by piece: GCC 12 warns falsely about `"x" + std::to_string(i)`.)
    src += 'x';
    src += std::to_string(i);
    src += " = x";
    src += std::to_string(i - 1);
    src += " + 1\n";
  }
  Parsed p = parse(src);
  ASSERT_TRUE(p.module);
  EXPECT_EQ(p.module->decls.size(), 50000u);
  EXPECT_EQ(loc(p.module->decls.back().loc), "50001:1");
}

// Runs `fn` on a thread whose stack is filled with a pattern first, and returns how many
// bytes of it were written: the thread's peak stack use.
size_t peakStackUse(const std::function<void()>& fn) {
  const size_t size = 64u << 20;
  void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return SIZE_MAX;
  auto* bytes = static_cast<unsigned char*>(mem);
  std::fill(bytes, bytes + size, 0xA5);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstack(&attr, mem, size);
  pthread_t thread;
  auto run = [](void* f) -> void* {
    (*static_cast<const std::function<void()>*>(f))();
    return nullptr;
  };
  size_t used = SIZE_MAX;
  if (pthread_create(&thread, &attr, run, const_cast<std::function<void()>*>(&fn)) == 0) {
    pthread_join(thread, nullptr);
    size_t untouched = 0;  // the stack grows down, from the end of the block
    while (untouched < size && bytes[untouched] == 0xA5) ++untouched;
    used = size - untouched;
  }
  pthread_attr_destroy(&attr);
  munmap(mem, size);
  return used;
}

TEST(ParserHostile, StackUseAtTheNestingLimitIsSmall) {
  // Every kind of nesting at 256 levels, the worst the pre-scan lets through.
  std::vector<std::string> deepest = {
      std::string(256, '(') + "x" + std::string(256, ')'),
      std::string(256, '[') + "x" + std::string(256, ']'),
      std::string(256, '-') + "x",
  };
  std::string calls;
  for (int i = 0; i < 256; ++i) calls += "f(a, k = ";
  deepest.push_back(calls + "x" + std::string(256, ')'));
  std::string mixed;
  for (int i = 0; i < 64; ++i) mixed += "-f([(";
  mixed += "x";
  for (int i = 0; i < 64; ++i) mixed += ")])";
  deepest.push_back(mixed);
  size_t worst = 0;
  for (const std::string& expr : deepest) {
    bool ok = false;
    size_t used = peakStackUse([&] { ok = parse("model m\ny = " + expr + "\n").module.has_value(); });
    EXPECT_TRUE(ok) << expr.substr(0, 20);
    worst = std::max(worst, used);
  }
  RecordProperty("peak_stack_bytes", std::to_string(worst));
  // A thread's default stack is 8 MiB on Linux; the parse must leave at least half of it to
  // the caller. (Measured: about 0.6 MiB with -O2, 2.7 MiB with -O0, for the calls case.)
  EXPECT_LT(worst, 4u << 20) << "peak stack use " << worst << " bytes";
}

}  // namespace
}  // namespace nnc
