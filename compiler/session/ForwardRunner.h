#pragma once
// A model's inference graph compiled with every declared output, its parameters and state
// initialised (from their initializers: for an imported ONNX model, the file's weights).
// `predict --out DIR/` and the ONNX conformance harness run models through it.
#include <memory>
#include <span>
#include <string>

#include "compiler/codegen/CompiledModel.h"
#include "compiler/ir/Model.h"
#include "support/Result.h"

namespace nnc {

class ForwardRunner {
 public:
  static Result<std::unique_ptr<ForwardRunner>> create(const Model& model, const CompileOptions& options = {},
                                                       uint64_t seed = 0);
  // Inputs in graph order (every Input leaf) and the model's outputs, in order.
  const EntryInfo& entry() const { return compiled_->inference(); }
  // A parameter or state tensor by name (to load a checkpoint); empty when unknown.
  std::span<float> state(const std::string& name) { return compiled_->tensor(name); }
  Result<void> run(std::span<const void* const> inputs, std::span<void* const> outputs, int64_t batch) {
    return compiled_->forward(inputs, outputs, batch);
  }

 private:
  std::unique_ptr<CompiledModel> compiled_;
};

}  // namespace nnc
