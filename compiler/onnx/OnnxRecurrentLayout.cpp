// Before import: PyTorch's recurrent exports rewritten so the batch stays the first dimension.
//
// torch.onnx.export of nn.LSTM/GRU/RNN(batch_first = True) wraps the node, whose layout 0 puts
// the steps first, in transposes: X = Transpose(x, [1, 0, 2]), then Y back through
// Squeeze(Y, [1]) -> Transpose([1, 0, 2]) (one direction) or Transpose(Y, [0, 2, 1, 3]) ->
// Reshape([0, 0, -1]) -> Transpose([1, 0, 2]) (two); and its zero initial state is a
// ConstantOfShape([dirs, batch, H]). With a dynamic batch none of these intermediate tensors
// has the batch first, which nnc's IR requires. The node's own layout = 1 (batch first) says
// the same thing without them: this pass switches the node to layout 1 and the chains around it
// to identities, moves Gather(Y_h, i, axis 0) and Squeeze(Y_h, [0]) to axis 1, and drops a zero initial state. Stacked
// layers (num_layers > 1) read the previous layer's squeezed or reshaped Y directly, so the
// rewrite follows them and switches the whole stack. A node whose surroundings differ is left
// as it is (its mapping then says what it cannot do).
#include <algorithm>
#include <map>

#include "compiler/onnx/OnnxContext.h"

namespace nnc::onnximport {
namespace {

class RecurrentLayoutRewrite {
 public:
  explicit RecurrentLayoutRewrite(onnx::GraphProto& g) : g_(g) {}

  void run() {
    index();
    std::set<std::string> dropped;
    for (int i = 0; i < g_.node_size(); ++i) {
      onnx::NodeProto& n = *g_.mutable_node(i);
      const std::string& op = n.op_type();
      if (!n.domain().empty() && n.domain() != "ai.onnx") continue;
      if ((op != "LSTM" && op != "GRU" && op != "RNN") || n.input_size() == 0 || n.input(0).empty()) continue;
      dropZeroStates(n, dropped);
      if (intAttr(n, "layout", 0) == 0) toBatchFirst(n);
    }
    for (auto& [name, from] : batchFirstInputs_) dropped.insert(name);
    removeDead(dropped);
  }

 private:
  void index() {
    producer_.clear();
    consumers_.clear();
    for (int i = 0; i < g_.node_size(); ++i) {
      const auto& n = g_.node(i);
      for (const auto& o : n.output())
        if (!o.empty()) producer_[o] = i;
      for (int k = 0; k < n.input_size(); ++k) consumers_[n.input(k)].push_back(i);
    }
    for (const auto& o : g_.output()) graphOutputs_.insert(o.name());
    for (const auto& t : g_.initializer()) initializers_[t.name()] = &t;
  }

