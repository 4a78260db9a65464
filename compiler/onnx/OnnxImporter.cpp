// The import proper: graph inputs and initializers become leaves, each node is folded at
// import (OnnxFold.cpp) or mapped through the op table (OnnxOps*.cpp), graph outputs become
// the model's outputs.
#include <fstream>
#include <set>
#include <sstream>

#include "compiler/onnx/OnnxContext.h"
#include "compiler/onnx/OnnxReader.h"
#include "compiler/passes/DeadCodeElimination.h"
#include "compiler/passes/TransposeSinking.h"
#include "compiler/ir/TypedAttrs.h"

namespace nnc::onnximport {

const OpTable& opTable() {
  static const OpTable table = [] {
    OpTable t;
    addElementwiseOps(t);
    addShapeOps(t);
    addNeuralOps(t);
    addReduceOps(t);
    addLossOps(t);
    addMoreOps(t);
    addRecurrentOps(t);  // recurrent layers and Gradient
    addGradientOps(t);
    addImageOps(t);
    return t;
  }();
  return table;
}

std::vector<std::string> supportedOnnxOps() {
  std::vector<std::string> names;
  for (const auto& [name, mapper] : opTable()) names.push_back(name);
  return names;
}

namespace {

// The static shape of a graph input: a symbolic first dimension is the batch.
Result<Shape> inputShape(const onnx::ValueInfoProto& v) {
  if (!v.type().has_tensor_type())
    return makeError("graph input '" + v.name() + "' is not a tensor (sequences and maps are not supported)");
  const auto& tt = v.type().tensor_type();
  if (!tt.has_shape()) return makeError("graph input '" + v.name() + "' has no declared shape; nnc needs static shapes");
  Shape s;
  for (int i = 0; i < tt.shape().dim_size(); ++i) {
    const auto& d = tt.shape().dim(i);
    if (d.has_dim_value()) {
      if (d.dim_value() < 0 || d.dim_value() > kMaxElements)
        return makeError("graph input '" + v.name() + "' has dimension " + std::to_string(d.dim_value()));
      s.dims.push_back(d.dim_value());
    } else if (i == 0) {
      s.dims.push_back(kBatch);
    } else {
      return makeError("graph input '" + v.name() + "' has a symbolic dimension " + std::to_string(i) +
                       (d.has_dim_param() ? " ('" + d.dim_param() + "')" : std::string()) +
                       "; nnc needs every dimension but the first (the batch) static");
    }
  }
  if (elementCount(std::vector<int64_t>(s.dims.begin() + (s.isBatched() ? 1 : 0), s.dims.end())) < 0)
    return makeError("graph input '" + v.name() + "' is too large");
  return s;
}

Result<DType> boundaryDType(int32_t elemType, const std::string& what) {
  // double computes in f32; the small integer types in i32 (their values fit).
  if (elemType == 1 || elemType == 9 || elemType == 11) return DType::F32;
  if (elemType == 2 || elemType == 3 || elemType == 4 || elemType == 5 || elemType == 6 || elemType == 7 ||
      elemType == 12)
    return DType::I32;
  return makeError(what + " has element type " + std::string(elemTypeName(elemType)) +
                   "; nnc takes float, double, bool and integers of up to 32 bits (int64 whose values fit)");
}

// Initializers that hold BatchNormalization's running statistics: state, not parameters.
std::set<std::string> runningStatistics(const onnx::GraphProto& g) {
  std::set<std::string> names;
  for (const auto& n : g.node())
    if (n.op_type() == "BatchNormalization" && n.input_size() >= 5) {
      names.insert(n.input(3));
      names.insert(n.input(4));
    }
  return names;
}

// Float initializers that only ever feed operands the import must know (Resize's roi and
// scales, Upsample's scales): import-time values, not parameters.
std::set<std::string> importTimeFloatOperands(const onnx::GraphProto& g) {
  static const std::map<std::string, std::set<int>> kOperands = {{"Resize", {1, 2}}, {"Upsample", {1}}};
  std::set<std::string> wanted, elsewhere;
  for (const auto& n : g.node()) {
    auto it = kOperands.find(n.op_type());
    for (int i = 0; i < n.input_size(); ++i)
      (it != kOperands.end() && it->second.count(i) ? wanted : elsewhere).insert(n.input(i));
  }
  for (const auto& out : g.output()) elsewhere.insert(out.name());
  std::set<std::string> names;
  for (const std::string& name : wanted)
    if (!elsewhere.count(name)) names.insert(name);
  return names;
}

class Importer {
 public:
  Importer(const onnx::ModelProto& m, const ImportOptions& o, const std::string& path)
      : proto_(m), options_(o), path_(path), ctx_(result_.model.graph) {}

