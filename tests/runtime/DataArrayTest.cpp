// The Array type, dtype conversion, and the atomic file writer underneath the savers.
#include <sys/stat.h>

#include "runtime/data/Array.h"
#include "runtime/support/AtomicFile.h"
#include "tests/runtime/DataTestUtil.h"

using namespace nnc;
using namespace nnc::data;
using namespace nnc::testutil;

TEST(DataArray, ShapeHelpersAndViews) {
  Array a = Array::zeros(DType::F32, {4, 2, 3});
  EXPECT_EQ(a.numel(), 24);
  EXPECT_EQ(a.numSamples(), 4);
  EXPECT_EQ(a.sampleShape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.sampleNumel(), 6);
  EXPECT_EQ(a.byteSize(), 96u);
  EXPECT_EQ(a.view<float>().size(), 24u);
  EXPECT_TRUE(a.view<int32_t>().empty());  // wrong dtype: an empty view, never reinterpreted
  a.f32()[5] = 2.5f;
  EXPECT_EQ(static_cast<const float*>(a.data())[5], 2.5f);
  ASSERT_OK(a.reshape({4, 6}));
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{4, 6}));
  EXPECT_FALSE(a.reshape({5, 5}).ok());
  Array labels = Array::fromI32({3}, {1, 2, 3});
  EXPECT_EQ(labels.sampleNumel(), 1);
  EXPECT_TRUE(labels.sampleShape().empty());
  EXPECT_EQ(shapeString({60000, 28, 28}), "[60000, 28, 28]");
  EXPECT_STREQ(dtypeName(DType::I32), "i32");
}

TEST(DataArray, Conversion) {
  auto f = convertArray(Array::fromI32({2}, {3, -4}), DType::F32, "x");
  ASSERT_OK(f);
  EXPECT_EQ(f->f32()[1], -4.0f);
  auto i = convertArray(Array::fromF32({2}, {3, -4}), DType::I32, "x");
  ASSERT_OK(i);
  EXPECT_EQ(i->i32()[0], 3);
  EXPECT_FAILS_WITH(convertArray(Array::fromF32({2, 2}, {1, 2, 3, 3.5f}), DType::I32, "input 'ids'"), "input 'ids'",
                    "sample 1 (element 1 of it) holds 3.5");
  EXPECT_FAILS_WITH(convertArray(Array::fromF32({1}, {1e10f}), DType::I32, "y"), "sample 0");
}

TEST(DataArray, AtomicFileCommitAndAbandon) {
  TempDir dir;
  writeText(dir / "out", "old");
  {
    auto f = io::AtomicFile::create(dir / "out");
    ASSERT_OK(f);
    ASSERT_OK(f->write("new", 3));
    EXPECT_EQ(dir.list().size(), 2u);  // the temporary sits beside the target
    // Dropped without commit: the temporary goes, the target stays.
  }
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"out"}));
  EXPECT_EQ(readBytes(dir / "out"), (Bytes{'o', 'l', 'd'}));
  {
    auto f = io::AtomicFile::create(dir / "out");
    ASSERT_OK(f);
    ASSERT_OK(f->write("new!", 4));
    ASSERT_OK(f->commit());
    EXPECT_FALSE(f->commit().ok());  // once only
  }
  EXPECT_EQ(readBytes(dir / "out"), (Bytes{'n', 'e', 'w', '!'}));
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"out"}));
  // The final file gets ordinary permissions (0666 less the umask), not a temp file's 0600.
  mode_t mask = umask(022);
  umask(mask);
  struct stat st;
  ASSERT_EQ(stat((dir / "out").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666u & ~mask);
  ASSERT_OK(io::writeFileAtomically(dir / "other", "abc", 3));
  EXPECT_EQ(readBytes(dir / "other"), (Bytes{'a', 'b', 'c'}));
}