  static int64_t intAttr(const onnx::NodeProto& n, const std::string& name, int64_t fallback) {
    for (const auto& a : n.attribute())
      if (a.name() == name && a.has_i()) return a.i();
    return fallback;
  }
  static std::optional<std::vector<int64_t>> intsAttr(const onnx::NodeProto& n, const std::string& name) {
    for (const auto& a : n.attribute())
      if (a.name() == name) return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    return std::nullopt;
  }
  static void setIntAttr(onnx::NodeProto& n, const std::string& name, int64_t v) {
    for (auto& a : *n.mutable_attribute())
      if (a.name() == name) {
        a.set_i(v);
        return;
      }
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void toIdentity(onnx::NodeProto& n) {
    n.set_op_type("Identity");
    n.clear_attribute();
    while (n.input_size() > 1) n.mutable_input()->RemoveLast();
  }

  const onnx::NodeProto* producerOf(const std::string& name) const {
    auto it = producer_.find(name);
    return it == producer_.end() ? nullptr : &g_.node(it->second);
  }
  // The single node reading `name` (not a graph output), or null.
  onnx::NodeProto* onlyConsumer(const std::string& name) {
    auto it = consumers_.find(name);
    if (graphOutputs_.count(name) || it == consumers_.end() || it->second.size() != 1) return nullptr;
    return g_.mutable_node(it->second[0]);
  }
  // An import-time tensor: an initializer or a Constant node's value.
  std::optional<ConstTensor> constantOf(const std::string& name) const {
    const onnx::TensorProto* t = nullptr;
    if (auto it = initializers_.find(name); it != initializers_.end()) t = it->second;
    else if (const auto* p = producerOf(name); p && p->op_type() == "Constant")
      for (const auto& a : p->attribute())
        if (a.name() == "value" && a.has_t()) t = &a.t();
    if (!t) return std::nullopt;
    auto c = tensorFromProto(*t);
    if (!c) return std::nullopt;
    return *c;
  }
  bool isPerm(const onnx::NodeProto* n, const std::vector<int64_t>& perm) const {
    return n && n->op_type() == "Transpose" && intsAttr(*n, "perm") == perm;
  }
  bool constantIs(const std::string& name, const std::vector<double>& values) const {
    auto c = constantOf(name);
    return c && c->values == values;
  }

  // Whether `name` is all zeros: ConstantOfShape without a value or with 0, seen through
  // the slices and reshapes that hand each layer of a stacked export its part.
  bool zeroFilled(const std::string& name, int depth = 0) const {
    const auto* p = producerOf(name);
    if (!p || depth > 8) return false;
    static const std::set<std::string> views = {"Slice", "Squeeze", "Unsqueeze", "Reshape", "Identity", "Expand", "Gather"};
    if (views.count(p->op_type())) return p->input_size() > 0 && zeroFilled(p->input(0), depth + 1);
    if (p->op_type() != "ConstantOfShape") return false;
    for (const auto& a : p->attribute())
      if (a.name() == "value") {
        auto v = tensorFromProto(a.t());
        return v && std::all_of(v->values.begin(), v->values.end(), [](double x) { return x == 0.0; });
      }
    return true;
  }

  // initial_h / initial_c filled with zeros (PyTorch's default state): the loop's own start.
  void dropZeroStates(onnx::NodeProto& n, std::set<std::string>& dropped) {
    for (int k = 5; k <= 6 && k < n.input_size(); ++k) {
      if (n.input(k).empty() || !zeroFilled(n.input(k))) continue;
      dropped.insert(n.input(k));
      n.set_input(k, "");
    }
  }

  // Squeeze `c` along `axis` instead (a new int64 initializer holds the axes).
  std::function<void()> squeezeAxisEdit(onnx::NodeProto* c, int64_t axis) {
    const std::string axes = c->name() + c->output(0) + "/nnc_batch_first_axes";
    return [this, c, axes, axis] {
      onnx::TensorProto* a = g_.add_initializer();
      a->set_name(axes);
      a->set_data_type(kInt64);
      a->add_dims(1);
      a->add_int64_data(axis);
      c->set_input(1, axes);
    };
  }

  // The batch_first chains around `entry` and the layers stacked on it (each reading the
  // previous one's Y); false (and nothing changed) when they are not all there.
  bool toBatchFirst(onnx::NodeProto& entry) {
    const auto* in = producerOf(entry.input(0));
    if (!isPerm(in, {1, 0, 2}) || !onlyConsumer(entry.input(0))) return false;
    std::vector<std::function<void()>> edits;
    std::vector<onnx::NodeProto*> layers{&entry};
    for (size_t l = 0; l < layers.size(); ++l) {
      onnx::NodeProto& n = *layers[l];
      if (n.output_size() > 0 && !n.output(0).empty() && consumers_.count(n.output(0))) {
        // Y [steps, dirs, batch, H] -> V [steps, batch, dirs * H], which is [batch, steps, dirs * H]
        // once the node is batch-first.
        onnx::NodeProto* c = onlyConsumer(n.output(0));
        if (!c) return false;
        std::string v;
        if (c->op_type() == "Squeeze" && c->input_size() == 2 && constantIs(c->input(1), {1})) {
          edits.push_back(squeezeAxisEdit(c, 2));
          v = c->output(0);
        } else if (isPerm(c, {0, 2, 1, 3})) {
          onnx::NodeProto* re = onlyConsumer(c->output(0));
          if (!re || re->op_type() != "Reshape" || re->input_size() < 2 || !constantIs(re->input(1), {0, 0, -1}))
            return false;
          edits.push_back([c] { toIdentity(*c); });
          v = re->output(0);
        } else {
          return false;
        }
        // V goes back to batch-first PyTorch tensors, or into the next stacked layer.
        if (graphOutputs_.count(v) || !consumers_.count(v)) return false;
        for (int i : consumers_[v]) {
          onnx::NodeProto* u = g_.mutable_node(i);
          if (isPerm(u, {1, 0, 2})) {
            edits.push_back([u] { toIdentity(*u); });
          } else if ((u->op_type() == "LSTM" || u->op_type() == "GRU" || u->op_type() == "RNN") && u->input(0) == v &&
                     intAttr(*u, "layout", 0) == 0 && std::count(u->input().begin(), u->input().end(), v) == 1 &&
                     std::find(layers.begin(), layers.end(), u) == layers.end()) {
            layers.push_back(u);
          } else {
            return false;
          }
        }
      }
      // Y_h, Y_c: [dirs, batch, H] becomes [batch, dirs, H].
      for (int k = 1; k < n.output_size(); ++k) {
        const std::string& name = n.output(k);
        if (name.empty() || !consumers_.count(name)) continue;
        if (graphOutputs_.count(name)) return false;
        for (int i : consumers_[name]) {
          onnx::NodeProto* c = g_.mutable_node(i);
          if (c->input(0) != name) return false;
          if (c->op_type() == "Gather" && intAttr(*c, "axis", 0) == 0)
            edits.push_back([c] { setIntAttr(*c, "axis", 1); });  // h_n[-1]
          else if (c->op_type() == "Squeeze" && c->input_size() == 2 && constantIs(c->input(1), {0}))
            edits.push_back(squeezeAxisEdit(c, 1));  // h_n.squeeze(0)
          else
            return false;
        }
      }
    }
    batchFirstInputs_[entry.input(0)] = in->input(0);
    entry.set_input(0, in->input(0));
    for (onnx::NodeProto* n : layers) setIntAttr(*n, "layout", 1);
    for (auto& e : edits) e();
    return true;
  }

  // Nodes left without readers by the rewrite (the input transposes, the zero states and the
  // shape arithmetic that only sized them), removed so the import does not map them.
  void removeDead(std::set<std::string> candidates) {
    bool changed = true;
    while (changed) {
      changed = false;
      std::set<std::string> read(graphOutputs_.begin(), graphOutputs_.end());
      for (const auto& n : g_.node())
        for (const auto& in : n.input()) read.insert(in);
      for (int i = g_.node_size() - 1; i >= 0; --i) {
        const auto& n = g_.node(i);
        bool candidate = false, live = false;
        for (const auto& o : n.output()) {
          candidate = candidate || candidates.count(o);
          live = live || read.count(o);
        }
        if (!candidate || live) continue;
        for (const auto& in : n.input()) candidates.insert(in);
        g_.mutable_node()->DeleteSubrange(i, 1);
        changed = true;
      }
    }
  }

  onnx::GraphProto& g_;
  std::map<std::string, int> producer_;
  std::map<std::string, std::vector<int>> consumers_;
  std::set<std::string> graphOutputs_;
  std::map<std::string, const onnx::TensorProto*> initializers_;
  std::map<std::string, std::string> batchFirstInputs_;
};

}  // namespace

void rewriteRecurrentBatchFirst(onnx::GraphProto& g) { RecurrentLayoutRewrite(g).run(); }

}  // namespace nnc::onnximport
