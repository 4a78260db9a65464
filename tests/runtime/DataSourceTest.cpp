// --data strings, loading the sources, binding to model inputs, label checks.
#include <cstdlib>
#include <cstring>
#include <limits>

#include "runtime/data/DataSource.h"
#include "runtime/data/Npy.h"
#include "tests/runtime/DataTestUtil.h"

using namespace nnc;
using namespace nnc::data;
using namespace nnc::testutil;

namespace {

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

Bytes images(uint32_t n, uint32_t h, uint32_t w) {
  Bytes px(size_t(n) * h * w);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i);
  return idxFile(0x08, {n, h, w}, px);
}

Bytes labels(std::vector<uint8_t> values) { return idxFile(0x08, {uint32_t(values.size())}, values); }

std::vector<InputSpec> mlpInputs() { return {{"image", false, {28, 28}}, {"label", true, {}}}; }

}  // namespace

TEST(DataSource, ParsesEveryForm) {
  auto f = parseDataSource("fashion-mnist");
  ASSERT_OK(f);
  EXPECT_EQ(f->kind, DataSource::Kind::FashionMnist);
  EXPECT_FALSE(f->split.has_value());
  auto ft = parseDataSource("fashion-mnist:test");
  ASSERT_OK(ft);
  EXPECT_EQ(ft->split, Split::Test);
  auto fr = parseDataSource("fashion-mnist:train");
  ASSERT_OK(fr);
  EXPECT_EQ(fr->split, Split::Train);
  auto i = parseDataSource("idx:a/img.gz,b/lab");
  ASSERT_OK(i);
  EXPECT_EQ(i->imagesPath, "a/img.gz");
  EXPECT_EQ(i->labelsPath, "b/lab");
  auto n = parseDataSource("npy:image=x.npy,label=y.npy");
  ASSERT_OK(n);
  ASSERT_EQ(n->npyFiles.size(), 2u);
  EXPECT_EQ(n->npyFiles[1], (std::pair<std::string, std::string>{"label", "y.npy"}));
  auto c = parseDataSource("csv:dir/data.csv");
  ASSERT_OK(c);
  EXPECT_EQ(c->csvPath, "dir/data.csv");
}

TEST(DataSource, ParseErrors) {
  EXPECT_FAILS_WITH(parseDataSource("fashion-mnist:val"), "unknown Fashion-MNIST split 'val'", "train or test");
  EXPECT_FAILS_WITH(parseDataSource("idx:"), "idx:IMAGES,LABELS");
  EXPECT_FAILS_WITH(parseDataSource("idx:a,b,c"), "idx:IMAGES,LABELS");
  EXPECT_FAILS_WITH(parseDataSource("npy:x.npy"), "'x.npy' is not NAME=FILE");
  EXPECT_FAILS_WITH(parseDataSource("npy:x=a.npy,x=b.npy"), "input 'x' is given twice");
  EXPECT_FAILS_WITH(parseDataSource("csv:"), "csv:FILE");
  EXPECT_FAILS_WITH(parseDataSource("mnist"), "unknown data source", "fashion-mnist", "csv:FILE");
  EXPECT_FAILS_WITH(parseDataSource("data.csv"), "did you mean csv:data.csv?");
  EXPECT_FAILS_WITH(parseDataSource("x.npy"), "did you mean npy:NAME=x.npy?");
}