  Result<ImportedModel> run() {
    const onnx::GraphProto& g = proto_.graph();
    Model& model = result_.model;
    model.name = g.name().empty() ? "onnx_model" : g.name();
    model.graph.name = model.name;
    NNC_TRY(addInitializers(g));
    NNC_TRY(addInputs(g));
    for (const auto& [name, value] : options_.constants) {
      bool isInput = initializerNames_.count(name) > 0;
      for (const auto& in : g.input()) isInput = isInput || in.name() == name;
      if (!isInput) return makeError("--const names '" + name + "', which is not an input of the model");
    }
    for (const auto& n : g.node())
      for (const auto& in : n.input()) ctx_.consumed.insert(in);
    for (const auto& out : g.output()) ctx_.consumed.insert(out.name());
    for (const auto& n : g.node()) NNC_TRY(addNode(n));
    ctx_.node = nullptr;
    for (const auto& out : g.output()) {
      auto it = ctx_.values.find(out.name());
      if (it == ctx_.values.end()) return makeError("graph output '" + out.name() + "' is not computed by any node");
      int32_t declared = out.type().tensor_type().elem_type();
      if (declared == 0) declared = it->second.elemType;
      NNC_TRY(boundaryDType(declared, "graph output '" + out.name() + "'"));
      if (it->second.node == kNoNode) {
        auto id = ctx_.materialize(*it->second.constant);
        if (!id) return makeError("graph output '" + out.name() + "': " + id.error().message);
        it->second.node = *id;
      }
      model.graph.outputs.push_back(Output{out.name(), it->second.node});
      result_.outputs.push_back(BoundaryValue{out.name(), declared});
    }
    if (model.graph.outputs.empty()) return makeError("the ONNX graph has no outputs");
    // The NCHW <-> NHWC transposes around channels-last ops cancel between them.
    auto sunk = sinkTransposes(model.graph);
    if (!sunk) return sunk.error();
    auto live = eliminateDeadCode(*sunk);
    if (!live) return live.error();
    model.graph = std::move(*live);
    return std::move(result_);
  }

 private:
  Result<void> addInitializers(const onnx::GraphProto& g) {
    std::set<std::string> stats = runningStatistics(g), importTime = importTimeFloatOperands(g);
    for (const auto& init : g.initializer()) {
      auto t = tensorFromProto(init);
      if (!t) return makeError("initializer '" + init.name() + "': " + t.error().message);
      initializerNames_.insert(init.name());
      if (t->elemType != 1 || options_.constants.count(init.name()) || importTime.count(init.name())) {
        Value v;
        v.elemType = t->elemType;
        v.constant = std::move(*t);
        if (auto c = options_.constants.find(init.name()); c != options_.constants.end()) v.constant = c->second;
        ctx_.values[init.name()] = std::move(v);
        continue;
      }
      // Float weights are the model's parameters (running statistics its state), kept under
      // their own names and shapes so checkpoints load into the exported PyTorch model.
      bool state = stats.count(init.name()) > 0;
      std::vector<double> vals = t->values;
      for (double& x : vals) x = static_cast<double>(static_cast<float>(x));
      Attrs attrs = InitAttr{"values", vals}.attrs();
      NodeId id = ctx_.g.addLeaf(state ? OpKind::State : OpKind::Param, init.name(),
                                 TensorType{DType::F32, Shape(t->dims)}, std::move(attrs));
      Value v;
      v.node = id;
      ctx_.values[init.name()] = v;
      LayerRow row{init.name(), state ? "State" : "Initializer", Shape(t->dims), state ? 0 : elementCount(t->dims),
                   state ? elementCount(t->dims) : 0};
      initializerRows_.push_back(row);
    }
    return {};
  }

