#include "compiler/codegen/aot/AotHeader.h"

#include <cctype>
#include <cstdio>
#include <sstream>

namespace nnc {

namespace {

std::string upper(const std::string& s) {
  std::string u = s;
  for (char& c : u) c = char(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

// A C string literal.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

// Text for a comment: no "*/" can end it early.
std::string commentSafe(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f) out += '?';
    else if (c == '*' && i + 1 < s.size() && s[i + 1] == '/') out += "* ";
    else out += char(c);
  }
  return out;
}

// Exact (hexadecimal, C99) float literal.
std::string floatLiteral(float v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%af", double(v));
  return buf;
}

std::string typeText(const TensorType& t) {
  std::string s = t.dtype == DType::I32 ? "i32[" : "f32[";
  for (size_t i = 0; i < t.shape.dims.size(); ++i)
    s += (i ? ", " : "") + (t.shape.dims[i] == kBatch ? std::string("batch") : std::to_string(t.shape.dims[i]));
  return s + "]";
}

int64_t perSampleBytes(const TensorType& t) {
  int64_t n = 4;
  for (int64_t d : t.shape.dims)
    if (d != kBatch) n *= d;
  return n;
}

// Collects every dims list into one array; each tensor points at its start.
class DimsTable {
 public:
  size_t add(const std::vector<int64_t>& dims) {
    size_t at = values_.size();
    values_.insert(values_.end(), dims.begin(), dims.end());
    return at;
  }
  std::string definition(const std::string& name) const {
    std::string s = "static const int64_t " + name + "[] = {";
    if (values_.empty()) return s + "0};\n";
    for (size_t i = 0; i < values_.size(); ++i) s += (i ? ", " : "") + std::to_string(values_[i]);
    return s + "};\n";
  }

 private:
  std::vector<int64_t> values_;
};

struct TensorRow {
  std::string name;
  DType dtype = DType::F32;
  size_t rank = 0, dimsAt = 0;
  int64_t offset = -1, bytes = 0, initial = -1;
  bool trainable = false, used = true;
  float shift = 0, multiplier = 1;
};

std::string tensorArray(const std::string& name, const std::string& dims, const std::vector<TensorRow>& rows) {
  if (rows.empty()) return "";
  std::string s = "static const nnc_aot_tensor " + name + "[] = {\n";
  for (const TensorRow& r : rows) {
    s += "    {" + quoted(r.name) + ", " + (r.dtype == DType::I32 ? "NNC_AOT_I32" : "NNC_AOT_F32") + ", " +
         std::to_string(r.rank) + ", " + dims + " + " + std::to_string(r.dimsAt) + ", " + std::to_string(r.offset) +
         ", " + std::to_string(r.bytes) + ", " + std::to_string(r.initial) + ", " + (r.trainable ? "1" : "0") + ", " +
         (r.used ? "1" : "0") + ", " + floatLiteral(r.shift) + ", " + floatLiteral(r.multiplier) + "},\n";
  }
  return s + "};\n";
}

const AotInputNormalization* normalizationOf(const AotHeaderInfo& info, const std::string& input) {
  for (const AotInputNormalization& n : info.normalization)
    if (n.input == input) return &n;
  return nullptr;
}

bool normalizationUnknown(const AotHeaderInfo& info, const std::string& input) {
  for (const std::string& n : info.normalizationUnknown)
    if (n == input) return true;
  return false;
}

std::vector<TensorRow> ioRows(const std::vector<TensorSpec>& specs, const std::vector<bool>* used, DimsTable& dims,
                              const AotHeaderInfo& info) {
  std::vector<TensorRow> rows;
  for (size_t i = 0; i < specs.size(); ++i) {
    TensorRow r;
    r.name = specs[i].name;
    r.dtype = specs[i].type.dtype;
    r.rank = specs[i].type.shape.dims.size();
    r.dimsAt = dims.add(specs[i].type.shape.dims);
    r.bytes = perSampleBytes(specs[i].type);
    r.used = !used || (*used)[i];
    if (used && r.dtype == DType::F32)
      if (const AotInputNormalization* n = normalizationOf(info, r.name)) {
        r.shift = n->shift;
        r.multiplier = n->multiplier;
      }
    rows.push_back(r);
  }
  return rows;
}

// The comment lines describing an entry's inputs or outputs.
std::string describeTensors(const std::vector<TensorSpec>& specs, const std::vector<bool>* used,
                            const AotHeaderInfo& info, const std::string& prefix) {
  std::string s;
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorSpec& t = specs[i];
    s += " *   [" + std::to_string(i) + "] " + commentSafe(t.name) + "  " + typeText(t.type);
    if (used && !(*used)[i]) s += "  (not read: may be NULL)";
    if (used && t.type.dtype == DType::F32) {
      if (const AotInputNormalization* n = normalizationOf(info, t.name)) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "\n *       normalise first: x' = (x - %.9g) * %.9g (%s_normalize_input)", double(n->shift),
                      double(n->multiplier), prefix.c_str());
        s += buf;
      } else if (normalizationUnknown(info, t.name)) {
        s += "\n *       the train block standardizes it, with statistics only a checkpoint holds: compile with --weights";
      }
    }
    s += "\n";
  }
  return s;
}

