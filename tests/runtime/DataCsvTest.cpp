// CSV loading: header semantics, number parsing, and errors with line:column.
#include "runtime/data/Csv.h"
#include "tests/runtime/DataTestUtil.h"

using namespace nnc;
using namespace nnc::data;
using namespace nnc::testutil;

namespace {

std::vector<float> floats(const Array& a) { return {a.f32().begin(), a.f32().end()}; }
std::vector<int32_t> ints(const Array& a) { return {a.i32().begin(), a.i32().end()}; }

Result<Dataset> parse(const std::string& text, const CsvOptions& o = {}) { return parseCsv(text, "d.csv", o); }

}  // namespace

TEST(DataCsv, RepeatedNamesGatherColumns) {
  auto d = parse("x,x,x,label\n1,2,3,0\n4,5,6,2\n");
  ASSERT_OK(d);
  ASSERT_EQ(d->arrays.size(), 2u);
  EXPECT_EQ(d->description, "csv:d.csv");
  EXPECT_EQ(d->arrays[0].name, "x");
  EXPECT_EQ(d->arrays[0].array.shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(floats(d->arrays[0].array), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(d->arrays[1].name, "label");
  EXPECT_EQ(d->arrays[1].array.dtype(), DType::I32);
  EXPECT_EQ(d->arrays[1].array.shape(), (std::vector<int64_t>{2}));
  EXPECT_EQ(ints(d->arrays[1].array), (std::vector<int32_t>{0, 2}));
  ASSERT_TRUE(d->labels.has_value());
  EXPECT_EQ(*d->labels, 1u);
}

TEST(DataCsv, IndexedNamesAndSeveralInputs) {
  for (std::string header : {"x[0],x[1],x[2],y", "x.0,x.1,x.2,y", "x.1,x.2,x.3,y"}) {
    auto d = parse(header + "\n1,2,3,1\n");
    ASSERT_OK(d);
    EXPECT_EQ(d->arrays[0].array.shape(), (std::vector<int64_t>{1, 3})) << header;
  }
  // Interleaved inputs: each gathers its own columns in column order.
  auto d = parse("a,b,a,b,b,cls\n1,10,2,20,30,7\n3,40,4,50,60,8\n");
  ASSERT_OK(d);
  ASSERT_EQ(d->arrays.size(), 3u);
  EXPECT_EQ(d->arrays[0].name, "a");
  EXPECT_EQ(floats(d->arrays[0].array), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(d->arrays[1].name, "b");
  EXPECT_EQ(d->arrays[1].array.shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(floats(d->arrays[1].array), (std::vector<float>{10, 20, 30, 40, 50, 60}));
  EXPECT_EQ(ints(d->arrays[2].array), (std::vector<int32_t>{7, 8}));
}

TEST(DataCsv, NumbersQuotesLineEndings) {
  auto d = parse("\xEF\xBB\xBF x , \"x\" ,label\r\n -1.5e2, \"+3\" ,\"4.0\"\r\n\r\n.5,2E-1,0\r\n\r\n  \n");
  ASSERT_OK(d);
  EXPECT_EQ(floats(d->arrays[0].array), (std::vector<float>{-150, 3, 0.5f, 0.2f}));
  EXPECT_EQ(ints(d->arrays[1].array), (std::vector<int32_t>{4, 0}));
  // No trailing newline; blank lines in the middle skipped.
  auto e = parse("x,y\n1,2\n\n3,4");
  ASSERT_OK(e);
  EXPECT_EQ(e->numSamples(), 2);
}

TEST(DataCsv, RealLabelsForRegression) {
  CsvOptions o;
  o.realValuedInputs = {"target"};
  auto d = parse("x,target\n1,0.25\n2,-3.5\n", o);
  ASSERT_OK(d);
  EXPECT_EQ(d->arrays[1].array.dtype(), DType::F32);
  EXPECT_EQ(floats(d->arrays[1].array), (std::vector<float>{0.25f, -3.5f}));
  EXPECT_FAILS_WITH(parse("x,target\n1,0.25\n"), "d.csv:2:3:", "'0.25'", "not an integer class id");
}

// Issue 17 item 7: prediction needs no label. When the caller names its feature inputs, a
// last column naming one of them is a feature, and a label column that is there anyway is
// read without being checked as a class id.
TEST(DataCsv, FeaturesOnlyForPrediction) {
  CsvOptions o;
  o.featureInputs = {"x"};
  auto d = parse("x,x,x\n1,2,3\n4,5,6\n", o);
  ASSERT_OK(d);
  ASSERT_EQ(d->arrays.size(), 1u);
  EXPECT_FALSE(d->labels.has_value());
  EXPECT_EQ(d->arrays[0].array.shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(floats(d->arrays[0].array), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  auto single = parse("x\n1\n2\n", o);
  ASSERT_OK(single);
  EXPECT_EQ(single->arrays[0].array.shape(), (std::vector<int64_t>{2, 1}));
  auto withTarget = parse("x,x,target\n1,2,0.5\n", o);
  ASSERT_OK(withTarget);
  EXPECT_EQ(withTarget->arrays.size(), 2u);
  // Without featureInputs (train, eval) the contract's rule holds: the last column is the label.
  EXPECT_FAILS_WITH(parse("x,x,x\n1,2,3\n"), "names the label input 'x'");
}

TEST(DataCsv, RaggedRows) {
  EXPECT_FAILS_WITH(parse("x,x,label\n1,2,0\n1,2\n"), "d.csv:3:4:", "row has 2 fields but the header has 3 columns");
  EXPECT_FAILS_WITH(parse("x,x,label\n1,2,0,9\n"), "d.csv:2:7:", "row has 4 fields but the header has 3 columns");
  // Line numbers count blank lines and CRLF correctly.
  EXPECT_FAILS_WITH(parse("x,label\r\n1,0\r\n\r\n1\r\n"), "d.csv:4:2:", "row has 1 field but");
}

TEST(DataCsv, NonNumbers) {
  EXPECT_FAILS_WITH(parse("x,x,label\n1,2,0\n1,abc,0\n"), "d.csv:3:3:", "'abc'", "column 2 'x'", "not a finite number");
  EXPECT_FAILS_WITH(parse("x,x,label\n1,,0\n"), "d.csv:2:3:", "empty field", "column 2");
  EXPECT_FAILS_WITH(parse("x,label\nnan,0\n"), "d.csv:2:1:", "'nan'", "not a finite number");
  EXPECT_FAILS_WITH(parse("x,label\n1e400,0\n"), "d.csv:2:1:", "'1e400'");
  EXPECT_FAILS_WITH(parse("x,label\n1e39,0\n"), "d.csv:2:1:", "too large for f32");
  EXPECT_FAILS_WITH(parse("x,label\n1,2.5\n"), "d.csv:2:3:", "label '2.5'", "not an integer class id");
  EXPECT_FAILS_WITH(parse("x,label\n1,cat\n"), "d.csv:2:3:", "'cat'", "integer class id");
  EXPECT_FAILS_WITH(parse("x,label\n1,3000000000\n"), "d.csv:2:3:", "does not fit in i32");
  EXPECT_FAILS_WITH(parse("x,label\n\"1,0\n"), "d.csv:2:1:", "unterminated quoted field");
  EXPECT_FAILS_WITH(parse("x,label\n\"1\"2,0\n"), "d.csv:2:4:", "after a closing quote");
}

TEST(DataCsv, HeaderProblems) {
  EXPECT_FAILS_WITH(parse(""), "d.csv", "empty file");
  EXPECT_FAILS_WITH(parse("\n  \r\n\n"), "d.csv", "empty file");
  EXPECT_FAILS_WITH(parse("1,2,3\n4,5,6\n"), "d.csv:1:1:", "missing header");
  EXPECT_FAILS_WITH(parse("x,,label\n1,2,3\n"), "d.csv:1:3:", "header column 2 has an empty name");
  EXPECT_FAILS_WITH(parse("x, \"\" ,label\n1,2,3\n"), "d.csv:1:4:", "empty name");
  EXPECT_FAILS_WITH(parse("x,sepal length,label\n1,2,3\n"), "d.csv:1:3:", "'sepal length' is not an input name");
  EXPECT_FAILS_WITH(parse("label\n1\n"), "d.csv:1:1:", "single column");
  EXPECT_FAILS_WITH(parse("x,x\n1,2\n"), "d.csv:1:1:", "names the label input 'x'");
  EXPECT_FAILS_WITH(parse("x,x[1],y\n1,2,3\n"), "d.csv:1:3:", "mixes indexed and plain columns");
  EXPECT_FAILS_WITH(parse("x[1],x[1],y\n1,2,3\n"), "d.csv:1:6:", "indices", "increase");
  EXPECT_FAILS_WITH(parse("x[2],x[1],y\n1,2,3\n"), "must increase");
  EXPECT_FAILS_WITH(parse("x,y\n"), "d.csv:1:1:", "no data rows");
}

TEST(DataCsv, FilesPlainAndGzip) {
  TempDir dir;
  std::string text = "x,x,label\n1,2,0\n3,4,1\n";
  writeText(dir / "a.csv", text);
  writeBytes(dir / "a.csv.gz", gzipBytes(Bytes(text.begin(), text.end())));
  for (const char* name : {"a.csv", "a.csv.gz"}) {
    auto d = loadCsv(dir / name);
    ASSERT_OK(d);
    EXPECT_EQ(d->numSamples(), 2);
    EXPECT_EQ(d->description, "csv:" + (dir / name));
  }
  EXPECT_FAILS_WITH(loadCsv(dir / "missing.csv"), "missing.csv", "No such file");
  writeBytes(dir / "bin.csv", Bytes{'x', 0, 1, 2});
  EXPECT_FAILS_WITH(loadCsv(dir / "bin.csv"), "bin.csv", "not a text file");
  writeText(dir / "bad.csv", "x,label\n1,0\n2\n");
  EXPECT_FAILS_WITH(loadCsv(dir / "bad.csv"), dir / "bad.csv:3:2:");
}
