// NPY loading and writing: every supported dtype, header versions, malformed files.
#include <chrono>
#include <cmath>

#include "runtime/data/Npy.h"
#include "tests/runtime/DataTestUtil.h"

using namespace nnc;
using namespace nnc::data;
using namespace nnc::testutil;

namespace {

std::vector<int32_t> ints(const Array& a) { return {a.i32().begin(), a.i32().end()}; }

}  // namespace

TEST(DataNpy, EveryDtypeV1AndV2) {
  TempDir dir;
  struct Case {
    std::string descr;
    Bytes data;
    bool isFloat;
    std::vector<double> expect;
  };
  std::vector<Case> cases = {
      {"<f4", leBytes<float>({1.5f, -2.f, 0.f, 3.25f}), true, {1.5, -2, 0, 3.25}},
      {"<f8", leBytes<double>({1.5, -2, 1e-3, 3.25}), true, {1.5, -2, double(float(1e-3)), 3.25}},
      {"<i4", leBytes<int32_t>({1, -2, 2147483647, -2147483647 - 1}), false, {1, -2, 2147483647, -2147483648.0}},
      {"<i8", leBytes<int64_t>({1, -2, 2147483647, -5}), false, {1, -2, 2147483647, -5}},
      {"|u1", Bytes{0, 1, 200, 255}, false, {0, 1, 200, 255}},
      {"|i1", Bytes{0, 1, 0xff, 0x80}, false, {0, 1, -1, -128}},
      {"<i2", leBytes<int16_t>({0, -1, 32767, -32768}), false, {0, -1, 32767, -32768}},
      {"<u2", leBytes<uint16_t>({0, 1, 65535, 7}), false, {0, 1, 65535, 7}},
      {"<u4", leBytes<uint32_t>({0, 1, 2147483647u, 7}), false, {0, 1, 2147483647, 7}},
      {"|b1", Bytes{0, 1, 1, 0}, false, {0, 1, 1, 0}},
      {"<f2", leBytes<uint16_t>({0x3c00, 0xc000, 0x3800, 0x0000}), true, {1, -2, 0.5, 0}},
      {">f4", Bytes{0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x50, 0, 0}, true, {1.5, -2, 0, 3.25}},
      {">i4", Bytes{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0, 0, 0, 0, 0}, false, {1, -2, 256, 0}},
  };
  for (auto& c : cases) {
    for (int major : {1, 2, 3}) {
      std::string name = "a";
      name += std::to_string(major);
      name += ".npy";
      std::string path = dir / name;
      writeBytes(path, npyFile(npyDict(c.descr, "(2, 2)"), c.data, major));
      auto a = loadNpy(path);
      ASSERT_OK(a);
      SCOPED_TRACE(c.descr + " v" + std::to_string(major));
      EXPECT_EQ(a->shape(), (std::vector<int64_t>{2, 2}));
      ASSERT_EQ(a->dtype(), c.isFloat ? DType::F32 : DType::I32);
      for (size_t i = 0; i < 4; ++i) {
        double got = c.isFloat ? double(a->f32()[i]) : double(a->i32()[i]);
        EXPECT_EQ(got, c.expect[i]) << i;
      }
    }
  }
}

TEST(DataNpy, ShapesScalarVectorEmpty) {
  TempDir dir;
  writeBytes(dir / "v.npy", npyFile(npyDict("<f4", "(3,)"), leBytes<float>({1, 2, 3})));
  auto v = loadNpy(dir / "v.npy");
  ASSERT_OK(v);
  EXPECT_EQ(v->shape(), (std::vector<int64_t>{3}));
  writeBytes(dir / "s.npy", npyFile(npyDict("<i4", "()"), leBytes<int32_t>({7})));
  auto s = loadNpy(dir / "s.npy");
  ASSERT_OK(s);
  EXPECT_EQ(s->rank(), 0);
  EXPECT_EQ(s->i32()[0], 7);
  writeBytes(dir / "e.npy", npyFile(npyDict("<f4", "(0, 5)"), {}));
  auto e = loadNpy(dir / "e.npy");
  ASSERT_OK(e);
  EXPECT_EQ(e->shape(), (std::vector<int64_t>{0, 5}));
  // Key order and quoting vary between NumPy versions and other writers.
  writeBytes(dir / "o.npy", npyFile("{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<i8\"}", leBytes<int64_t>({4, 5})));
  auto o = loadNpy(dir / "o.npy");
  ASSERT_OK(o);
  EXPECT_EQ(ints(*o), (std::vector<int32_t>{4, 5}));
}

