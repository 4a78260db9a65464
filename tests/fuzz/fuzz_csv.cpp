// Fuzz target: the CSV loader (`--data csv:FILE`): loadCsv on the input as a file, which
// covers gzip detection and the NUL check before parseCsv. Each input is loaded twice: with
// the label column read as class ids, and as a real-valued target (when the model declares
// the label input f32), so both paths are explored.
#include "ArrayCheck.h"
#include "runtime/data/Csv.h"

namespace {
void load(const std::string& path, const nnc::data::CsvOptions& options) {
  nnc::Result<nnc::data::Dataset> d = nnc::data::loadCsv(path, options);
  if (!d.ok()) return;
  NNC_FUZZ_CHECK(!d->arrays.empty());
  for (const nnc::data::NamedArray& a : d->arrays) nnc::fuzz::checkArray(a.array);
  NNC_FUZZ_CHECK(nnc::data::checkSampleCounts(*d).ok());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::MemFile file(data, size);
  load(file.path(), {});
  nnc::data::CsvOptions realValued;
  realValued.realValuedInputs = {"y", "label", "target"};
  load(file.path(), realValued);
  return 0;
}
