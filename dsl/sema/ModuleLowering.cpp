// lowerModule: the declarations of a module, in order. Each declaration is checked on its
// own: when one fails, its name is bound as "poisoned" so that later uses are skipped
// silently instead of cascading, and checking goes on, so that one run reports every error.
#include <set>

#include "compiler/ir/Verifier.h"
#include "dsl/Frontend.h"
#include "dsl/sema/ArgBinder.h"
#include "dsl/sema/Builders.h"
#include "dsl/sema/Registry.h"
#include "dsl/sema/Sema.h"
#include "dsl/sema/TrainBlock.h"
#include "dsl/sema/TuneBlock.h"

namespace nnc {

namespace {

using sema::Sema;

// `f32[batch, 28, 28]` -> a TensorType; `batch` only as the first dimension of an input.
std::optional<TensorType> lowerType(Sema& s, const ast::TypeExpr& t, bool isInput) {
  bool ok = true;
  TensorType out;
  if (t.dtype == "f32") {
    out.dtype = DType::F32;
  } else if (t.dtype == "i32") {
    out.dtype = DType::I32;
  } else {
    std::string hint = sema::suggest(t.dtype, {"f32", "i32"});
    s.error(t.loc, "unknown element type '" + t.dtype + "'" + (hint.empty() ? " (expected f32 or i32)" : hint));
    ok = false;
  }
  for (size_t i = 0; i < t.dims.size(); ++i) {
    const ast::Dim& d = t.dims[i];
    if (d.isName) {
      if (d.name != "batch") {
        s.error(d.loc, "unknown dimension '" + d.name + "'" + sema::suggest(d.name, {"batch"}) +
                           ": a dimension is an integer or batch");
        ok = false;
      } else if (!isInput || i != 0) {
        s.error(d.loc, "batch may only be the first dimension of an input");
        ok = false;
      }
      out.shape.dims.push_back(kBatch);
    } else {
      if (d.value <= 0) {
        s.error(d.loc, "dimensions must be positive, got " + (d.text.empty() ? std::to_string(d.value) : d.text));
        ok = false;
      }
      out.shape.dims.push_back(d.value);
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

class ModuleLowering {
 public:
  ModuleLowering(Model& model, const FrontendLimits& limits) : s_(model, limits) {}

  void run(const ast::Module& source, const HyperparameterValues& values) {
    // The tune block first: its names stand for numbers in every other declaration.
    const ast::Module& m = tuneBlock(source, values);
    // A broken tune block leaves its names without values: their uses would only repeat it.
    if (s_.hasErrors()) return;
    for (const ast::Decl& d : m.decls)
      if (d.kind == ast::DeclKind::Input || d.kind == ast::DeclKind::Param || d.kind == ast::DeclKind::Assign)
        s_.declareAhead(d.name, d.nameLoc);
    // cross_entropy calls anywhere in the model read the train block's class weights.
    for (const ast::Decl& d : m.decls)
      if (d.kind == ast::DeclKind::Train)
        for (const ast::TrainEntry& e : d.entries) s_.trainHasClassWeights |= e.key == "class_weights";

    const ast::Decl* train = nullptr;
    for (const ast::Decl& d : m.decls) {
      switch (d.kind) {
        case ast::DeclKind::Input: input(d); break;
        case ast::DeclKind::Param: param(d); break;
        case ast::DeclKind::Assign: assign(d); break;
        case ast::DeclKind::Output: outputRef(d); break;
        case ast::DeclKind::Tune: break;  // done first
        case ast::DeclKind::Train:
          if (train) {
            s_.error(d.loc, "only one train block is allowed; the first is at " + sema::locStr(train->loc));
            break;
          }
          train = &d;
          trainBlock(d);
          break;
      }
    }
    if (s_.model().tune && !s_.hasErrors()) sema::checkTuneAgainstTraining(s_, *s_.model().tune);
    if (!s_.hasErrors())
      if (Result<void> v = verifyGraph(s_.graph()); !v)
        s_.error(v.error().loc, "internal error: " + v.error().message);
  }

  Sema& sema() { return s_; }

 private:
  void row(const std::string& name, const std::string& kind, NodeId node, int64_t trainable, int64_t nonTrainable) {
    s_.model().layers.push_back(LayerRow{name, kind, s_.type(node).shape, trainable, nonTrainable});
  }

  void input(const ast::Decl& d) {
    std::optional<TensorType> t = lowerType(s_, d.type, true);
    if (t && !s_.checkTensorSize("input '" + d.name + "'", t->shape, d.type.loc)) t.reset();
    if (!t) {
      s_.define(d.name, kNoNode, d.nameLoc, true);
      return;
    }
    if (s_.lookup(d.name)) {
      s_.define(d.name, kNoNode, d.nameLoc);  // reports the duplicate
      return;
    }
    NodeId id = s_.graph().addLeaf(OpKind::Input, d.name, *t, {}, d.nameLoc);
    s_.define(d.name, id, d.nameLoc);
    row(d.name, "InputLayer", id, 0, 0);
  }

  void param(const ast::Decl& d) {
    s_.beginDeclaration(d.name);
    std::optional<TensorType> t = lowerType(s_, d.type, false);
    if (t && t->dtype != DType::F32) {
      s_.error(d.type.loc, "param '" + d.name + "' must be f32: parameters are trained by gradients");
      t.reset();
    }
    std::optional<sema::BoundCall> init;
    if (d.value) {
      init = sema::bindCallableExpr(s_, sema::Family::Initializer, *d.value, "the initializer of '" + d.name + "'");
    } else if (t) {
      const char* def = t->shape.rank() >= 2 ? "glorot_uniform" : "zeros";
      init = sema::bindCall(s_, *sema::Registry::instance().find(sema::Family::Initializer, def), d.nameLoc, {});
    }
    if (!t || !init || s_.lookup(d.name)) {
      s_.define(d.name, kNoNode, d.nameLoc, true);  // poisons it, or reports a duplicate
      return;
    }
    sema::InitSpec spec = sema::initSpec(*init);
    std::optional<NodeId> id = s_.createLeaf(OpKind::Param, d.name, t->shape, spec.name, spec.args, d.nameLoc);
    if (!id) {
      s_.define(d.name, kNoNode, d.nameLoc, true);
      return;
    }
    s_.define(d.name, *id, d.nameLoc);
    row(d.name, "Parameter", *id, s_.trainableCreated(), 0);
  }

  void assign(const ast::Decl& d) {
    s_.beginDeclaration(d.name, s_.lookup(d.name) != nullptr);
    const size_t firstNew = s_.graph().size();
    std::optional<NodeId> v = d.value ? s_.lowerExpr(*d.value, true) : std::nullopt;
    if (!v) {
      if (!d.value) s_.error(d.loc, "internal: assignment without a value");
      s_.define(d.name, kNoNode, d.nameLoc, true);  // poisons it, or reports a duplicate
      return;
    }
    if (!s_.define(d.name, *v, d.nameLoc)) return;
    // Readable IR: the node this declaration made carries its name (a plain alias `y = x`
    // made none and keeps the name it had; the only leaves a declaration makes are constants).
    Node& n = s_.graph().node(*v);
    if (static_cast<size_t>(*v) >= firstNew && n.name.empty()) n.name = d.name;
    const sema::Callable* root = s_.rootCallee();
    row(d.name, root ? s_.rootSummaryKind() : "Lambda", *v, s_.trainableCreated(), s_.nonTrainableCreated());
    if (d.isOutput) addOutput(d.name, *v, d.nameLoc);
  }

  void outputRef(const ast::Decl& d) {
    ast::Expr ref;
    ref.kind = ast::ExprKind::Name;
    ref.loc = d.nameLoc;
    ref.text = d.name;
    std::optional<NodeId> v = s_.lowerExpr(ref);
    if (v) addOutput(d.name, *v, d.nameLoc);
  }

  void addOutput(const std::string& name, NodeId node, SourceLoc loc) {
    if (auto it = outputs_.find(name); it != outputs_.end()) {
      s_.error(loc, "'" + name + "' is already an output (at " + sema::locStr(it->second) + ")");
      return;
    }
    outputs_.emplace(name, loc);
    s_.graph().outputs.push_back(Output{name, node});
  }

  // Checks the tune block and returns the module with its names replaced by their values
  // (or `source` itself when there is no tune block).
  const ast::Module& tuneBlock(const ast::Module& source, const HyperparameterValues& values) {
    const ast::Decl* tune = nullptr;
    for (const ast::Decl& d : source.decls) {
      if (d.kind != ast::DeclKind::Tune) continue;
      if (tune) {
        s_.error(d.loc, "only one tune block is allowed; the first is at " + sema::locStr(tune->loc));
        continue;
      }
      tune = &d;
    }
    if (!tune) return source;
    std::optional<TuneSpace> space = sema::lowerTuneBlock(s_, *tune);
    if (!space) return source;
    for (const Hyperparameter& h : space->params)
      for (const ast::Decl& d : source.decls)
        if ((d.kind == ast::DeclKind::Input || d.kind == ast::DeclKind::Param || d.kind == ast::DeclKind::Assign) &&
            d.name == h.name)
          s_.error(d.nameLoc, "'" + h.name + "' is already a tune name (at " + sema::locStr(h.loc) + ")");
    substituted_ = sema::substituteHyperparameters(source, *space, values, s_.model().hyperparameters);
    s_.model().tune = std::move(*space);
    return substituted_;
  }

  void trainBlock(const ast::Decl& d) {
    s_.beginDeclaration("");
    sema::lowerTrainBlock(s_, d);
    // Layers named inside the loss (`mse(dense(x, 1, name = "fc"), y)`) are layers of the
    // model like the others: a row each, under their own names, so the rows add up to the
    // total and say where the parameters are.
    if (!s_.model().train) return;
    int64_t trainable = s_.trainableCreated(), nonTrainable = s_.nonTrainableCreated();
    for (const sema::Sema::NestedLayer& l : s_.nestedLayers()) {
      row(l.name, l.kind, l.node, l.trainable, l.nonTrainable);
      trainable -= l.trainable, nonTrainable -= l.nonTrainable;
    }
    // Anything else the block created (nothing today) keeps the block's own row.
    if (trainable || nonTrainable) row("train", "Loss", s_.model().train->loss, trainable, nonTrainable);
  }

  Sema s_;
  std::map<std::string, SourceLoc> outputs_;
  ast::Module substituted_;
};

}  // namespace

std::optional<Model> lowerModule(const ast::Module& module, DiagnosticEngine& diags, const FrontendLimits& limits,
                                 const HyperparameterValues& hyperparameters) {
  Model model;
  model.name = module.name;
  model.graph.name = module.name;
  ModuleLowering lowering(model, limits);
  lowering.sema().setSourceFile(diags.fileName());
  lowering.run(module, hyperparameters);
  bool failed = lowering.sema().hasErrors();
  lowering.sema().flushErrors(diags);
  if (failed) return std::nullopt;
  return model;
}

}  // namespace nnc
