// The real Fashion-MNIST from the Debian package dataset-fashion-mnist, when installed.
#include <sys/stat.h>

#include <algorithm>

#include "runtime/data/DataSource.h"
#include "tests/runtime/DataTestUtil.h"

using namespace nnc;
using namespace nnc::data;

namespace {

bool installed() {
  struct stat st;
  return stat(fashionMnistDir().c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void checkSplit(const char* source, Split defaultSplit, int64_t n) {
  auto d = loadData(source, defaultSplit);
  ASSERT_OK(d);
  ASSERT_EQ(d->arrays.size(), 2u);
  const Array& images = d->arrays[*d->images].array;
  const Array& labels = *d->labelArray();
  EXPECT_EQ(images.shape(), (std::vector<int64_t>{n, 28, 28}));
  EXPECT_EQ(images.dtype(), DType::F32);
  EXPECT_EQ(labels.shape(), (std::vector<int64_t>{n}));
  EXPECT_EQ(labels.dtype(), DType::I32);
  ASSERT_OK(checkLabels(labels, 10, d->description));
  // Raw pixel values 0..255 (normalisation is the model's job), every class present.
  auto px = images.f32();
  auto [lo, hi] = std::minmax_element(px.begin(), px.end());
  EXPECT_EQ(*lo, 0.0f);
  EXPECT_EQ(*hi, 255.0f);
  std::vector<int64_t> perClass(10);
  for (int32_t l : labels.i32()) perClass[size_t(l)]++;
  for (int64_t c : perClass) EXPECT_EQ(c, n / 10);  // Fashion-MNIST is balanced
  // Binds to the contract's MLP inputs.
  auto bound = bindInputs(std::move(*d), {{"image", false, {28, 28}}, {"label", true, {}}});
  ASSERT_OK(bound);
  EXPECT_EQ((*bound)[0].numSamples(), n);
}

}  // namespace

TEST(DataFashionMnist, TrainSplit) {
  if (!installed()) GTEST_SKIP() << fashionMnistDir() << " absent (apt-get install dataset-fashion-mnist)";
  checkSplit("fashion-mnist:train", Split::Test, 60000);
}

TEST(DataFashionMnist, TestSplit) {
  if (!installed()) GTEST_SKIP() << fashionMnistDir() << " absent (apt-get install dataset-fashion-mnist)";
  checkSplit("fashion-mnist:test", Split::Train, 10000);
}

TEST(DataFashionMnist, DefaultSplitFollowsTheCommand) {
  if (!installed()) GTEST_SKIP() << fashionMnistDir() << " absent (apt-get install dataset-fashion-mnist)";
  auto d = loadData("fashion-mnist", Split::Test);
  ASSERT_OK(d);
  EXPECT_EQ(d->description, "fashion-mnist:test");
  EXPECT_EQ(d->numSamples(), 10000);
}
