#pragma once
// Reading an ONNX file into a ModelProto at opset 17, checked and shape-inferred by libonnx.
#include <onnx/onnx_pb.h>

#include <string>

#include "support/Result.h"

namespace nnc::onnximport {

inline constexpr int64_t kTargetOpset = 17;

struct ReadModel {
  onnx::ModelProto model;
  int64_t opsetBefore = 0;
};

// `bytes` is the file's contents; `path` names it in errors.
Result<ReadModel> readOnnxModel(const std::string& bytes, const std::string& path);

}  // namespace nnc::onnximport