std::string entryInit(const std::string& p, const std::optional<EntryInfo>& e, const std::string& fn,
                      const std::string& inputs, const std::string& outputs, const std::string& hypers) {
  if (!e) return "    {0, 0, 0, 0, 0, 0, 0, -1, 0}";
  int loss = -1;
  for (size_t i = 0; i < e->outputs.size(); ++i)
    if (e->outputs[i].name == "loss") loss = int(i);
  return "    {" + p + "_nnc_" + fn + ", " + p + "_nnc_" + fn + "_workspace, " + std::to_string(e->inputs.size()) + ", " +
         std::to_string(e->outputs.size()) + ", " + (e->inputs.empty() ? "0" : inputs) + ", " +
         (e->outputs.empty() ? "0" : outputs) + ", " + std::to_string(e->hypers.size()) + ", " +
         std::to_string(loss) + ", " + (e->hypers.empty() ? "0" : hypers) + "}";
}

}  // namespace

bool isCIdentifier(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

std::string writeAotHeader(const AotModel& model, const AotHeaderInfo& info) {
  const std::string& p = info.prefix;
  const std::string P = upper(p);
  const bool trains = model.train.has_value();
  std::ostringstream h;

  // Documentation.
  h << "/* " << p << ".h: the C interface of " << p << ".o, model '" << commentSafe(info.modelName)
    << "' compiled ahead of time by nnc";
  if (!info.sourceFile.empty()) h << " from " << commentSafe(info.sourceFile);
  h << ".\n *\n";
  std::string features;
  for (size_t i = 0; i < model.features.size(); ++i) features += (i ? "," : "") + model.features[i];
  h << " * Generated: do not edit. The object is native code for the CPU " << commentSafe(model.cpu)
    << " (" << P << "_TARGET_CPU):\n *   " << commentSafe(model.target)
    << "\n * and runs only on CPUs with its features (" << commentSafe(features.empty() ? "baseline x86-64" : features)
    << "):\n * on any other, " << p << "_create returns NNC_AOT_ERR_CPU before any of its code runs.\n *\n";
  h << " * Build: cc -std=c99 -I<nnc include dir> prog.c " << p << ".o -L<nnc lib dir> -lnnc_rt -lm -lpthread -lstdc++\n";
  h << " * Threads: nnc_set_num_threads(n) (<nnc/runtime.h>); the default is one per core.\n *\n";
  h << " * Use:\n"
    << " *   " << p << "_model* m;\n"
    << " *   int rc = " << p << "_create(&m);    (NNC_AOT_ERR_CPU on a CPU without the object's features)\n"
    << " *   const void* in[" << P << "_NUM_INPUTS] = {...};   void* out[" << P << "_NUM_OUTPUTS] = {...};\n"
    << " *   " << p << "_forward(m, in, out, batch);\n";
  if (trains)
    h << " *   const void* train_in[" << P << "_TRAIN_NUM_INPUTS] = {...};   float loss;\n"
      << " *   " << p << "_train_step(m, train_in, batch, " << P << "_DEFAULT_LR, &loss);\n";
  h << " *   " << p << "_free(m);\n";
  h << " * Every function returning int returns 0, or a negative NNC_AOT_ERR_* code that\n"
    << " * nnc_aot_error_string() words. Tensors are dense, row-major (channels-last images), with\n"
    << " * `batch` samples for the batch dimension; any batch >= 1 works. Calls on one model must\n"
    << " * not overlap; separate models are independent.\n *\n";
  h << " * State: " << p << "_create sets every parameter and state tensor to ";
  if (!info.weightsFile.empty())
    h << "its value in the\n * checkpoint " << commentSafe(info.weightsFile) << " (optimizer step " << info.initialStep << ")";
  else
    h << "the value the model's\n * initialisers give it (seed of the train block, as `nnc train` starts)";
  h << "; " << p << "_get_tensor and\n * " << p << "_set_tensor copy one out or in by name (f32 elements).\n *\n";

  h << " * " << p << "_forward(model, inputs, outputs, batch): the model's outputs.\n *   inputs:\n"
    << describeTensors(model.forward.inputs, &model.forward.inputUsed, info, p) << " *   outputs (NULL skips one; none may overlap an input or another output):\n"
    << describeTensors(model.forward.outputs, nullptr, info, p);
  if (trains) {
    h << " *\n * " << p << "_train_step(model, inputs, batch, lr, &loss): one optimizer step (forward, backward,\n"
      << " * update of every parameter and state tensor) at learning rate lr; loss (or NULL) receives the\n"
      << " * batch's loss. Learning-rate schedules are the caller's: lr is an argument.\n *   inputs:\n"
      << describeTensors(model.train->inputs, &model.train->inputUsed, info, p);
  } else {
    h << " *\n * " << p << "_train_step: the model has no train block with a loss; it returns NNC_AOT_ERR_NO_TRAIN.\n";
  }
  h << " *\n * State tensors (" << p << "_num_tensors(), " << p << "_tensor(i)):\n";
  for (const StateEntry& e : model.layout.entries())
    h << " *   " << commentSafe(e.name) << "  " << typeText(e.type) << (e.trainable ? "  parameter" : "  state")
      << "\n";
  h << " */\n";

  h << "#ifndef " << P << "_NNC_AOT_H\n#define " << P << "_NNC_AOT_H\n\n#include <stdint.h>\n\n#include <nnc/aot.h>\n\n";
  h << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  h << "#define " << P << "_TARGET_CPU " << quoted(model.cpu) << "\n";
  h << "#define " << P << "_NUM_INPUTS " << model.forward.inputs.size() << "\n";
  h << "#define " << P << "_NUM_OUTPUTS " << model.forward.outputs.size() << "\n";
  h << "#define " << P << "_HAS_TRAIN_STEP " << (trains ? 1 : 0) << "\n";
  h << "#define " << P << "_TRAIN_NUM_INPUTS " << (trains ? model.train->inputs.size() : 0) << "\n";
  h << "#define " << P << "_NUM_TENSORS " << model.layout.entries().size() << "\n";
  if (info.defaultLearningRate) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", *info.defaultLearningRate);
    h << "#define " << P << "_DEFAULT_LR " << floatLiteral(float(*info.defaultLearningRate)) << " /* " << buf
      << ", the train block's optimizer */\n";
  }
  h << "\n/* Defined in " << p << ".o: the entry ABI of nnc's compiler/codegen/README.md. */\n";
  h << "int32_t " << p << "_nnc_forward(void* state, const void* const* inputs, void* const* outputs, int64_t batch,\n"
    << "    const float* hypers, void* workspace);\nint64_t " << p << "_nnc_forward_workspace(int64_t batch);\n";
  if (trains)
    h << "int32_t " << p << "_nnc_train_step(void* state, const void* const* inputs, void* const* outputs, int64_t batch,\n"
      << "    const float* hypers, void* workspace);\nint64_t " << p << "_nnc_train_step_workspace(int64_t batch);\n";
  h << "extern const unsigned char " << p << "_nnc_initial_values[];\n\n";

  // The description.
  DimsTable dims;
  const std::string dimsName = p + "_nnc_dims";
  std::vector<TensorRow> state;
  for (size_t i = 0; i < model.layout.entries().size(); ++i) {
    const StateEntry& e = model.layout.entries()[i];
    TensorRow r;
    r.name = e.name;
    r.dtype = e.type.dtype;
    r.rank = e.type.shape.dims.size();
    r.dimsAt = dims.add(e.type.shape.dims);
    r.offset = e.offset;
    r.bytes = e.bytes;
    r.initial = i < model.initialOffset.size() ? model.initialOffset[i] : -1;
    r.trainable = e.trainable;
    state.push_back(r);
  }
  std::vector<TensorRow> fin = ioRows(model.forward.inputs, &model.forward.inputUsed, dims, info);
  std::vector<TensorRow> fout = ioRows(model.forward.outputs, nullptr, dims, info);
  std::vector<TensorRow> tin, tout;
  if (trains) {
    tin = ioRows(model.train->inputs, &model.train->inputUsed, dims, info);
    tout = ioRows(model.train->outputs, nullptr, dims, info);
  }
  h << "/* The model's description, for the runtime library (<nnc/aot.h>). */\n";
  h << dims.definition(dimsName);
  h << tensorArray(p + "_nnc_state", dimsName, state) << tensorArray(p + "_nnc_forward_inputs", dimsName, fin)
    << tensorArray(p + "_nnc_forward_outputs", dimsName, fout) << tensorArray(p + "_nnc_train_inputs", dimsName, tin)
    << tensorArray(p + "_nnc_train_outputs", dimsName, tout);
  if (trains && !model.train->hypers.empty()) {
    h << "static const char* const " << p << "_nnc_train_hypers[] = {";
    for (size_t i = 0; i < model.train->hypers.size(); ++i) h << (i ? ", " : "") << quoted(model.train->hypers[i]);
    h << "};\n";
  }
  h << "static const nnc_aot_model_desc " << p << "_nnc_desc = {\n    NNC_AOT_ABI_VERSION, "
    << model.layout.entries().size() << ", " << quoted(info.modelName) << ", " << model.layout.bytes() << ", "
    << (state.empty() ? "0" : p + "_nnc_state") << ", " << p << "_nnc_initial_values, " << info.initialStep << ",\n"
    << entryInit(p, model.forward, "forward", p + "_nnc_forward_inputs", p + "_nnc_forward_outputs", "0") << ",\n"
    << entryInit(p, model.train, "train_step", p + "_nnc_train_inputs", p + "_nnc_train_outputs",
                 p + "_nnc_train_hypers")
    << ",\n    " << P << "_TARGET_CPU, " << quoted(features) << "};\n\n";

  // The functions.
  h << "typedef nnc_aot_model " << p << "_model;\n\n";
  h << "/* A new model in *model, every tensor at its initial value. NNC_AOT_ERR_CPU when this CPU\n"
    << " * lacks a feature the object uses (nnc_aot_error_string names them), NNC_AOT_ERR_MEMORY when\n"
    << " * out of memory. */\n"
    << "static inline int " << p << "_create(" << p << "_model** model) {\n  return nnc_aot_create_model(&" << p
    << "_nnc_desc, model);\n}\n"
    << "static inline void " << p << "_free(" << p << "_model* model) { nnc_aot_free(model); }\n\n";
  h << "/* The forward pass on `batch` samples (inputs and outputs as listed above). */\n"
    << "static inline int " << p << "_forward(" << p
    << "_model* model, const void* const* inputs, void* const* outputs, int64_t batch) {\n"
    << "  return nnc_aot_forward(model, inputs, outputs, batch);\n}\n\n";
  h << "/* One training step; NNC_AOT_ERR_NO_TRAIN for a model without one. */\n"
    << "static inline int " << p << "_train_step(" << p
    << "_model* model, const void* const* inputs, int64_t batch, float lr, float* loss) {\n"
    << "  return nnc_aot_train_step(model, inputs, batch, lr, loss);\n}\n\n";
  h << "/* Copy a state tensor out or in by name (\"h1.weight\"); count is its element count. */\n"
    << "static inline int " << p << "_get_tensor(const " << p
    << "_model* model, const char* name, float* out, int64_t count) {\n"
    << "  return nnc_aot_get_tensor(model, name, out, count);\n}\n"
    << "static inline int " << p << "_set_tensor(" << p
    << "_model* model, const char* name, const float* values, int64_t count) {\n"
    << "  return nnc_aot_set_tensor(model, name, values, count);\n}\n\n";
  h << "/* The state tensors (name, dtype, rank, dims, trainable), the forward pass's inputs and outputs. */\n"
    << "static inline int " << p << "_num_tensors(void) { return " << P << "_NUM_TENSORS; }\n"
    << "static inline const nnc_aot_tensor* " << p << "_tensor(int i) {\n  return i >= 0 && i < " << P
    << "_NUM_TENSORS ? &" << p << "_nnc_desc.state[i] : 0;\n}\n"
    << "static inline const nnc_aot_tensor* " << p << "_input(int i) {\n  return i >= 0 && i < " << P
    << "_NUM_INPUTS ? &" << p << "_nnc_desc.forward.inputs[i] : 0;\n}\n"
    << "static inline const nnc_aot_tensor* " << p << "_output(int i) {\n  return i >= 0 && i < " << P
    << "_NUM_OUTPUTS ? &" << p << "_nnc_desc.forward.outputs[i] : 0;\n}\n"
    << "static inline int64_t " << p << "_tensor_elements(const nnc_aot_tensor* t, int64_t batch) {\n"
    << "  return nnc_aot_tensor_elements(t, batch);\n}\n\n";
  h << "/* Applies the train block's normalisation of forward input i in place (as nnc train, eval\n"
    << " * and predict do before feeding data); no change for an input without one. */\n"
    << "static inline void " << p << "_normalize_input(int i, float* values, int64_t count) {\n"
    << "  nnc_aot_normalize(" << p << "_input(i), values, count);\n}\n\n";
  h << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << P << "_NNC_AOT_H */\n";
  return h.str();
}

}  // namespace nnc
