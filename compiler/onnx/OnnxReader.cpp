// Reading an ONNX file: protobuf parsing, then libonnx's version converter (to opset 17),
// checker and shape inference. Their exceptions become errors that say which stage refused
// the file and why.
#include "compiler/onnx/OnnxReader.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace nnc::onnximport {

namespace {

// The first line of a libonnx message (some carry a dump of the node after it).
std::string firstLine(const std::string& s) {
  size_t nl = s.find('\n');
  std::string line = nl == std::string::npos ? s : s.substr(0, nl);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line.empty() ? std::string("(no message)") : line;
}

int64_t defaultOpset(const onnx::ModelProto& m) {
  for (const auto& op : m.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") return op.version();
  return 0;
}


// libonnx 1.12's LayerNormalization inference writes the shapes of Mean and InvStdDev from
// dim `axis + rank` on without checking it (axis -2 on a rank-0 input wrote dim -2: SIGSEGV,
// found by fuzz_onnx). Ranks are known only after inference, so a first, lenient inference
// runs on a copy whose LayerNormalization nodes give Y alone (a path that checks nothing it
// could overrun), and a negative axis beyond the rank it finds for X is refused.
bool layerNormWritesStatistics(const onnx::NodeProto& n, int64_t* axis) {
  if (n.op_type() != "LayerNormalization" || (!n.domain().empty() && n.domain() != "ai.onnx") || n.output_size() < 2)
    return false;
  *axis = -1;
  for (const auto& a : n.attribute())
    if (a.name() == "axis") *axis = a.i();
  return *axis < 0;
}

Result<void> refuseLayerNormAxesBelowRank(const onnx::ModelProto& model, const std::string& path) {
  int64_t axis = 0;
  bool any = false;
  for (const auto& n : model.graph().node()) any = any || layerNormWritesStatistics(n, &axis);
  if (!any) return {};
  onnx::ModelProto copy = model;
  for (auto& n : *copy.mutable_graph()->mutable_node())
    if (layerNormWritesStatistics(n, &axis))
      while (n.output_size() > 1) n.mutable_output()->RemoveLast();
  try {
    onnx::ShapeInferenceOptions lenient(/*check_type=*/false, /*strict_mode=*/0, /*data_prop=*/false);
    onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(), lenient);
  } catch (const std::exception&) {
    copy = model;  // the declared ranks alone, then; the inference that follows says what is wrong
  }
  std::map<std::string, int64_t> ranks;
  auto note = [&](const onnx::ValueInfoProto& v) {
    if (v.type().has_tensor_type() && v.type().tensor_type().has_shape())
      ranks[v.name()] = v.type().tensor_type().shape().dim_size();
  };
  for (const auto& v : copy.graph().value_info()) note(v);
  for (const auto& v : copy.graph().input()) note(v);
  for (const auto& t : copy.graph().initializer()) ranks[t.name()] = t.dims_size();
  for (const auto& n : model.graph().node()) {
    if (!layerNormWritesStatistics(n, &axis) || n.input_size() < 1) continue;
    auto it = ranks.find(n.input(0));
    if (it != ranks.end() && axis < -it->second)
      return makeError(path + ": the ONNX checker refuses the model: node '" + n.name() +
                       "' (LayerNormalization) has axis " + std::to_string(axis) + ", out of range for its input of rank " +
                       std::to_string(it->second));
  }
  return {};
}

// The convolutions whose shape inference (libonnx's convPoolShapeInference) reads the kernel
// from the weight when kernel_shape is absent, and where their weight is.
struct WeightedConvRow {
  const char* op;
  int weightInput;
};
constexpr WeightedConvRow kWeightedConvs[] = {
    {"Conv", 1}, {"ConvInteger", 1}, {"ConvTranspose", 1}, {"QLinearConv", 3}};

// Gives every such node without kernel_shape the weight's spatial dims as kernel_shape, when
// they are known before inference (an initializer's, or a graph input's declared values).
void addKernelShapesFromWeights(onnx::ModelProto& model) {
  std::map<std::string, std::vector<int64_t>> spatial;  // dims past the first two, all known
  for (const auto& v : model.graph().input()) {
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) continue;
    std::vector<int64_t> dims;
    bool known = true;
    const auto& shape = v.type().tensor_type().shape();
    for (int i = 2; i < shape.dim_size(); ++i) {
      known = known && shape.dim(i).has_dim_value();
      dims.push_back(shape.dim(i).dim_value());
    }
    if (known) spatial[v.name()] = dims;
  }
  for (const auto& t : model.graph().initializer())
    spatial[t.name()] = std::vector<int64_t>(t.dims().begin() + std::min(t.dims_size(), 2), t.dims().end());
  for (auto& n : *model.mutable_graph()->mutable_node()) {
    if (!n.domain().empty() && n.domain() != "ai.onnx") continue;
    const WeightedConvRow* row = nullptr;
    for (const WeightedConvRow& r : kWeightedConvs)
      if (n.op_type() == r.op) row = &r;
    if (!row || n.input_size() <= row->weightInput) continue;
    bool hasKernel = false;
    for (const auto& a : n.attribute()) hasKernel = hasKernel || a.name() == "kernel_shape";
    auto it = spatial.find(n.input(row->weightInput));
    if (hasKernel || it == spatial.end()) continue;
    auto* kernel = n.add_attribute();
    kernel->set_name("kernel_shape");
    kernel->set_type(onnx::AttributeProto::INTS);
    for (int64_t d : it->second) kernel->add_ints(d);
  }
}

}  // namespace

