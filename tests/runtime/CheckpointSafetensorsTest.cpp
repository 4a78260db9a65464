// Safetensors reading and writing, validation of hostile files, atomic saves.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>

#include "runtime/checkpoint/Safetensors.h"
#include "tests/runtime/DataTestUtil.h"

using namespace nnc;
using namespace nnc::ckpt;
using namespace nnc::testutil;
using data::Array;
using data::DType;

namespace {

Checkpoint sample() {
  Checkpoint c;
  c.tensors["h1.weight"] = Array::fromF32({2, 3}, {1, 2, 3, 4, 5, 6});
  c.tensors["h1.bias"] = Array::fromF32({3}, {0.5f, -0.5f, 0});
  c.tensors["step"] = Array::fromI32({}, {42});
  c.tensors["empty"] = Array::fromF32({0, 4}, {});
  c.metadata["format"] = "nnc";
  c.metadata["normalize"] = "scale(0.00392156862745098)";
  return c;
}

// A file with the given header text (no padding) and data bytes.
Bytes stFile(const std::string& header, const Bytes& data) {
  Bytes b;
  for (int i = 0; i < 8; ++i) b.push_back(uint8_t(uint64_t(header.size()) >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

}  // namespace

TEST(CheckpointSafetensors, RoundTripWithMetadata) {
  TempDir dir;
  Checkpoint c = sample();
  ASSERT_OK(writeSafetensors(dir / "m.safetensors", c));
  auto back = readSafetensors(dir / "m.safetensors");
  ASSERT_OK(back);
  EXPECT_EQ(back->tensors, c.tensors);
  EXPECT_EQ(back->metadata, c.metadata);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"m.safetensors"}));

  // The layout the format prescribes: sorted names, contiguous offsets, 8-byte aligned data.
  Bytes bytes = readBytes(dir / "m.safetensors");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[size_t(i)];
  EXPECT_EQ(n % 8, 0u);
  auto header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + long(n));
  EXPECT_EQ(header["h1.bias"]["dtype"], "F32");
  EXPECT_EQ(header["h1.bias"]["data_offsets"], nlohmann::json({0, 12}));
  EXPECT_EQ(header["h1.weight"]["shape"], nlohmann::json({2, 3}));
  EXPECT_EQ(header["step"]["dtype"], "I32");
  EXPECT_EQ(header["__metadata__"]["format"], "nnc");
  EXPECT_EQ(bytes.size(), 8 + n + 12 + 24 + 4);

  // Deterministic: writing again gives the same bytes.
  ASSERT_OK(writeSafetensors(dir / "m2.safetensors", c));
  EXPECT_EQ(readBytes(dir / "m2.safetensors"), bytes);
}

