#pragma once
// The data and checkpoint readers, each given the input as a file: IDX (plain and gzip, each
// dtype rule), NPY (then written and re-read), CSV (class-id and real-valued labels) and
// safetensors (then written and re-read). Shared by the fuzz_* targets and the regression
// replay in tests/hostile/FuzzRegressionTest.cpp.
#include <unistd.h>

#include <cstring>
#include <optional>

#include "ArrayCheck.h"
#include "runtime/checkpoint/Safetensors.h"
#include "runtime/data/Csv.h"
#include "runtime/data/Idx.h"
#include "runtime/data/Npy.h"

namespace nnc::fuzz {

inline void fuzzIdx(const uint8_t* data, size_t size) {
  MemFile file(data, size);
  for (std::optional<data::DType> as : {std::optional<data::DType>(), std::optional(data::DType::F32),
                                        std::optional(data::DType::I32)}) {
    Result<data::Array> a = data::loadIdx(file.path(), as);
    if (a.ok()) checkArray(*a);
  }
}

// What nnc writes (`predict --out`) it must read back unchanged.
inline void fuzzNpy(const uint8_t* data, size_t size) {
  MemFile file(data, size);
  Result<data::Array> a = data::loadNpy(file.path());
  if (!a.ok()) return;
  checkArray(*a);
  std::vector<uint8_t> bytes = data::encodeNpy(*a);
  MemFile again(bytes.data(), bytes.size());
  Result<data::Array> b = data::loadNpy(again.path());
  NNC_FUZZ_CHECK(b.ok());
  NNC_FUZZ_CHECK(b->shape() == a->shape() && b->dtype() == a->dtype());
  // Bitwise, not ==: NaN payloads must survive too.
  NNC_FUZZ_CHECK(a->byteSize() == 0 || std::memcmp(b->data(), a->data(), a->byteSize()) == 0);
}

inline void loadCsvAndCheck(const std::string& path, const data::CsvOptions& options) {
  Result<data::Dataset> d = data::loadCsv(path, options);
  if (!d.ok()) return;
  NNC_FUZZ_CHECK(!d->arrays.empty());
  for (const data::NamedArray& a : d->arrays) checkArray(a.array);
  NNC_FUZZ_CHECK(data::checkSampleCounts(*d).ok());
}

// loadCsv covers gzip detection and the NUL check before parseCsv. Each input is loaded with
// the label column read as class ids, and as a real-valued target (a model whose label input
// is f32), so both paths are explored.
inline void fuzzCsv(const uint8_t* data, size_t size) {
  MemFile file(data, size);
  loadCsvAndCheck(file.path(), {});
  data::CsvOptions realValued;
  realValued.realValuedInputs = {"y", "label", "target"};
  loadCsvAndCheck(file.path(), realValued);
}

// A scratch directory for the safetensors round trip, on tmpfs when there is one: the
// writer fsyncs, which costs milliseconds on a disk.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    path = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm/nnc-fuzz-XXXXXX" : "/tmp/nnc-fuzz-XXXXXX";
    if (!::mkdtemp(path.data())) __builtin_trap();
  }
  ~ScratchDir() {
    ::unlink((path + "/roundtrip.safetensors").c_str());
    ::rmdir(path.c_str());
  }
};

// A checkpoint that loads is written again and re-read: nnc must read back what it writes.
inline void fuzzSafetensors(const uint8_t* data, size_t size) {
  MemFile file(data, size);
  Result<ckpt::Checkpoint> c = ckpt::readSafetensors(file.path());
  if (!c.ok()) return;
  for (const auto& [name, array] : c->tensors) checkArray(array);

  static const ScratchDir scratch;
  std::string path = scratch.path + "/roundtrip.safetensors";
  NNC_FUZZ_CHECK(ckpt::writeSafetensors(path, *c).ok());
  Result<ckpt::Checkpoint> again = ckpt::readSafetensors(path);
  NNC_FUZZ_CHECK(again.ok());
  NNC_FUZZ_CHECK(again->metadata == c->metadata);
  NNC_FUZZ_CHECK(again->tensors.size() == c->tensors.size());
  for (const auto& [name, array] : c->tensors) {
    auto it = again->tensors.find(name);
    NNC_FUZZ_CHECK(it != again->tensors.end());
    NNC_FUZZ_CHECK(it->second.shape() == array.shape() && it->second.dtype() == array.dtype());
    NNC_FUZZ_CHECK(array.byteSize() == 0 || std::memcmp(it->second.data(), array.data(), array.byteSize()) == 0);
  }
}

}  // namespace nnc::fuzz
