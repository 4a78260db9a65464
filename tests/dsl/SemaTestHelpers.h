#pragma once
// Helpers for the semantic-analysis tests: compile a model text, expecting success or errors.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "compiler/ir/Model.h"
#include "dsl/Frontend.h"

namespace nnc::testing {

// Compiles `source`; on failure the test fails with the rendered diagnostics.
inline Model compileOk(const std::string& source) {
  DiagnosticEngine diags("test.nn", source);
  std::optional<Model> m = compileModel(source, diags);
  EXPECT_TRUE(m.has_value()) << diags.renderToString();
  return m ? std::move(*m) : Model{};
}

// Compiles `source`, expecting errors; returns them as rendered (empty when it compiled).
inline std::string compileErrors(const std::string& source) {
  DiagnosticEngine diags("test.nn", source);
  std::optional<Model> m = compileModel(source, diags);
  EXPECT_FALSE(m.has_value()) << "expected errors, but it compiled";
  return diags.renderToString();
}

// Only the messages, one per line (no positions or source lines).
inline std::string errorMessages(const std::string& source) {
  DiagnosticEngine diags("test.nn", source);
  std::optional<Model> m = compileModel(source, diags);
  EXPECT_FALSE(m.has_value()) << "expected errors, but it compiled";
  std::string out;
  for (const Diagnostic& d : diags.diagnostics()) out += d.message + "\n";
  return out;
}

// A model header with the usual inputs, to keep test sources short.
inline std::string withImages(const std::string& body) {
  return "model t\ninput image: f32[batch, 28, 28]\ninput label: i32[batch]\n" + body;
}

inline NodeId leaf(const Model& m, OpKind op, const std::string& name) { return m.graph.findLeaf(op, name); }

inline TensorType typeOf(const Model& m, const std::string& name) {
  for (const Output& o : m.graph.outputs)
    if (o.name == name) return m.graph.type(o.node);
  for (size_t i = 0; i < m.graph.size(); ++i)
    if (m.graph.nodes()[i].name == name) return m.graph.nodes()[i].type;
  ADD_FAILURE() << "no node named " << name;
  return {};
}

inline int64_t totalParams(const Model& m) {
  int64_t n = 0;
  for (const LayerRow& r : m.layers) n += r.trainableParams + r.nonTrainableParams;
  return n;
}

}  // namespace nnc::testing
