#include "dsl/sema/Sema.h"

#include <algorithm>
#include <cstdio>

#include "compiler/ir/ShapeRules.h"
#include "compiler/ir/TypedAttrs.h"
#include "support/Suggest.h"
#include "dsl/sema/ArgBinder.h"
#include "dsl/sema/Registry.h"

namespace nnc::sema {

std::string suggest(const std::string& word, const std::vector<std::string>& candidates) {
  return word.size() < 3 ? std::string() : didYouMean(word, candidates);
}

std::string locStr(SourceLoc loc) { return std::to_string(loc.line) + ":" + std::to_string(loc.col); }

void Sema::error(SourceLoc loc, std::string message) {
  errors_.push_back(Diagnostic{loc, std::move(message), Severity::Error});
  ++errorCount_;
}

void Sema::warning(SourceLoc loc, std::string message) {
  errors_.push_back(Diagnostic{loc, std::move(message), Severity::Warning});
}

void Sema::flushErrors(DiagnosticEngine& diags) {
  // Declarations are checked in order, but a declaration's own errors can come out of order
  // (a train block checks its keys before its loss); users read errors top to bottom.
  auto key = [](const Diagnostic& d) {
    return std::pair{d.loc.valid() ? d.loc.line : UINT32_MAX, d.loc.col};
  };
  std::stable_sort(errors_.begin(), errors_.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
  for (Diagnostic& d : errors_) diags.report(std::move(d));
  errors_.clear();
  errorCount_ = 0;
}

std::optional<NodeId> Sema::emit(OpKind op, std::vector<NodeId> inputs, Attrs attrs, SourceLoc loc) {
  Result<NodeId> id = graph().add(op, std::move(inputs), std::move(attrs), loc);
  if (!id) {
    error(loc, id.error().message);
    return std::nullopt;
  }
  return *id;
}

NodeId Sema::constant(double value, DType dtype) {
  return graph().addLeaf(OpKind::Constant, "", TensorType{dtype, Shape{}}, ConstantAttr{value, std::nullopt}.attrs());
}

NodeId Sema::constantVector(const std::vector<double>& values) {
  return graph().addLeaf(OpKind::Constant, "", TensorType{DType::F32, Shape{static_cast<int64_t>(values.size())}},
                         ConstantAttr{std::nullopt, values}.attrs());
}

std::optional<NodeId> Sema::literal(const ConstValue& v, DType like, const std::string& subject) {
  if (like == DType::I32 && !v.isInteger) {
    error(v.loc, subject + " have different dtypes: " + v.text + " is not an integer, and the other operand is i32");
    return std::nullopt;
  }
  return constant(v.number, like);
}

std::optional<NodeId> Sema::elementwise(OpKind op, NodeId a, NodeId b, const std::string& subject, SourceLoc loc) {
  const TensorType ta = type(a), tb = type(b);
  if (ta.dtype != tb.dtype) {
    error(loc, subject + " have different dtypes: " + ta.str() + " and " + tb.str());
    return std::nullopt;
  }
  if ((op == OpKind::Div || op == OpKind::Pow) && ta.dtype != DType::F32) {
    error(loc, subject + " must be f32, got " + ta.str() + " and " + tb.str());
    return std::nullopt;
  }
  if (Result<Shape> s = broadcastShapes(ta.shape, tb.shape); !s) {
    std::string why = s.error().message;
    bool batchMoves = why.find("batch would not stay") != std::string::npos;
    error(loc, subject + " cannot be broadcast together: " + ta.str() + " and " + tb.str() +
                   (batchMoves ? " (batch would not stay the first dimension)" : ""));
    return std::nullopt;
  }
  return emit(op, {a, b}, {}, loc);
}

std::optional<NodeId> Sema::activation(const std::string& name, NodeId x, SourceLoc loc) {
  if (name == "none") return x;
  const Callable* c = Registry::instance().find(Family::Expression, name);
  if (!c || !c->isActivation || !c->build) {
    error(loc, "internal: '" + name + "' is not an activation");
    return std::nullopt;
  }
  std::optional<BoundCall> bound = bindDefaults(*this, *c, loc, x);
  if (!bound) return std::nullopt;
  return c->build(*this, *bound);
}

std::optional<NodeId> Sema::reshape(NodeId x, std::vector<int64_t> dims, SourceLoc loc) {
  return emit(OpKind::Reshape, {x}, ShapeAttr{std::move(dims)}.attrs(), loc);
}

namespace {
std::string gib(long double bytes) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1Lf GiB", bytes / (1024.0L * 1024 * 1024));
  return buf;
}
}  // namespace

bool Sema::checkTensorSize(const std::string& what, const Shape& shape, SourceLoc loc) {
  // Long double: the product of user-written dimensions may overflow any integer type.
  long double elements = 1;
  for (int64_t d : shape.dims)
    if (d != kBatch) elements *= static_cast<long double>(d);
  long double bytes = elements * 4;
  if (bytes <= static_cast<long double>(limits_.maxTensorBytes)) return true;
  char count[48];
  std::snprintf(count, sizeof count, "%.0Lf", elements);
  error(loc, what + " has " + count + " elements" + (shape.isBatched() ? " per sample" : "") + " (" + gib(bytes) +
                 " as f32), more than the limit of " + gib(static_cast<long double>(limits_.maxTensorBytes)) +
                 " per tensor");
  return false;
}

std::optional<NodeId> Sema::createLeaf(OpKind kind, const std::string& name, const Shape& shape,
                                       const std::string& init, const std::vector<double>& initArgs,
                                       SourceLoc loc) {
  if (auto it = leafNames_.find(name); it != leafNames_.end()) {
    bool sameLayerName = redefinition_ && name.rfind(assignName_ + ".", 0) == 0;
    if (!sameLayerName) error(loc, "parameter '" + name + "' is already defined at " + locStr(it->second));
    return std::nullopt;
  }
  for (int64_t d : shape.dims)
    if (d <= 0) {
      error(loc, "parameter '" + name + "' would have the shape " + shape.str() + ": dimensions must be positive");
      return std::nullopt;
    }
  if (!checkTensorSize("parameter '" + name + "'", shape, loc)) return std::nullopt;
  leafNames_.emplace(name, loc);
  Attrs attrs = InitAttr{init, initArgs}.attrs();
  NodeId id = graph().addLeaf(kind, name, TensorType{DType::F32, shape}, std::move(attrs), loc);
  (kind == OpKind::Param ? trainableCreated_ : nonTrainableCreated_) += shape.numElements();
  return id;
}

const Sema::Binding* Sema::lookup(const std::string& name) const {
  auto it = scope_.find(name);
  return it == scope_.end() ? nullptr : &it->second;
}

bool Sema::define(const std::string& name, NodeId node, SourceLoc loc, bool poisoned) {
  if (auto it = scope_.find(name); it != scope_.end()) {
    error(loc, "'" + name + "' is already defined at " + locStr(it->second.loc));
    return false;
  }
  scope_.emplace(name, Binding{node, loc, poisoned});
  return true;
}

void Sema::declareAhead(const std::string& name, SourceLoc loc) { declaredAhead_.emplace(name, loc); }

std::optional<SourceLoc> Sema::declaredAhead(const std::string& name) const {
  auto it = declaredAhead_.find(name);
  if (it == declaredAhead_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Sema::namesInScope() const {
  std::vector<std::string> out;
  for (const auto& [name, b] : scope_) out.push_back(name);
  return out;
}

void Sema::beginDeclaration(const std::string& assignName, bool redefinition) {
  assignName_ = assignName;
  redefinition_ = redefinition;
  trainableCreated_ = nonTrainableCreated_ = 0;
  rootCallee_ = nullptr;
  rootSummaryKind_.clear();
  nestedLayers_.clear();
}

std::optional<NodeId> Sema::classWeightsState(int64_t classes, SourceLoc loc) {
  if (classWeightsState_ != kNoNode) {
    int64_t have = type(classWeightsState_).shape[0];
    if (have == classes) return classWeightsState_;
    error(loc, "the train block's class_weights apply to every cross_entropy, but this one has " +
                   std::to_string(classes) + " classes and an earlier one " + std::to_string(have));
    return std::nullopt;
  }
  const std::string name = "class_weights";
  if (auto it = leafNames_.find(name); it != leafNames_.end()) {
    error(loc, "the train block's class_weights need the name 'class_weights', already used at " + locStr(it->second));
    return std::nullopt;
  }
  leafNames_.emplace(name, loc);
  classWeightsState_ = graph().addLeaf(OpKind::State, name, TensorType{DType::F32, Shape{classes}},
                                       InitAttr{"class_weights", {}}.attrs(), loc);
  return classWeightsState_;
}

}  // namespace nnc::sema
