// Fuzz target: the safetensors reader behind `--init` and `--weights`. A checkpoint that
// loads is written again and re-read: nnc must read back what it writes.
#include <unistd.h>

#include <cstring>

#include "ArrayCheck.h"
#include "runtime/checkpoint/Safetensors.h"

namespace {
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
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::MemFile file(data, size);
  nnc::Result<nnc::ckpt::Checkpoint> c = nnc::ckpt::readSafetensors(file.path());
  if (!c.ok()) return 0;
  for (const auto& [name, array] : c->tensors) nnc::fuzz::checkArray(array);

  // Round trip through a real file (the writer renames a temporary in the same directory),
  // on tmpfs when there is one: the writer fsyncs, which costs milliseconds on a disk.
  static const ScratchDir scratch;
  std::string path = scratch.path + "/roundtrip.safetensors";
  NNC_FUZZ_CHECK(nnc::ckpt::writeSafetensors(path, *c).ok());
  nnc::Result<nnc::ckpt::Checkpoint> again = nnc::ckpt::readSafetensors(path);
  NNC_FUZZ_CHECK(again.ok());
  NNC_FUZZ_CHECK(again->metadata == c->metadata);
  NNC_FUZZ_CHECK(again->tensors.size() == c->tensors.size());
  for (const auto& [name, array] : c->tensors) {
    auto it = again->tensors.find(name);
    NNC_FUZZ_CHECK(it != again->tensors.end());
    NNC_FUZZ_CHECK(it->second.shape() == array.shape() && it->second.dtype() == array.dtype());
    NNC_FUZZ_CHECK(array.byteSize() == 0 || std::memcmp(it->second.data(), array.data(), array.byteSize()) == 0);
  }
  return 0;
}
