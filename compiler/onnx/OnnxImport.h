#pragma once
// Importing an ONNX model (compiler/onnx): a ModelProto read with protobuf, brought to opset 17
// by libonnx's version converter, checked and shape-inferred by libonnx, then mapped node by
// node onto nnc's graph IR (only today's IR ops, and composites of them).
//
// - Float initializers become Param leaves named as in the file (their values travel in the
//   leaf's `init = "values"` attribute); int64 initializers, Constant nodes and inputs bound
//   with `constants` are import-time values, and int64 shape arithmetic over them (Shape,
//   Gather, Unsqueeze, Concat, Reshape, ...) is folded here.
// - A symbolic first input dimension is nnc's `batch`; every other dimension must be static.
// - The file's layout is kept at the boundary (NCHW): Conv and pooling, which nnc computes
//   channels-last, get transposes around them.
// - Element types: float -> f32; int64/int32 -> i32 (values must fit); bool -> f32 0/1.
//   The declared types are kept in `inputs`/`outputs` so the driver converts at the boundary.
// This header is free of protobuf and libonnx types: only compiler/onnx sees them.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/ir/Model.h"
#include "support/Result.h"

namespace nnc::onnximport {

// ONNX element types nnc meets at a model's boundary (TensorProto.DataType numbers).
enum class ElemType : int32_t { Float = 1, Uint8 = 2, Int8 = 3, Int32 = 6, Int64 = 7, Bool = 9, Double = 11 };
const char* elemTypeName(int32_t onnxType);

// A tensor known when the model is imported (a --const binding, a test's input).
struct ConstTensor {
  int32_t elemType = 1;         // ONNX TensorProto.DataType
  std::vector<int64_t> dims;
  std::vector<double> values;   // row-major; doubles hold every f32, i32 and the int64 used as shapes
};

struct ImportOptions {
  std::map<std::string, ConstTensor> constants;  // graph inputs bound at import
};

struct BoundaryValue {
  std::string name;
  int32_t elemType = 1;  // as the file declares it
};

struct ImportedModel {
  Model model;                          // forward graph; outputs named as in the file
  std::vector<BoundaryValue> inputs;    // the graph inputs left to feed, in file order
  std::vector<BoundaryValue> outputs;   // every graph output, in file order
  int64_t opsetBefore = 0;              // the file's default-domain opset, before conversion
};

// Reads, converts, checks and imports `bytes` (the contents of `path`, which names errors).
Result<ImportedModel> importOnnxBytes(const std::string& bytes, const std::string& path,
                                      const ImportOptions& options = {});
// The same from a file.
Result<ImportedModel> importOnnxFile(const std::string& path, const ImportOptions& options = {});

// Reads a serialized TensorProto (the conformance suite's input_K.pb / output_K.pb).
Result<ConstTensor> readTensorProto(const std::string& bytes, std::string* name = nullptr);

// The ONNX op types the importer maps (for the coverage table).
std::vector<std::string> supportedOnnxOps();

}  // namespace nnc::onnximport
