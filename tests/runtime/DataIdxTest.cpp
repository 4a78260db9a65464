// IDX loading: round trips of every element type, plain and gzip, and malformed files.
#include <chrono>

#include "runtime/data/Idx.h"
#include "tests/runtime/DataTestUtil.h"

using namespace nnc;
using namespace nnc::data;
using namespace nnc::testutil;

namespace {

Bytes iota(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(i * 7);
  return b;
}

}  // namespace

TEST(DataIdx, ImagesPlainAndGzipRoundTrip) {
  TempDir dir;
  Bytes payload = iota(3 * 4 * 5);
  Bytes file = idxFile(0x08, {3, 4, 5}, payload);
  writeBytes(dir / "plain.idx", file);
  writeBytes(dir / "packed.idx", gzipBytes(file));  // gzip detected by content, not name
  for (const char* name : {"plain.idx", "packed.idx"}) {
    auto a = loadIdx(dir / name);
    ASSERT_OK(a);
    EXPECT_EQ(a->dtype(), DType::F32);
    EXPECT_EQ(a->shape(), (std::vector<int64_t>{3, 4, 5}));
    EXPECT_EQ(a->sampleShape(), (std::vector<int64_t>{4, 5}));
    ASSERT_EQ(a->numel(), 60);
    for (size_t i = 0; i < payload.size(); ++i) EXPECT_EQ(a->f32()[i], float(payload[i])) << i;
  }
}

TEST(DataIdx, LabelsBecomeI32) {
  TempDir dir;
  writeBytes(dir / "labels.gz", gzipBytes(idxFile(0x08, {4}, {3, 0, 9, 255})));
  auto a = loadIdx(dir / "labels.gz");
  ASSERT_OK(a);
  EXPECT_EQ(a->dtype(), DType::I32);
  EXPECT_EQ(std::vector<int32_t>(a->i32().begin(), a->i32().end()), (std::vector<int32_t>{3, 0, 9, 255}));
}

TEST(DataIdx, OtherElementTypesBigEndian) {
  TempDir dir;
  // sbyte
  writeBytes(dir / "s8", idxFile(0x09, {3}, {0xff, 0x80, 0x05}));
  auto s8 = loadIdx(dir / "s8");
  ASSERT_OK(s8);
  EXPECT_EQ(std::vector<int32_t>(s8->i32().begin(), s8->i32().end()), (std::vector<int32_t>{-1, -128, 5}));
  // short
  writeBytes(dir / "i16", idxFile(0x0B, {2}, {0x01, 0x02, 0xff, 0xfe}));
  auto i16 = loadIdx(dir / "i16");
  ASSERT_OK(i16);
  EXPECT_EQ(std::vector<int32_t>(i16->i32().begin(), i16->i32().end()), (std::vector<int32_t>{258, -2}));
  // int
  writeBytes(dir / "i32", idxFile(0x0C, {1, 2}, {0x00, 0x01, 0x00, 0x00, 0x80, 0, 0, 0}));
  auto i32 = loadIdx(dir / "i32");
  ASSERT_OK(i32);
  EXPECT_EQ(i32->dtype(), DType::F32);  // rank 2: sample data, f32
  EXPECT_EQ(i32->f32()[0], 65536.0f);
  EXPECT_EQ(i32->f32()[1], -2147483648.0f);
  // float: 1.5f = 0x3FC00000, -2.0f = 0xC0000000
  writeBytes(dir / "f32", idxFile(0x0D, {2}, {0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0}));
  auto f32 = loadIdx(dir / "f32");
  ASSERT_OK(f32);
  EXPECT_EQ(f32->dtype(), DType::F32);
  EXPECT_EQ(f32->f32()[0], 1.5f);
  EXPECT_EQ(f32->f32()[1], -2.0f);
  // double: 0.25 = 0x3FD0000000000000
  writeBytes(dir / "f64", idxFile(0x0E, {1}, {0x3f, 0xd0, 0, 0, 0, 0, 0, 0}));
  auto f64 = loadIdx(dir / "f64");
  ASSERT_OK(f64);
  EXPECT_EQ(f64->f32()[0], 0.25f);
  // forcing i32 from float data requires integers
  EXPECT_FAILS_WITH(loadIdx(dir / "f32", DType::I32), "f32", "element 0", "not an integer");
}

TEST(DataIdx, WrongMagic) {
  TempDir dir;
  writeText(dir / "zip.idx", "PK\x03\x04 this is a zip");
  EXPECT_FAILS_WITH(loadIdx(dir / "zip.idx"), "zip.idx", "not an IDX file", "magic", "50 4b 03 04");
  writeBytes(dir / "type.idx", idxFile(0x07, {1}, {0}));
  EXPECT_FAILS_WITH(loadIdx(dir / "type.idx"), "type.idx", "unknown IDX element type 0x07");
  writeBytes(dir / "empty.idx", {});
  EXPECT_FAILS_WITH(loadIdx(dir / "empty.idx"), "empty.idx", "empty");
}

TEST(DataIdx, RankZero) {
  TempDir dir;
  writeBytes(dir / "r0.idx", {0, 0, 8, 0, 1, 2, 3});
  EXPECT_FAILS_WITH(loadIdx(dir / "r0.idx"), "r0.idx", "rank 0");
}

