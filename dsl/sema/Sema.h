#pragma once
// The state of checking and lowering one module: the Model being built, the names defined
// so far, the parameters created, and the errors found. Builders of callables use it to emit
// IR (every emission reports its shape-rule error at the call's position) and to create
// parameters (duplicate names and size limits are checked here, once).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/Model.h"
#include "support/Diagnostics.h"
#include "dsl/Frontend.h"
#include "dsl/ast/AST.h"
#include "dsl/sema/ConstEval.h"

namespace nnc::sema {

struct Callable;

// A loss call the model made, so the train block can tell what accuracy means for it.
struct LossRecord {
  NodeId node = kNoNode;
  AccuracyKind accuracy = AccuracyKind::None;
  NodeId prediction = kNoNode;
  NodeId labels = kNoNode;
};

class Sema {
 public:
  explicit Sema(Model& model, const FrontendLimits& limits = {}) : model_(model), limits_(limits) {}

  Model& model() { return model_; }
  // The .nn file being lowered (as the diagnostics name it): `onnx("m.onnx", ...)` reads
  // paths relative to its folder.
  void setSourceFile(std::string path) { sourceFile_ = std::move(path); }
  const std::string& sourceFile() const { return sourceFile_; }
  const FrontendLimits& limits() const { return limits_; }
  Graph& graph() { return model_.graph; }
  // A copy: adding nodes moves the graph's storage, so references into it would dangle.
  TensorType type(NodeId id) const { return model_.graph.type(id); }

  // ---- Errors: buffered, then reported sorted by position (see flushErrors).
  void error(SourceLoc loc, std::string message);
  // A legal construct that is probably a mistake (reported with the errors, fails nothing).
  void warning(SourceLoc loc, std::string message);
  bool hasErrors() const { return errorCount_ > 0; }
  void flushErrors(DiagnosticEngine& diags);

  // ---- Emitting IR
  // An op whose shape rule must accept its operands; a refusal is reported at `loc`.
  std::optional<NodeId> emit(OpKind op, std::vector<NodeId> inputs, Attrs attrs, SourceLoc loc);
  NodeId constant(double value, DType dtype = DType::F32);
  NodeId constantVector(const std::vector<double>& values);  // f32[n]
  // A folded number used as a tensor beside a tensor of dtype `like` (`x * 2`, `maximum(x, 0)`).
  std::optional<NodeId> literal(const ConstValue& v, DType like, const std::string& subject);
  // An elementwise binary op with NumPy broadcasting; `subject` names the operands in
  // messages ("operands of '+'").
  std::optional<NodeId> elementwise(OpKind op, NodeId a, NodeId b, const std::string& subject, SourceLoc loc);
  // `activation = NAME` of a layer (`none` returns x unchanged).
  std::optional<NodeId> activation(const std::string& name, NodeId x, SourceLoc loc);
  // Reshape to a full target shape (batch = kBatch first where x has it).
  std::optional<NodeId> reshape(NodeId x, std::vector<int64_t> dims, SourceLoc loc);

  // ---- Expressions
  // `root`: the whole right-hand side of an assignment (layers there are named after it).
  std::optional<NodeId> lowerExpr(const ast::Expr& e, bool root = false);

  // ---- Parameters and state
  // A Param (trainable) or State leaf named `name`, initialised by `init(initArgs)`. Refuses
  // duplicate names and tensors over limits().maxTensorBytes. Counts toward the current layer row.
  std::optional<NodeId> createLeaf(OpKind kind, const std::string& name, const Shape& shape,
                                   const std::string& init, const std::vector<double>& initArgs,
                                   SourceLoc loc);
  // Refuses shapes whose sample is too large to be a tensor we can hold; `what` names it.
  bool checkTensorSize(const std::string& what, const Shape& shape, SourceLoc loc);

  // ---- Names in scope
  struct Binding {
    NodeId node = kNoNode;
    SourceLoc loc;
    bool poisoned = false;  // its declaration failed: uses are silently skipped
  };
  const Binding* lookup(const std::string& name) const;
  // Binds `name`; reports a duplicate (pointing at the first definition) and returns false.
  bool define(const std::string& name, NodeId node, SourceLoc loc, bool poisoned = false);
  // Names declared anywhere in the file, for "used before its definition".
  void declareAhead(const std::string& name, SourceLoc loc);
  // Where `name` is declared further down the file, if it is.
  std::optional<SourceLoc> declaredAhead(const std::string& name) const;
  std::vector<std::string> namesInScope() const;

  // ---- Per-declaration bookkeeping (layer rows of `nnc summary`)
  // `redefinition`: the name is already taken (reported once, by the caller); its layers'
  // parameters would clash too, which is not worth a second error.
  void beginDeclaration(const std::string& assignName, bool redefinition = false);
  const std::string& assignName() const { return assignName_; }
  int64_t trainableCreated() const { return trainableCreated_; }
  int64_t nonTrainableCreated() const { return nonTrainableCreated_; }
  void setRootCallee(const Callable* c, std::string summaryKind) {
    rootCallee_ = c;
    rootSummaryKind_ = std::move(summaryKind);
  }
  const Callable* rootCallee() const { return rootCallee_; }
  // The root call's summary kind (Callable::summaryKindOf, else its summaryKind).
  const std::string& rootSummaryKind() const { return rootSummaryKind_; }

  // A layer called inside an expression (`mse(dense(h, 1, name = "aux"), y)`), so that the
  // train block can give it a row of its own in `nnc summary`.
  struct NestedLayer {
    std::string name, kind;
    NodeId node = kNoNode;
    int64_t trainable = 0, nonTrainable = 0;
  };
  void recordNestedLayer(NestedLayer l) { nestedLayers_.push_back(std::move(l)); }
  // Those recorded since the current declaration began.
  const std::vector<NestedLayer>& nestedLayers() const { return nestedLayers_; }

  // ---- Losses and class weights (read by the train block)
  void recordLoss(const LossRecord& r) { losses_.push_back(r); }
  const std::vector<LossRecord>& losses() const { return losses_; }
  // The train block names class_weights: cross_entropy without its own weights reads them.
  bool trainHasClassWeights = false;
  // The State leaf "class_weights" f32[classes], created by the first cross_entropy that
  // needs it; a later one with another class count is an error.
  std::optional<NodeId> classWeightsState(int64_t classes, SourceLoc loc);
  NodeId existingClassWeightsState() const { return classWeightsState_; }

 private:
  Model& model_;
  FrontendLimits limits_;
  std::string sourceFile_;
  std::vector<Diagnostic> errors_;  // and warnings
  size_t errorCount_ = 0;
  std::map<std::string, Binding> scope_;
  std::map<std::string, SourceLoc> declaredAhead_;
  std::map<std::string, SourceLoc> leafNames_;  // parameter and state names -> where created
  std::string assignName_;
  bool redefinition_ = false;
  int64_t trainableCreated_ = 0;
  int64_t nonTrainableCreated_ = 0;
  const Callable* rootCallee_ = nullptr;
  std::string rootSummaryKind_;
  std::vector<LossRecord> losses_;
  std::vector<NestedLayer> nestedLayers_;
  NodeId classWeightsState_ = kNoNode;
};

// " (did you mean 'x'?)" for words of 3 characters or more: for shorter ones every other
// short name is "close", and the hint would be noise ('q' -> 'x').
std::string suggest(const std::string& word, const std::vector<std::string>& candidates);

// "9:1" for messages that point at another place in the file.
std::string locStr(SourceLoc loc);

}  // namespace nnc::sema