TEST(DataNpy, WriterRoundTrip) {
  TempDir dir;
  Array f = Array::fromF32({2, 3}, {1, 2, 3, 4.5f, -5, 6e-8f});
  ASSERT_OK(saveNpy(dir / "f.npy", f));
  auto back = loadNpy(dir / "f.npy");
  ASSERT_OK(back);
  EXPECT_EQ(*back, f);
  Bytes bytes = readBytes(dir / "f.npy");
  EXPECT_EQ((bytes.size() - 2 * 3 * 4) % 64, 0u);  // data 64-byte aligned, like NumPy
  std::string text(bytes.begin(), bytes.end());
  EXPECT_NE(text.find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), std::string::npos);

  Array i = Array::fromI32({4}, {1, -2, 3, 2147483647});
  ASSERT_OK(saveNpy(dir / "i.npy", i));
  auto ib = loadNpy(dir / "i.npy");
  ASSERT_OK(ib);
  EXPECT_EQ(*ib, i);
  Bytes ibytes = readBytes(dir / "i.npy");
  std::string itext(ibytes.begin(), ibytes.end());
  EXPECT_NE(itext.find("'shape': (4,)"), std::string::npos);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"f.npy", "i.npy"}));  // no temporaries left

  // A header too large for version 1.0 switches to 2.0.
  std::vector<int64_t> longShape(30000, 1);
  Array big = Array::zeros(DType::F32, longShape);
  Bytes enc = encodeNpy(big);
  EXPECT_EQ(enc[6], 2);
  writeBytes(dir / "big.npy", enc);
  auto bb = loadNpy(dir / "big.npy");
  ASSERT_OK(bb);
  EXPECT_EQ(bb->shape().size(), 30000u);
}

TEST(DataNpy, ObjectDtypeRefusedNeverUnpickled) {
  TempDir dir;
  // A pickle payload; it must never be interpreted.
  writeBytes(dir / "obj.npy", npyFile(npyDict("|O", "(2,)"), Bytes{0x80, 0x04, 0x95, 'c', 'o', 's', '.'}));
  EXPECT_FAILS_WITH(loadNpy(dir / "obj.npy"), "obj.npy", "'|O'", "pickled Python objects", "never unpickles");
}

TEST(DataNpy, FortranOrderRefused) {
  TempDir dir;
  writeBytes(dir / "f.npy", npyFile(npyDict("<f4", "(2, 2)", true), leBytes<float>({1, 2, 3, 4})));
  EXPECT_FAILS_WITH(loadNpy(dir / "f.npy"), "f.npy", "fortran_order is True", "C-order", "ascontiguousarray");
}

TEST(DataNpy, UnsupportedDtypes) {
  TempDir dir;
  writeBytes(dir / "u.npy", npyFile(npyDict("<U5", "(1,)"), Bytes(20, 0)));
  EXPECT_FAILS_WITH(loadNpy(dir / "u.npy"), "u.npy", "unsupported dtype '<U5'", "strings", "'<f4'");
  writeBytes(dir / "c.npy", npyFile(npyDict("<c8", "(1,)"), Bytes(8, 0)));
  EXPECT_FAILS_WITH(loadNpy(dir / "c.npy"), "complex");
  writeBytes(dir / "s.npy", npyFile("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", Bytes(8, 0)));
  EXPECT_FAILS_WITH(loadNpy(dir / "s.npy"), "s.npy", "structured");
}

TEST(DataNpy, I64OutOfRange) {
  TempDir dir;
  writeBytes(dir / "big.npy", npyFile(npyDict("<i8", "(3,)"), leBytes<int64_t>({1, 5000000000LL, 2})));
  EXPECT_FAILS_WITH(loadNpy(dir / "big.npy"), "big.npy", "element 1", "5000000000", "does not fit in i32");
  writeBytes(dir / "u4.npy", npyFile(npyDict("<u4", "(1,)"), leBytes<uint32_t>({4000000000u})));
  EXPECT_FAILS_WITH(loadNpy(dir / "u4.npy"), "element 0", "4000000000", "i32");
  writeBytes(dir / "f8.npy", npyFile(npyDict("<f8", "(2,)"), leBytes<double>({1, 1e300})));
  EXPECT_FAILS_WITH(loadNpy(dir / "f8.npy"), "element 1", "too large for f32");
}