Result<ReadModel> readOnnxModel(const std::string& bytes, const std::string& path) {
  ReadModel read;
  onnx::ModelProto& model = read.model;
  {
    google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                  static_cast<int>(std::min<size_t>(bytes.size(), INT32_MAX)));
    stream.SetRecursionLimit(64);
    if (bytes.size() > size_t(INT32_MAX) || !model.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
      return makeError(path + ": not a valid ONNX file: the protobuf ModelProto cannot be parsed (truncated or not ONNX)");
  }
  if (!model.has_graph()) return makeError(path + ": not a valid ONNX file: the model has no graph");
  read.opsetBefore = defaultOpset(model);
  if (read.opsetBefore == 0) return makeError(path + ": the model imports no opset of the default ONNX domain");
  if (read.opsetBefore > kTargetOpset)
    return makeError(path + ": the model uses opset " + std::to_string(read.opsetBefore) + "; nnc reads opsets 7 to " +
                     std::to_string(kTargetOpset));
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return makeError(path + ": the ONNX checker refuses the model: " + firstLine(e.what()));
  }
  // libonnx 1.12's checker lets a graph output that nothing computes through, and its version
  // converter then dereferences a null pointer (found by fuzz_onnx): refuse it here.
  {
    std::set<std::string> defined;
    for (const auto& v : model.graph().input()) defined.insert(v.name());
    for (const auto& t : model.graph().initializer()) defined.insert(t.name());
    for (const auto& n : model.graph().node())
      for (const auto& o : n.output()) defined.insert(o);
    for (const auto& o : model.graph().output())
      if (!defined.count(o.name()))
        return makeError(path + ": the ONNX checker refuses the model: graph output '" + o.name() +
                         "' is not computed by any node");
  }
  // libonnx 1.12's shape inference indexes with an unchecked `axis` (LayerNormalization, found
  // by fuzz_onnx): no tensor nnc handles has more than 64 dimensions, so larger axes are refused.
  // ... and divides by `strides` and `dilations` of Conv and pooling unchecked (a zero
  // stride raised SIGFPE): they must be positive.
  for (const auto& n : model.graph().node())
    for (const auto& a : n.attribute())
      if (a.name() == "strides" || a.name() == "dilations")
        for (int64_t v : a.ints())
          if (v < 1)
            return makeError(path + ": the ONNX checker refuses the model: node '" + n.name() + "' (" + n.op_type() +
                             ") has " + a.name() + " " + std::to_string(v) + "; they must be positive");
  for (const auto& n : model.graph().node())
    for (const auto& a : n.attribute())
      if (a.name() == "axis" || a.name() == "axes") {
        bool bad = a.name() == "axis" ? (a.i() > 64 || a.i() < -64) : false;
        for (int64_t v : a.ints()) bad = bad || v > 64 || v < -64;
        if (bad)
          return makeError(path + ": the ONNX checker refuses the model: node '" + n.name() + "' (" + n.op_type() +
                           ") has an out-of-range " + a.name() + " attribute");
      }
  // libonnx 1.12's shape inference, for a convolution without kernel_shape, reads the kernel
  // from the weight's dims past the first two without checking their count against the
  // input's (ConvTranspose with a weight of rank 2 read past an empty vector; QLinearConv
  // with a rank-3 input and a rank-4 weight read its dilations past their end: SIGSEGV, found
  // by fuzz_onnx). The attribute, which the spec says is inferred from the weight anyway,
  // takes its checked path: give it, before any inference runs (the lenient ones below too).
  addKernelShapesFromWeights(model);
  NNC_TRY(refuseLayerNormAxesBelowRank(model, path));
  if (read.opsetBefore != kTargetOpset) {
    try {
      model = onnx::version_conversion::ConvertVersion(model, static_cast<int>(kTargetOpset));
    } catch (const std::exception& e) {
      // Some adapters need shapes the file does not declare (old exports of Softmin and
      // Softsign): retry once with the shapes that inference at the file's own opset finds.
      std::optional<onnx::ModelProto> converted;
      try {
        onnx::ModelProto annotated = model;
        onnx::ShapeInferenceOptions lenient(/*check_type=*/false, /*strict_mode=*/0, /*data_prop=*/false);
        onnx::shape_inference::InferShapes(annotated, onnx::OpSchemaRegistry::Instance(), lenient);
        converted = onnx::version_conversion::ConvertVersion(annotated, static_cast<int>(kTargetOpset));
      } catch (const std::exception&) {
      }
      if (converted) {
        model = std::move(*converted);
      } else {
        return makeError(path + ": cannot convert the model from opset " + std::to_string(read.opsetBefore) +
                         " to opset " + std::to_string(kTargetOpset) + ": " + firstLine(e.what()));
      }
    }
  }
  try {
    onnx::ShapeInferenceOptions options(/*check_type=*/true, /*strict_mode=*/1, /*data_prop=*/false);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    return makeError(path + ": ONNX shape inference fails: " + firstLine(e.what()));
  }
  return read;
}

}  // namespace nnc::onnximport