TEST(DataSource, IdxPairBindsByPosition) {
  TempDir dir;
  writeBytes(dir / "img.gz", gzipBytes(images(3, 28, 28)));
  writeBytes(dir / "lab", labels({1, 0, 9}));
  auto d = loadData("idx:" + (dir / "img.gz") + "," + (dir / "lab"), Split::Train);
  ASSERT_OK(d);
  EXPECT_TRUE(d->positional);
  EXPECT_EQ(d->numSamples(), 3);
  ASSERT_NE(d->labelArray(), nullptr);
  ASSERT_OK(checkLabels(*d->labelArray(), 10, d->description));

  // Direct, and reshaped to flat or channel-last inputs.
  for (std::vector<int64_t> shape : {std::vector<int64_t>{28, 28}, {784}, {28, 28, 1}}) {
    auto bound = bindInputs(*d, {{"image", false, shape}, {"label", true, {}}});
    ASSERT_OK(bound);
    ASSERT_EQ(bound->size(), 2u);
    std::vector<int64_t> want{3};
    want.insert(want.end(), shape.begin(), shape.end());
    EXPECT_EQ((*bound)[0].shape(), want);
    EXPECT_EQ((*bound)[0].dtype(), DType::F32);
    EXPECT_EQ((*bound)[0].f32()[785], float(uint8_t(785)));
    EXPECT_EQ((*bound)[1].dtype(), DType::I32);
    EXPECT_EQ((*bound)[1].i32()[2], 9);
  }
  // One input: the images only.
  auto one = bindInputs(*d, {{"x", false, {784}}});
  ASSERT_OK(one);
  EXPECT_EQ(one->size(), 1u);
  // Labels into an f32 input convert.
  auto reg = bindInputs(*d, {{"x", false, {784}}, {"y", false, {1}}});
  ASSERT_OK(reg);
  EXPECT_EQ((*reg)[1].dtype(), DType::F32);
  EXPECT_EQ((*reg)[1].shape(), (std::vector<int64_t>{3, 1}));
  // Moving the dataset in avoids copies and gives the same result.
  auto moved = bindInputs(std::move(*d), mlpInputs());
  ASSERT_OK(moved);
  EXPECT_EQ((*moved)[1].i32()[0], 1);
}

TEST(DataSource, BindingShapeAndCountErrors) {
  TempDir dir;
  writeBytes(dir / "img", images(3, 28, 28));
  writeBytes(dir / "lab", labels({1, 0, 9}));
  auto d = loadData("idx:" + (dir / "img") + "," + (dir / "lab"), Split::Train);
  ASSERT_OK(d);
  EXPECT_FAILS_WITH(bindInputs(*d, {{"image", false, {32, 32, 3}}, {"label", true, {}}}), "idx:", "images",
                    "per-sample shape [28, 28] (784 values)", "input 'image' is f32[batch, 32, 32, 3] (3072 values");
  EXPECT_FAILS_WITH(bindInputs(*d, {{"a", false, {784}}, {"b", true, {}}, {"c", false, {2}}}),
                    "provides images and labels", "the model has 3 inputs: a, b, c", "npy:NAME=FILE");
  // An f32 input holding non-integers cannot become i32.
  writeBytes(dir / "fimg", idxFile(0x0D, {1, 2}, {0x3f, 0xc0, 0, 0, 0x3f, 0xc0, 0, 0}));
  writeBytes(dir / "one", labels({1}));
  auto f = loadData("idx:" + (dir / "fimg") + "," + (dir / "one"), Split::Train);
  ASSERT_OK(f);
  EXPECT_FAILS_WITH(bindInputs(*f, {{"tokens", true, {2}}, {"label", true, {}}}), "input 'tokens'",
                    "expected integer values (i32)", "sample 0", "1.5");
  // Mismatched counts between images and labels.
  writeBytes(dir / "lab2", labels({1, 0}));
  EXPECT_FAILS_WITH(loadData("idx:" + (dir / "img") + "," + (dir / "lab2"), Split::Train),
                    "mismatched sample counts", "'images'", "holds 3 samples", "'labels'", "lab2", "holds 2");
  // Images only, bound to a model that wants labels too.
  auto imagesOnly = loadData("idx:" + (dir / "img"), Split::Train);
  ASSERT_OK(imagesOnly);
  EXPECT_FAILS_WITH(bindInputs(*imagesOnly, mlpInputs()), "provides images only", "idx:IMAGES,LABELS");
  ASSERT_OK(bindInputs(*imagesOnly, {{"image", false, {28, 28}}}));
}