  Result<void> addInputs(const onnx::GraphProto& g) {
    for (const auto& in : g.input()) {
      if (initializerNames_.count(in.name())) continue;  // a default value the file supplies
      int32_t elem = in.type().tensor_type().elem_type();
      if (auto c = options_.constants.find(in.name()); c != options_.constants.end()) {
        Value v;
        v.constant = c->second;
        v.constant->elemType = elem ? elem : c->second.elemType;
        v.elemType = v.constant->elemType;
        ctx_.values[in.name()] = std::move(v);
        continue;
      }
      auto dtype = boundaryDType(elem, "graph input '" + in.name() + "'");
      if (!dtype) return dtype.error();
      auto shape = inputShape(in);
      if (!shape) return shape.error();
      NodeId id = ctx_.g.addLeaf(OpKind::Input, in.name(), TensorType{*dtype, *shape});
      Value v;
      v.node = id;
      v.elemType = elem;
      ctx_.values[in.name()] = v;
      result_.inputs.push_back(BoundaryValue{in.name(), elem});
      result_.model.layers.push_back(LayerRow{in.name(), "InputLayer", *shape, 0, 0});
    }
    for (const LayerRow& r : initializerRows_) result_.model.layers.push_back(r);
    return {};
  }

  Result<void> addNode(const onnx::NodeProto& n) {
    ctx_.node = &n;
    if (!n.domain().empty() && n.domain() != "ai.onnx" && !(n.domain() == kPreviewTrainingDomain && n.op_type() == "Gradient"))
      return ctx_.error("operators of domain '" + n.domain() + "' are not supported");
    for (int i = 0; i < n.input_size(); ++i)
      if (!n.input(i).empty() && !ctx_.values.count(n.input(i)))
        return ctx_.error("input '" + n.input(i) + "' is not defined before the node");
    if (auto folded = foldNode(ctx_)) {
      if (!folded->ok()) return folded->error();
      std::vector<ConstTensor>& outs = folded->value();
      for (size_t i = 0; i < outs.size(); ++i) ctx_.setOutput(i, std::move(outs[i]));
      return {};
    }
    auto it = opTable().find(n.op_type());
    if (it == opTable().end()) return ctx_.error("the operator " + n.op_type() + " is not supported by nnc");
    size_t before = ctx_.g.size();
    NNC_TRY(it->second(ctx_));
    for (int i = 0; i < n.output_size(); ++i)
      if (!n.output(i).empty() && !ctx_.values.count(n.output(i)) && ctx_.consumed.count(n.output(i)))
        return ctx_.error("output " + std::to_string(i) + " ('" + n.output(i) + "') is not supported");
    if (ctx_.g.size() > before && n.output_size() > 0 && !n.output(0).empty()) {
      const Value& v = ctx_.values[n.output(0)];
      if (v.node != kNoNode)
        result_.model.layers.push_back(LayerRow{n.name().empty() ? n.output(0) : n.name(), n.op_type(),
                                                ctx_.g.type(v.node).shape, 0, 0});
    }
    return {};
  }

  const onnx::ModelProto& proto_;
  const ImportOptions& options_;
  std::string path_;
  ImportedModel result_;
  ImportContext ctx_;
  std::set<std::string> initializerNames_;
  std::vector<LayerRow> initializerRows_;
};

}  // namespace

Result<ImportedModel> importOnnxBytes(const std::string& bytes, const std::string& path, const ImportOptions& options) {
  auto read = readOnnxModel(bytes, path);
  if (!read) return read.error();
  rewriteRecurrentBatchFirst(*read->model.mutable_graph());
  Importer importer(read->model, options, path);
  auto imported = importer.run();
  if (!imported) return makeError(path + ": " + imported.error().message);
  imported->opsetBefore = read->opsetBefore;
  return imported;
}

Result<ImportedModel> importOnnxFile(const std::string& path, const ImportOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(path + ": cannot open the ONNX file");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return importOnnxBytes(bytes.str(), path, options);
}

}  // namespace nnc::onnximport