TEST(DataNpy, Truncated) {
  TempDir dir;
  Bytes full = npyFile(npyDict("<f4", "(100, 10)"), Bytes(4000, 0));
  Bytes cut(full.begin(), full.end() - 100);
  writeBytes(dir / "d.npy", cut);
  EXPECT_FAILS_WITH(loadNpy(dir / "d.npy"), "d.npy", "truncated", "(100, 10) of float32 (4000 bytes)", "holds 3900 bytes");
  Bytes head(full.begin(), full.begin() + 30);
  writeBytes(dir / "h.npy", head);
  EXPECT_FAILS_WITH(loadNpy(dir / "h.npy"), "h.npy", "truncated", "header");
  writeBytes(dir / "p.npy", Bytes(full.begin(), full.begin() + 7));
  EXPECT_FAILS_WITH(loadNpy(dir / "p.npy"), "p.npy", "truncated");
  Bytes extra = full;
  extra.push_back(0);
  writeBytes(dir / "x.npy", extra);
  EXPECT_FAILS_WITH(loadNpy(dir / "x.npy"), "x.npy", "trailing garbage");
}

TEST(DataNpy, BadMagicAndHeaders) {
  TempDir dir;
  writeText(dir / "t.npy", "x,y\n1,2\n");
  EXPECT_FAILS_WITH(loadNpy(dir / "t.npy"), "t.npy", "not a NumPy .npy file");
  writeText(dir / "z.npy", "PK\x03\x04zzzzzz");
  EXPECT_FAILS_WITH(loadNpy(dir / "z.npy"), "zip");
  Bytes v9 = npyFile(npyDict("<f4", "(1,)"), leBytes<float>({1}));
  v9[6] = 9;
  writeBytes(dir / "v9.npy", v9);
  EXPECT_FAILS_WITH(loadNpy(dir / "v9.npy"), "version 9.0");
  writeBytes(dir / "m.npy", npyFile("{'descr': '<f4', 'shape': (1,), }", leBytes<float>({1})));
  EXPECT_FAILS_WITH(loadNpy(dir / "m.npy"), "m.npy", "'fortran_order' is missing");
  writeBytes(dir / "j.npy", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1,) junk", leBytes<float>({1})));
  EXPECT_FAILS_WITH(loadNpy(dir / "j.npy"), "j.npy", "malformed header");
  writeBytes(dir / "n.npy", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", leBytes<float>({1})));
  EXPECT_FAILS_WITH(loadNpy(dir / "n.npy"), "n.npy", "malformed header");
  std::string deep(10000, '(');
  writeBytes(dir / "deep.npy", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': " + deep, {}));
  EXPECT_FAILS_WITH(loadNpy(dir / "deep.npy"), "deep.npy", "nested too deeply");
}

TEST(DataNpy, HugeClaimFailsFast) {
  TempDir dir;
  writeBytes(dir / "huge.npy", npyFile(npyDict("<f8", "(1000000000000000,)"), Bytes(16, 0)));
  writeBytes(dir / "wrap.npy", npyFile(npyDict("<f8", "(4294967296, 4294967296, 4294967296)"), Bytes(16, 0)));
  writeBytes(dir / "big.npy", npyFile(npyDict("<f8", "(99999999999999999999999,)"), Bytes(16, 0)));
  auto start = std::chrono::steady_clock::now();
  EXPECT_FAILS_WITH(loadNpy(dir / "huge.npy"), "huge.npy", "truncated", "holds 16 bytes");
  EXPECT_FAILS_WITH(loadNpy(dir / "wrap.npy"), "wrap.npy", "absurd shape");
  EXPECT_FAILS_WITH(loadNpy(dir / "big.npy"), "big.npy", "absurd shape");
  // A 2.0 header claiming a 4 GiB header in a tiny file.
  Bytes hl{0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff, 0xff, 0xff, '{'};
  writeBytes(dir / "hl.npy", hl);
  EXPECT_FAILS_WITH(loadNpy(dir / "hl.npy"), "hl.npy", "header length");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(DataNpy, SaveFailsCleanly) {
  TempDir dir;
  writeText(dir / "plain", "x");
  EXPECT_FAILS_WITH(saveNpy(dir / "plain/out.npy", Array::fromF32({1}, {1})), "plain/out.npy", "not a directory");
  EXPECT_FAILS_WITH(saveNpy(dir / "missing/out.npy", Array::fromF32({1}, {1})), "missing", "does not exist");
  EXPECT_FAILS_WITH(saveNpy(dir.path(), Array::fromF32({1}, {1})), "directory");
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"plain"}));
}