TEST(DataIdx, TruncatedHeader) {
  TempDir dir;
  writeBytes(dir / "h.idx", {0, 0, 8, 3, 0, 0, 0, 2, 0, 0});
  EXPECT_FAILS_WITH(loadIdx(dir / "h.idx"), "h.idx", "truncated header", "16 header bytes", "holds 10");
  writeBytes(dir / "m.idx", {0, 0});
  EXPECT_FAILS_WITH(loadIdx(dir / "m.idx"), "m.idx", "truncated");
}

TEST(DataIdx, TruncatedData) {
  TempDir dir;
  Bytes file = idxFile(0x08, {60000, 28, 28}, Bytes(1024, 1));
  writeBytes(dir / "train-images.idx", file);
  EXPECT_FAILS_WITH(loadIdx(dir / "train-images.idx"), "train-images.idx", "truncated",
                    "header claims 60000 images of 28x28 (47040000 bytes)", "holds 1024 bytes of data");
  writeBytes(dir / "train-images.gz", gzipBytes(file));
  EXPECT_FAILS_WITH(loadIdx(dir / "train-images.gz"), "train-images.gz", "truncated", "47040000 bytes",
                    "holds 1024 bytes");
}

TEST(DataIdx, GzipStreamCut) {
  TempDir dir;
  Bytes gz = gzipBytes(idxFile(0x08, {100, 10}, iota(1000)));
  gz.resize(gz.size() / 2);
  writeBytes(dir / "cut.gz", gz);
  EXPECT_FAILS_WITH(loadIdx(dir / "cut.gz"), "cut.gz", "truncated gzip stream");
}

TEST(DataIdx, CorruptGzip) {
  TempDir dir;
  Bytes gz = gzipBytes(idxFile(0x08, {100, 10}, iota(1000)));
  for (size_t i = 12; i < gz.size() - 8; ++i) gz[i] ^= 0x5a;
  writeBytes(dir / "bad.gz", gz);
  EXPECT_FAILS_WITH(loadIdx(dir / "bad.gz"), "bad.gz", "gzip");
}

TEST(DataIdx, TrailingGarbage) {
  TempDir dir;
  Bytes file = idxFile(0x08, {2}, {1, 2});
  file.push_back(42);
  file.push_back(43);
  writeBytes(dir / "t.idx", file);
  EXPECT_FAILS_WITH(loadIdx(dir / "t.idx"), "t.idx", "2 bytes of trailing garbage", "byte offset 10");
  writeBytes(dir / "t.gz", gzipBytes(file));
  EXPECT_FAILS_WITH(loadIdx(dir / "t.gz"), "t.gz", "trailing garbage");
  // Garbage after the gzip stream itself.
  Bytes gz = gzipBytes(idxFile(0x08, {2}, {1, 2}));
  gz.push_back('x');
  writeBytes(dir / "after.gz", gz);
  EXPECT_FAILS_WITH(loadIdx(dir / "after.gz"), "after.gz", "garbage after the end of the gzip data");
}

TEST(DataIdx, ConcatenatedGzipMembers) {
  TempDir dir;
  Bytes file = idxFile(0x08, {4}, {1, 2, 3, 4});
  Bytes a(file.begin(), file.begin() + 7), b(file.begin() + 7, file.end());
  Bytes gz = gzipBytes(a), gz2 = gzipBytes(b);
  gz.insert(gz.end(), gz2.begin(), gz2.end());
  writeBytes(dir / "multi.gz", gz);
  auto r = loadIdx(dir / "multi.gz");
  ASSERT_OK(r);
  EXPECT_EQ(r->i32()[3], 4);
}

TEST(DataIdx, AbsurdDimsFailFastWithoutAllocating) {
  TempDir dir;
  // 10^15 elements claimed by a tiny file (250000 x 4000000 = 10^12 ... times 1000).
  writeBytes(dir / "huge.idx", idxFile(0x0E, {1000000, 1000000, 1000}, Bytes(64, 0)));
  writeBytes(dir / "huge.gz", gzipBytes(idxFile(0x08, {1000000, 1000000, 1000}, Bytes(64, 0))));
  writeBytes(dir / "wrap.idx", idxFile(0x0E, {0xffffffff, 0xffffffff, 0xffffffff}, Bytes(8, 0)));
  auto start = std::chrono::steady_clock::now();
  EXPECT_FAILS_WITH(loadIdx(dir / "huge.idx"), "huge.idx", "truncated", "holds 64 bytes");
  EXPECT_FAILS_WITH(loadIdx(dir / "huge.gz"), "huge.gz", "truncated", "holds 64 bytes");
  EXPECT_FAILS_WITH(loadIdx(dir / "wrap.idx"), "wrap.idx", "absurd dimensions");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(DataIdx, MissingFileAndDirectory) {
  TempDir dir;
  EXPECT_FAILS_WITH(loadIdx(dir / "nope.idx"), "nope.idx", "No such file");
  EXPECT_FAILS_WITH(loadIdx(dir.path()), "directory");
}

TEST(DataIdx, ZeroSamples) {
  TempDir dir;
  writeBytes(dir / "z.idx", idxFile(0x08, {0, 28, 28}, {}));
  auto r = loadIdx(dir / "z.idx");
  ASSERT_OK(r);
  EXPECT_EQ(r->numSamples(), 0);
}
