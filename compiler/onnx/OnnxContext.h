#pragma once
// The state of one import, shared by the op mappings (OnnxOps*.cpp): the graph being built,
// what each ONNX value name stands for, and helpers that read the current node's inputs and
// attributes and turn failures into errors naming the node.
#include <onnx/onnx_pb.h>

#include <climits>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compiler/ir/Graph.h"
#include "compiler/onnx/OnnxImport.h"

namespace nnc::onnximport {

// ONNX's negative axes count from the end (range checks are the caller's).
inline int64_t normAxis(int64_t axis, size_t rank) { return axis < 0 ? axis + static_cast<int64_t>(rank) : axis; }

// In a mapper returning Result<void>: `TRY_NODE(y, ctx.op(...));` names the new node y, or
// returns the error.
#define TRY_NODE(var, expr)            \
  auto var##_r = (expr);               \
  if (!var##_r) return var##_r.error(); \
  NodeId var = *var##_r

// TensorProto element types the importer reads (onnx.proto's DataType numbers).
inline constexpr int32_t kFloat = 1, kInt64 = 7, kBool = 9;

// The domain of ONNX's training operators; of them nnc maps Gradient (its autodiff answers it).
inline constexpr const char* kPreviewTrainingDomain = "ai.onnx.preview.training";

// A folded int64 that stands for the run-time batch size (Shape of a batched tensor). Exact
// in a double; arithmetic on it is refused rather than folded into a wrong number.
inline constexpr double kBatchMarker = -9007199254740991.0;
// The batch marker among the integers ImportContext::ints returns (nnc's kBatch is -1, which
// ONNX's Reshape reads as "infer").
inline constexpr int64_t kBatchInt = INT64_MIN;

// What an ONNX value name stands for: an import-time tensor, or a node of the graph (with the
// ONNX element type it carries, since bool and int64 share nnc's f32 and i32).
struct Value {
  std::optional<ConstTensor> constant;
  NodeId node = kNoNode;
  int32_t elemType = 1;
};

class ImportContext {
 public:
  explicit ImportContext(Graph& g) : g(g) {}
  Graph& g;
  std::map<std::string, Value> values;
  const onnx::NodeProto* node = nullptr;

  // "node 'conv1' (Conv)"
  std::string where() const;
  Error error(const std::string& message) const { return makeError(where() + ": " + message); }

  size_t numInputs() const { return static_cast<size_t>(node->input_size()); }
  bool hasInput(size_t i) const { return i < numInputs() && !node->input(static_cast<int>(i)).empty(); }
  const Value& value(size_t i) const;
  // The input as an import-time tensor, or null when it is only known at run time.
  const ConstTensor* constant(size_t i) const;
  // The input as integers known at import (shapes, axes); an error when it is not.
  Result<std::vector<int64_t>> ints(size_t i, const std::string& what) const;
  // The input as a graph node (import-time tensors become Constant nodes).
  Result<NodeId> in(size_t i);
  int32_t elemType(size_t i) const { return value(i).elemType; }
  // By value: adding nodes moves the graph's storage.
  Shape shape(NodeId id) const { return g.type(id).shape; }
  size_t rank(NodeId id) const { return g.type(id).shape.rank(); }

  // g.add, with a failing shape rule reported against the ONNX node.
  Result<NodeId> op(OpKind k, std::vector<NodeId> inputs, Attrs attrs = {});
  NodeId scalar(double v) { return g.addScalar(v); }
  Result<NodeId> materialize(const ConstTensor& t);
  Result<NodeId> reshape(NodeId x, std::vector<int64_t> dims);  // dims may start with kBatch
  Result<NodeId> transpose(NodeId x, std::vector<int64_t> perm);

  void setOutput(size_t i, NodeId id, int32_t elemType = 1);
  void setOutput(size_t i, ConstTensor t);
  size_t numOutputs() const { return static_cast<size_t>(node->output_size()); }
  bool wantsOutput(size_t i) const { return i < numOutputs() && !node->output(static_cast<int>(i)).empty(); }
  // Whether a later node or a graph output reads output i (PyTorch's training-mode exports
  // name BatchNormalization's running statistics and Dropout's mask, and read neither).
  bool outputUsed(size_t i) const { return wantsOutput(i) && consumed.count(node->output(static_cast<int>(i))) > 0; }
  std::set<std::string> consumed;  // every value name some node or graph output reads

  // Attributes of the current node.
  const onnx::AttributeProto* attr(const std::string& name) const;
  int64_t attrInt(const std::string& name, int64_t fallback) const;
  double attrFloat(const std::string& name, double fallback) const;
  std::string attrString(const std::string& name, const std::string& fallback) const;
  std::optional<std::vector<int64_t>> attrInts(const std::string& name) const;
};

// One ONNX op's mapping: reads the context's current node, sets its outputs.
using OpMapper = std::function<Result<void>(ImportContext&)>;
using OpTable = std::map<std::string, OpMapper>;

void addElementwiseOps(OpTable& t);
void addShapeOps(OpTable& t);
void addNeuralOps(OpTable& t);
void addReduceOps(OpTable& t);
void addLossOps(OpTable& t);
void addMoreOps(OpTable& t);
// Recurrent layers (LSTM, GRU, RNN) and ai.onnx.preview.training's Gradient (OnnxOpsRecurrent.cpp,
// OnnxOpsGradient.cpp); PyTorch's batch_first chains around the recurrent nodes rewritten
// before import (OnnxRecurrentLayout.cpp).
void addRecurrentOps(OpTable& t);
void addGradientOps(OpTable& t);
void rewriteRecurrentBatchFirst(onnx::GraphProto& g);
// Image resampling and transposed convolutions (OnnxOpsImage.cpp): Resize, Upsample,
// ConvTranspose; and the dilated max pooling MaxPool hands to it.
void addImageOps(OpTable& t);
Result<NodeId> dilatedMaxPool(ImportContext& ctx, NodeId x, const std::vector<int64_t>& kernel,
                              const std::vector<int64_t>& strides, const std::vector<int64_t>& pads,
                              const std::vector<int64_t>& dilations);
// A 3-D convolution (Conv, ConvTranspose) computed as 2-D ones: x [N, C, D, H, W] read as one
// NHWC plane per depth, w [A, B, kd, kh, kw] as one [kh, kw, B, A] filter per depth tap, each
// sliced once however many output depths use it.
class DepthSlices {
 public:
  static Result<DepthSlices> of(ImportContext& ctx, NodeId x, NodeId w);
  Result<NodeId> plane(int64_t z);
  Result<NodeId> tap(int64_t t);

 private:
  DepthSlices(ImportContext& ctx, NodeId xt, NodeId wt, Shape xs, Shape ws)
      : ctx_(&ctx), xt_(xt), wt_(wt), xs_(std::move(xs)), ws_(std::move(ws)) {}
  ImportContext* ctx_;
  NodeId xt_, wt_;
  Shape xs_, ws_;
  std::map<int64_t, NodeId> planes_, taps_;
};
// x reversed along `axis` (slices concatenated in reverse order).
Result<NodeId> reverseAxis(ImportContext& ctx, NodeId x, int64_t axis);
const OpTable& opTable();

// Import-time evaluation (OnnxFold.cpp): the node's outputs when every input is known and the
// op is one the folder computes; nothing when it is not (the node is then mapped onto the
// graph). Errors for a foldable node given wrong operands.
std::optional<Result<std::vector<ConstTensor>>> foldNode(ImportContext& ctx);

// A TensorProto's contents (raw_data or typed fields).
Result<ConstTensor> tensorFromProto(const onnx::TensorProto& t);
int64_t elementCount(const std::vector<int64_t>& dims);
bool isIntegerType(int32_t elemType);
bool isFloatType(int32_t elemType);

}  // namespace nnc::onnximport