TEST(DataSource, NpyBindsByName) {
  TempDir dir;
  ASSERT_OK(saveNpy(dir / "x.npy", Array::fromF32({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8})));
  ASSERT_OK(saveNpy(dir / "y.npy", Array::fromF32({2}, {1, 0})));
  ASSERT_OK(saveNpy(dir / "y3.npy", Array::fromI32({3}, {1, 0, 1})));
  std::string src = "npy:label=" + (dir / "y.npy") + ",image=" + (dir / "x.npy");
  auto d = loadData(src, Split::Train);
  ASSERT_OK(d);
  EXPECT_FALSE(d->positional);
  auto b = bindInputs(*d, {{"image", false, {2, 2}}, {"label", true, {}}});
  ASSERT_OK(b);
  EXPECT_EQ((*b)[0].shape(), (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ((*b)[1].dtype(), DType::I32);  // f32 labels holding integers convert
  EXPECT_EQ((*b)[1].i32()[0], 1);
  EXPECT_FAILS_WITH(bindInputs(*d, {{"img", false, {4}}, {"label", true, {}}}), "array 'image'", "x.npy",
                    "matches no input", "the model's inputs are: img, label");
  EXPECT_FAILS_WITH(bindInputs(*d, {{"image", false, {4}}, {"label", true, {}}, {"weights", false, {}}}),
                    "no data for input 'weights'", "the model's inputs are: image, label, weights",
                    "the data provides: label, image");
  EXPECT_FAILS_WITH(bindInputs(*d, {{"imag", false, {4}}, {"label", true, {}}}), "did you mean");
  // predict passes only the inputs it needs and ignores the rest.
  BindOptions lenient;
  lenient.ignoreUnusedArrays = true;
  auto p = bindInputs(*d, {{"image", false, {4}}}, lenient);
  ASSERT_OK(p);
  EXPECT_EQ(p->size(), 1u);
  // Wrong dtype content: float labels that are not integers.
  ASSERT_OK(saveNpy(dir / "yf.npy", Array::fromF32({2}, {0.5f, 1})));
  auto df = loadData("npy:image=" + (dir / "x.npy") + ",label=" + (dir / "yf.npy"), Split::Train);
  ASSERT_OK(df);
  EXPECT_FAILS_WITH(bindInputs(*df, {{"image", false, {4}}, {"label", true, {}}}), "yf.npy", "input 'label'",
                    "i32[batch]", "sample 0", "0.5");
  // Mismatched counts across files.
  EXPECT_FAILS_WITH(loadData("npy:image=" + (dir / "x.npy") + ",label=" + (dir / "y3.npy"), Split::Train),
                    "mismatched sample counts", "x.npy", "2 samples", "y3.npy", "3");
  // A scalar has no samples.
  ASSERT_OK(saveNpy(dir / "s.npy", Array::fromF32({}, {1})));
  EXPECT_FAILS_WITH(loadData("npy:image=" + (dir / "s.npy"), Split::Train), "s.npy", "scalar");
  EXPECT_FAILS_WITH(loadData("npy:image=" + (dir / "nope.npy"), Split::Train), "nope.npy", "No such file");
}

TEST(DataSource, CsvBindsByHeaderName) {
  TempDir dir;
  writeText(dir / "d.csv", "x[0],x[1],x[2],x[3],label\n1,2,3,4,0\n5,6,7,8,1\n");
  auto specs = std::vector<InputSpec>{{"x", false, {2, 2}}, {"label", true, {}}};
  auto d = loadData("csv:" + (dir / "d.csv"), Split::Train, specs);
  ASSERT_OK(d);
  auto b = bindInputs(*d, specs);
  ASSERT_OK(b);
  EXPECT_EQ((*b)[0].shape(), (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ((*b)[1].i32()[1], 1);
  EXPECT_FAILS_WITH(bindInputs(*d, {{"features", false, {4}}, {"label", true, {}}}), "array 'x'", "matches no input");
  // A regression target declared f32 reads real values from the label column.
  writeText(dir / "r.csv", "x,y\n1,0.5\n2,1.5\n");
  auto rspecs = std::vector<InputSpec>{{"x", false, {1}}, {"y", false, {}}};
  auto r = loadData("csv:" + (dir / "r.csv"), Split::Train, rspecs);
  ASSERT_OK(r);
  auto rb = bindInputs(*r, rspecs);
  ASSERT_OK(rb);
  EXPECT_EQ((*rb)[1].f32()[1], 1.5f);
}

TEST(DataSource, CheckLabels) {
  ASSERT_OK(checkLabels(Array::fromI32({3}, {0, 9, 5}), 10, "src"));
  EXPECT_FAILS_WITH(checkLabels(Array::fromI32({4}, {0, 9, 12, -1}), 10, "fashion-mnist:train"),
                    "fashion-mnist:train", "label 12 of sample 2", "outside", "10 classes");
  EXPECT_FAILS_WITH(checkLabels(Array::fromI32({2}, {0, -1}), 10, "src"), "label -1 of sample 1");
  EXPECT_FAILS_WITH(checkLabels(Array::fromF32({2}, {0, 1.5f}), 10, "src"), "label 1.5 of sample 1", "not an integer");
  EXPECT_FAILS_WITH(checkLabels(Array::fromI32({2, 2}, {0, 1, 1, 7}), 5, "src"), "label 7 of sample 1");
}

TEST(DataSource, FashionMnistMissingSaysWhatToInstall) {
  TempDir dir;
  ScopedEnv env("NNC_FASHION_MNIST_DIR", dir / "none");
  EXPECT_EQ(fashionMnistDir(), dir / "none");
  EXPECT_FAILS_WITH(loadData("fashion-mnist", Split::Train), "fashion-mnist:train", "train-images-idx3-ubyte.gz",
                    "not found", "NNC_FASHION_MNIST_DIR", "dataset-fashion-mnist");
  EXPECT_FAILS_WITH(loadFashionMnist(Split::Test, dir / "absent"), "fashion-mnist:test", "t10k-images-idx3-ubyte.gz",
                    "apt-get install dataset-fashion-mnist");
}

TEST(DataSource, FashionMnistFromOverrideDirectory) {
  TempDir dir;
  writeBytes(dir / "t10k-images-idx3-ubyte.gz", gzipBytes(images(5, 28, 28)));
  writeBytes(dir / "t10k-labels-idx1-ubyte", labels({0, 1, 2, 3, 4}));  // plain accepted too
  ScopedEnv env("NNC_FASHION_MNIST_DIR", dir.path());
  auto d = loadData("fashion-mnist", Split::Test);
  ASSERT_OK(d);
  EXPECT_EQ(d->description, "fashion-mnist:test");
  EXPECT_EQ(d->numSamples(), 5);
  EXPECT_FAILS_WITH(loadData("fashion-mnist:train", Split::Test), "fashion-mnist:train", "not found");
  writeBytes(dir / "t10k-labels-idx1-ubyte", labels({0, 1, 2}));
  EXPECT_FAILS_WITH(loadData("fashion-mnist:test", Split::Train), "mismatched sample counts");
}

// Issue 17 item 3: NaN or infinity in NPY (and float IDX) data is refused at load, as csv
// refuses it, naming the file, the sample and the position in it.
TEST(DataSource, NonFiniteValuesAreRefusedAtLoad) {
  TempDir dir;
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  ASSERT_OK(saveNpy(dir / "x.npy", Array::fromF32({3, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, nan, 11})));
  ASSERT_OK(saveNpy(dir / "y.npy", Array::fromF32({3}, {1, -inf, 0})));
  ASSERT_OK(saveNpy(dir / "ok.npy", Array::fromF32({3}, {1, 0, 1})));
  EXPECT_FAILS_WITH(loadData("npy:x=" + (dir / "x.npy") + ",y=" + (dir / "ok.npy"), Split::Train),
                    dir / "x.npy", "sample 2, position [1, 0] is NaN", "finite");
  EXPECT_FAILS_WITH(loadData("npy:x=" + (dir / "ok.npy") + ",y=" + (dir / "y.npy"), Split::Train),
                    dir / "y.npy", "sample 1 is -inf");
  ASSERT_OK(saveNpy(dir / "two.npy", Array::fromF32({2, 2}, {inf, 1, nan, 3})));
  EXPECT_FAILS_WITH(loadData("npy:x=" + (dir / "two.npy"), Split::Train), "sample 0, position [0] is inf",
                    "the first of 2 values");

  // A float IDX file (type 0x0D, big-endian f32) holding NaN.
  Bytes payload;
  for (float v : {1.0f, nan}) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    appendBE32(payload, bits);
  }
  writeBytes(dir / "img.idx", idxFile(0x0D, {2, 1}, payload));
  EXPECT_FAILS_WITH(loadData("idx:" + (dir / "img.idx"), Split::Train), dir / "img.idx", "sample 1, position [0] is NaN");
  ASSERT_OK(loadData("npy:x=" + (dir / "ok.npy"), Split::Train));
}