TEST(CheckpointSafetensors, ReadsOtherDtypesWithRangeChecks) {
  TempDir dir;
  Bytes data;
  for (auto part : {leBytes<double>({1.5, -2}), leBytes<int64_t>({7, -9}), leBytes<uint16_t>({0x3fc0})})  // bf16 1.5
    for (uint8_t b : part) data.push_back(b);
  std::string header = R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
                       R"("b":{"dtype":"I64","shape":[2],"data_offsets":[16,32]},)"
                       R"("c":{"dtype":"BF16","shape":[1],"data_offsets":[32,34]}})";
  writeBytes(dir / "o.safetensors", stFile(header, data));
  auto r = readSafetensors(dir / "o.safetensors");
  ASSERT_OK(r);
  EXPECT_EQ(r->tensors["a"], Array::fromF32({2}, {1.5f, -2}));
  EXPECT_EQ(r->tensors["b"], Array::fromI32({2}, {7, -9}));
  EXPECT_EQ(r->tensors["c"], Array::fromF32({1}, {1.5f}));

  writeBytes(dir / "big.safetensors",
             stFile(R"({"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", leBytes<int64_t>({1LL << 40})));
  EXPECT_FAILS_WITH(readSafetensors(dir / "big.safetensors"), "big.safetensors", "tensor 'w'", "1099511627776",
                    "does not fit in i32");
}

TEST(CheckpointSafetensors, TruncatedHeaderAndData) {
  TempDir dir;
  ASSERT_OK(writeSafetensors(dir / "m.safetensors", sample()));
  Bytes full = readBytes(dir / "m.safetensors");
  writeBytes(dir / "len.safetensors", Bytes(full.begin(), full.begin() + 5));
  EXPECT_FAILS_WITH(readSafetensors(dir / "len.safetensors"), "len.safetensors", "truncated", "8-byte");
  writeBytes(dir / "head.safetensors", Bytes(full.begin(), full.begin() + 40));
  EXPECT_FAILS_WITH(readSafetensors(dir / "head.safetensors"), "head.safetensors", "truncated header", "32 bytes follow");
  writeBytes(dir / "data.safetensors", Bytes(full.begin(), full.end() - 10));
  EXPECT_FAILS_WITH(readSafetensors(dir / "data.safetensors"), "data.safetensors", "tensor '", "past the end",
                    "truncated");
  writeBytes(dir / "empty.safetensors", {});
  EXPECT_FAILS_WITH(readSafetensors(dir / "empty.safetensors"), "empty.safetensors", "truncated");
}

TEST(CheckpointSafetensors, HostileHeaders) {
  TempDir dir;
  auto check = [&](const std::string& name, const std::string& header, const Bytes& data,
                   std::initializer_list<std::string> words) {
    writeBytes(dir / name, stFile(header, data));
    auto r = readSafetensors(dir / name);
    EXPECT_TRUE(failsWith(r, words)) << name;
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find(name), std::string::npos) << r.error().message;
    }
  };
  Bytes d16(16, 0);
  check("json.st", R"({"a": {"dtype": "F32", )", d16, {"not valid JSON"});
  check("array.st", R"([1, 2])", d16, {"not a JSON object"});
  check("dtype.st", R"({"a":{"dtype":"Q8","shape":[1],"data_offsets":[0,4]}})", d16, {"tensor 'a'", "unknown dtype 'Q8'"});
  check("shape.st", R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", d16, {"tensor 'a'", "non-negative"});
  check("shape2.st", R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", d16, {"tensor 'a'", "shape"});
  check("noshape.st", R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", d16, {"tensor 'a'", "missing \"shape\""});
  check("past.st", R"({"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", d16, {"tensor 'a'", "past the end", "16 bytes"});
  check("size.st", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", d16, {"tensor 'a'", "hold 8 bytes", "needs 12"});
  check("rev.st", R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", d16, {"tensor 'a'", "end before they begin"});
  check("overlap.st",
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
        d16, {"tensor 'b'", "overlap", "tensor 'a'"});
  check("dup.st",
        R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
        d16, {"tensor 'a'", "twice"});
  check("meta.st", R"({"__metadata__":{"epochs":10}})", d16, {"__metadata__", "'epochs'", "not a string"});
  check("entry.st", R"({"a":[1,2]})", d16, {"tensor 'a'", "not a JSON object"});
  // Overflowing shape product: (2^32)^3 elements.
  check("wrap.st", R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,0]}})", d16,
        {"tensor 'a'", "more than 2^64"});
  // A header length far past the file, and one over 100 MiB.
  Bytes huge{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'};
  writeBytes(dir / "huge.st", huge);
  auto start = std::chrono::steady_clock::now();
  EXPECT_FAILS_WITH(readSafetensors(dir / "huge.st"), "huge.st", "100 MiB");
  Bytes over{0x00, 0x10, 0, 0, 0, 0, 0, 0, '{', '}'};  // 4096 bytes claimed
  writeBytes(dir / "over.st", over);
  EXPECT_FAILS_WITH(readSafetensors(dir / "over.st"), "over.st", "truncated header", "4096");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(CheckpointSafetensors, FailedSaveLeavesOldFileIntact) {
  TempDir dir;
  ASSERT_OK(writeSafetensors(dir / "ckpt.safetensors", sample()));
  Bytes before = readBytes(dir / "ckpt.safetensors");
  writeText(dir / "plain", "not a directory");

  EXPECT_FAILS_WITH(writeSafetensors(dir / "plain/ckpt.safetensors", sample()), "plain/ckpt.safetensors", "not a directory");
  EXPECT_FAILS_WITH(writeSafetensors(dir / "missing/ckpt.safetensors", sample()), "does not exist");
  EXPECT_FAILS_WITH(writeSafetensors(dir.path(), sample()), "is a directory");
  // Invalid names are refused before anything is written over the target.
  Checkpoint bad = sample();
  bad.tensors["__metadata__"] = Array::fromF32({1}, {1});
  EXPECT_FAILS_WITH(writeSafetensors(dir / "ckpt.safetensors", bad), "invalid tensor name");
  Checkpoint utf = sample();
  utf.metadata["note"] = "\xff\xfe";
  EXPECT_FAILS_WITH(writeSafetensors(dir / "ckpt.safetensors", utf), "UTF-8");

  EXPECT_EQ(readBytes(dir / "ckpt.safetensors"), before);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"ckpt.safetensors", "plain"}));
}

