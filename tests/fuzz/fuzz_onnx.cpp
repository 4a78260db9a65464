// libFuzzer target: the ONNX reader and importer (`nnc FILE.onnx ...`): protobuf parsing,
// libonnx's checker, version converter and shape inference, then the mapping onto nnc's IR.
// Truncated or garbage protobuf, absurd dimensions, cycles, missing inputs and huge attribute
// lists must all come back as errors.
#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/onnx/OnnxImport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto r = nnc::onnximport::importOnnxBytes(bytes, "fuzz.onnx");
  (void)r;
  return 0;
}
