// Before import: PyTorch's recurrent exports rewritten so the batch stays the first dimension.
//
// torch.onnx.export of nn.LSTM/GRU/RNN(batch_first = True) wraps the node, whose layout 0 puts
// the steps first, in transposes: X = Transpose(x, [1, 0, 2]), then Y back through
// Squeeze(Y, [1]) -> Transpose([1, 0, 2]) (one direction) or Transpose(Y, [0, 2, 1, 3]) ->
// Reshape([0, 0, -1]) -> Transpose([1, 0, 2]) (two); and its zero initial state is a
// ConstantOfShape([dirs, batch, H]). With a dynamic batch none of these intermediate tensors
// has the batch first, which nnc's IR requires. The node's own layout = 1 (batch first) says
// the same thing without them: this pass switches the node to layout 1 and the chains around it
// to identities, moves Gather(Y_h, i, axis 0) to axis 1, and drops a zero initial state. A node
// whose surroundings differ is left as it is (its mapping then says what it cannot do).
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
      if (op != "LSTM" && op != "GRU" && op != "RNN") continue;
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
      for (const auto& o : n.output()) producer_[o] = i;
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

  // initial_h / initial_c that ConstantOfShape fills with zeros (PyTorch's default state).
  void dropZeroStates(onnx::NodeProto& n, std::set<std::string>& dropped) {
    for (int k = 5; k <= 6 && k < n.input_size(); ++k) {
      const auto* p = producerOf(n.input(k));
      if (!p || p->op_type() != "ConstantOfShape") continue;
      bool zero = true;
      for (const auto& a : p->attribute())
        if (a.name() == "value") {
          auto v = tensorFromProto(a.t());
          zero = v && std::all_of(v->values.begin(), v->values.end(), [](double x) { return x == 0.0; });
        }
      if (!zero) continue;
      dropped.insert(n.input(k));
      n.set_input(k, "");
    }
  }

  // The batch_first chains around `n`; false (and nothing changed) when they are not there.
  bool toBatchFirst(onnx::NodeProto& n) {
    const auto* in = producerOf(n.input(0));
    if (!isPerm(in, {1, 0, 2}) || !onlyConsumer(n.input(0))) return false;
    std::vector<std::function<void()>> edits;
    // Y
    if (n.output_size() > 0 && !n.output(0).empty() && consumers_.count(n.output(0))) {
      onnx::NodeProto* c = onlyConsumer(n.output(0));
      if (!c) return false;
      if (c->op_type() == "Squeeze" && c->input_size() == 2 && constantIs(c->input(1), {1})) {
        onnx::NodeProto* t = onlyConsumer(c->output(0));
        if (!isPerm(t, {1, 0, 2})) return false;
        const std::string axes = n.name() + n.output(0) + "/nnc_batch_first_axes";
        edits.push_back([this, c, t, axes] {
          onnx::TensorProto* a = g_.add_initializer();
          a->set_name(axes);
          a->set_data_type(kInt64);
          a->add_dims(1);
          a->add_int64_data(2);
          c->set_input(1, axes);
          toIdentity(*t);
        });
      } else if (isPerm(c, {0, 2, 1, 3})) {
        onnx::NodeProto* re = onlyConsumer(c->output(0));
        if (!re || re->op_type() != "Reshape" || re->input_size() < 2 || !constantIs(re->input(1), {0, 0, -1})) return false;
        onnx::NodeProto* t = onlyConsumer(re->output(0));
        if (!isPerm(t, {1, 0, 2})) return false;
        edits.push_back([c, t] {
          toIdentity(*c);
          toIdentity(*t);
        });
      } else {
        return false;
      }
    }
    // Y_h, Y_c: [dirs, batch, H] becomes [batch, dirs, H].
    for (int k = 1; k < n.output_size(); ++k) {
      const std::string& name = n.output(k);
      if (name.empty() || !consumers_.count(name)) continue;
      if (graphOutputs_.count(name)) return false;
      for (int i : consumers_[name]) {
        onnx::NodeProto* c = g_.mutable_node(i);
        if (c->op_type() != "Gather" || c->input(0) != name || intAttr(*c, "axis", 0) != 0) return false;
        edits.push_back([c] { setIntAttr(*c, "axis", 1); });
      }
    }
    batchFirstInputs_[n.input(0)] = in->input(0);
    n.set_input(0, in->input(0));
    setIntAttr(n, "layout", 1);
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