TEST(CheckpointSafetensors, ReadOnlyDirectory) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  TempDir dir;
  std::string sub = dir / "ro";
  ASSERT_EQ(mkdir(sub.c_str(), 0755), 0);
  ASSERT_OK(writeSafetensors(sub + "/c.safetensors", sample()));
  Bytes before = readBytes(sub + "/c.safetensors");
  ASSERT_EQ(chmod(sub.c_str(), 0555), 0);
  EXPECT_FAILS_WITH(writeSafetensors(sub + "/c.safetensors", sample()), "Permission denied");
  EXPECT_FAILS_WITH(checkWritableDestination(sub + "/c.safetensors"), "Permission denied");
  chmod(sub.c_str(), 0755);
  EXPECT_EQ(readBytes(sub + "/c.safetensors"), before);
}

TEST(CheckpointSafetensors, WriteErrorMidwayLeavesOldFileIntact) {
  // A file size limit makes write() fail with EFBIG partway through, as a full disk would
  // with ENOSPC, and works for root too. SIGXFSZ is ignored so the failure is an errno.
  TempDir dir;
  ASSERT_OK(writeSafetensors(dir / "ckpt.safetensors", sample()));
  Bytes before = readBytes(dir / "ckpt.safetensors");
  Checkpoint big;
  big.tensors["w"] = Array::zeros(DType::F32, {1 << 16});
  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  auto oldHandler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  auto r = writeSafetensors(dir / "ckpt.safetensors", big);
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, oldHandler);
  EXPECT_FAILS_WITH(r, "cannot write", "ckpt.safetensors", "File too large");
  EXPECT_EQ(readBytes(dir / "ckpt.safetensors"), before);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"ckpt.safetensors"}));
}

TEST(CheckpointSafetensors, CheckWritableDestination) {
  TempDir dir;
  ASSERT_OK(checkWritableDestination(dir / "new.safetensors"));
  writeText(dir / "plain", "x");
  EXPECT_FAILS_WITH(checkWritableDestination(dir / "plain/x.safetensors"), "plain", "not a directory");
  EXPECT_FAILS_WITH(checkWritableDestination(dir / "nodir/x.safetensors"), "nodir", "does not exist");
  EXPECT_FAILS_WITH(checkWritableDestination(dir.path()), "is a directory");
  EXPECT_FAILS_WITH(checkWritableDestination(dir.path() + "/"), "directory");
  EXPECT_FAILS_WITH(checkWritableDestination(""), "empty");
  // The probe leaves nothing behind; an existing file stays as it is.
  ASSERT_OK(checkWritableDestination(dir / "plain"));
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"plain"}));
  // A relative name means the current directory.
  ASSERT_OK(checkWritableDestination("nnc-probe-test.safetensors"));
}
