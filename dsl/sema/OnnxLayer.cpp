// onnx("FILE.onnx", x, ..., output = "NAME", trainable = true): an ONNX graph as a layer.
// The file is imported (compiler/onnx) into a graph of its own, then copied into the model:
// its inputs become the call's arguments, its float initializers parameters named
// "<layer name>.<initializer name>" (State leaves, never updated, when trainable = false),
// BatchNormalization's running statistics state. The importer emits nnc's mode-dependent
// BatchNorm and Dropout ops, so the training and inference graphs treat them as they treat
// batchnorm(...) and dropout(...).
#include <filesystem>

#include "compiler/onnx/OnnxImport.h"
#include "compiler/ir/TypedAttrs.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

namespace {

namespace fs = std::filesystem;

// The path as written, relative to the folder of the .nn file (absolute paths as they are).
std::string onnxLayerPath(const Sema& s, const std::string& written) {
  fs::path p(written);
  if (p.is_absolute() || s.sourceFile().empty()) return written;
  return (fs::path(s.sourceFile()).parent_path() / p).string();
}

std::string onnxInputList(const onnximport::ImportedModel& m) {
  std::string names;
  for (size_t i = 0; i < m.inputs.size(); ++i) names += (i ? ", '" : "'") + m.inputs[i].name + "'";
  return names.empty() ? "none" : names;
}

std::optional<NodeId> buildOnnxLayer(Sema& s, const BoundCall& b) {
  const BoundArg& fileArg = b.arg("file");
  const std::string path = onnxLayerPath(s, b.word("file"));
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    s.error(fileArg.loc, "cannot open the ONNX file '" + path + "'" +
                             (fs::exists(path, ec) ? " (not a regular file)" : " (no such file)"));
    return std::nullopt;
  }
  Result<onnximport::ImportedModel> imported = onnximport::importOnnxFile(path);
  if (!imported) {
    s.error(fileArg.loc, imported.error().message);
    return std::nullopt;
  }
  const Graph& g = imported->model.graph;

  // Arguments bind to the graph's inputs in order, each with the input's exact type.
  const BoundArg& args = b.arg("inputs");
  if (args.tensors.size() != imported->inputs.size()) {
    s.error(b.loc, "'" + path + "' has " + std::to_string(imported->inputs.size()) + " input" +
                       (imported->inputs.size() == 1 ? "" : "s") + " (" + onnxInputList(*imported) +
                       "), got " + std::to_string(args.tensors.size()) + " argument" +
                       (args.tensors.size() == 1 ? "" : "s") + " after the file name");
    return std::nullopt;
  }
  std::map<std::string, NodeId> argOfInput;
  bool ok = true;
  for (size_t i = 0; i < args.tensors.size(); ++i) argOfInput[imported->inputs[i].name] = args.tensors[i];

  // The result: the first graph output, or the one `output =` names.
  NodeId result = g.outputs.front().node;
  if (b.has("output")) {
    const std::string& want = b.word("output");
    result = kNoNode;
    std::vector<std::string> names;
    for (const Output& o : g.outputs) {
      names.push_back(o.name);
      if (o.name == want) result = o.node;
    }
    if (result == kNoNode) {
      std::string list;
      for (size_t i = 0; i < names.size(); ++i) list += (i ? ", '" : "'") + names[i] + "'";
      s.error(b.arg("output").loc, "'" + path + "' has no output '" + want + "'" + suggest(want, names) +
                                       "; its outputs are " + list);
      return std::nullopt;
    }
  }

  // Copy the graph; leaves first map to arguments and parameters.
  const bool trainable = b.flag("trainable");
  std::vector<NodeId> mapped(g.size(), kNoNode);
  for (size_t i = 0; i < g.size() && ok; ++i) {
    const Node& n = g.nodes()[i];
    if (n.op == OpKind::Input) {
      NodeId arg = argOfInput.at(n.name);
      const TensorType want = n.type, got = s.type(arg);
      if (!(want == got)) {
        size_t k = 0;
        while (imported->inputs[k].name != n.name) ++k;
        s.error(args.locs[k], "argument " + std::to_string(k + 1) + " of 'onnx' is " + got.str() + ", but input '" +
                                  n.name + "' of '" + path + "' is " + want.str() +
                                  (want.shape.isBatched() ? "" : " (export it with a dynamic batch dimension)"));
        ok = false;
        continue;
      }
      mapped[i] = arg;
    } else if (n.op == OpKind::Param || n.op == OpKind::State) {
      // Frozen weights are state that nothing updates: no gradient, no optimizer slot.
      OpKind kind = n.op == OpKind::Param && trainable ? OpKind::Param : OpKind::State;
      std::optional<NodeId> leaf = layerParam(s, b, n.name, n.type.shape,
                                              InitSpec{InitAttr::of(n).init.value_or(""), InitAttr::of(n).args}, kind);
      if (!leaf) ok = false;
      else mapped[i] = *leaf;
    } else {
      std::vector<NodeId> in;
      for (NodeId old : n.inputs) in.push_back(mapped[static_cast<size_t>(old)]);
      mapped[i] = s.graph().addWithType(n.op, std::move(in), n.attrs, n.type, b.loc);
    }
  }
  if (!ok) return std::nullopt;
  return mapped[static_cast<size_t>(result)];
}

}  // namespace

void addOnnxLayer(Registry& r) {
  r.add(layer("onnx",
              {spec::string("file", spec::required()), spec::tensorRest("inputs", spec::req(DTypeReq::Any)),
               spec::string("output", spec::unset()), spec::boolean("trainable", true)},
              buildOnnxLayer, "ONNX"));
}

}  // namespace nnc::sema
