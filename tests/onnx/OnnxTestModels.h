#pragma once
// Small ONNX models built with the protobuf API, for the importer's tests.
#include <onnx/onnx_pb.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace nnc::onnxtest {

// A dimension: >= 0 a value, -1 a dim_param named "N".
inline void addValueInfo(onnx::ValueInfoProto* v, const std::string& name, int32_t elem, std::vector<int64_t> dims) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  auto* shape = tt->mutable_shape();
  for (int64_t d : dims) {
    auto* dim = shape->add_dim();
    if (d >= 0) dim->set_dim_value(d);
    else dim->set_dim_param("N");
  }
}

inline onnx::ModelProto newModel(int64_t opset = 17) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  m.mutable_graph()->set_name("test");
  return m;
}

inline onnx::NodeProto* addNode(onnx::ModelProto& m, const std::string& type, std::vector<std::string> in,
                                std::vector<std::string> out, const std::string& name = "") {
  auto* n = m.mutable_graph()->add_node();
  n->set_op_type(type);
  n->set_name(name.empty() ? out.at(0) + "_node" : name);
  for (auto& s : in) n->add_input(s);
  for (auto& s : out) n->add_output(s);
  return n;
}

inline void addIntsAttr(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

inline void addIntAttr(onnx::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

inline void addInitializer(onnx::ModelProto& m, const std::string& name, int32_t elem, std::vector<int64_t> dims,
                           std::vector<double> values) {
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(elem);
  for (int64_t d : dims) t->add_dims(d);
  for (double v : values) {
    if (elem == 1) t->add_float_data(static_cast<float>(v));
    else t->add_int64_data(static_cast<int64_t>(v));
  }
}

inline std::string bytes(const onnx::ModelProto& m) { return m.SerializeAsString(); }

}  // namespace nnc::onnxtest
