#include "compiler/train/GradCheck.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>
#include <unordered_map>

#include "compiler/interp/Interpreter.h"
#include "compiler/ir/TypedAttrs.h"
#include "support/Philox.h"
#include "compiler/train/Initializers.h"
#include "compiler/train/TrainingGraph.h"

namespace nnc {

namespace {

// The number of classes an integer input encodes: the depth of a one_hot it feeds (through
// integer-valued reshapes and the like) or the vocabulary of an embedding it indexes, else 2.
int64_t labelClasses(const Graph& g, NodeId input) {
  std::vector<bool> reached(g.size(), false);
  reached[static_cast<size_t>(input)] = true;
  int64_t classes = 0;
  for (size_t i = static_cast<size_t>(input) + 1; i < g.size(); ++i) {
    const Node& n = g.nodes()[i];
    bool fromInput = std::any_of(n.inputs.begin(), n.inputs.end(), [&](NodeId in) { return reached[static_cast<size_t>(in)]; });
    if (!fromInput) continue;
    if (n.op == OpKind::OneHot) classes = std::max(classes, DepthAttr::of(n).depth);
    // Embedding ids (issue 13): anywhere in the vocabulary.
    if (n.op == OpKind::Embedding && reached[static_cast<size_t>(n.inputs[1])])
      classes = std::max(classes, g.type(n.inputs[0]).shape[0]);
    if (n.type.dtype == DType::I32) reached[i] = true;
  }
  return classes > 0 ? classes : 2;
}

Tensor randomInput(const Graph& g, NodeId id, const GradCheckOptions& o) {
  const Node& n = g.node(id);
  std::vector<int64_t> dims = n.type.shape.dims;
  for (int64_t& d : dims)
    if (d == kBatch) d = o.batch;
  Tensor t(n.type.dtype, dims);
  uint64_t salt = fnv1a64("gradcheck input " + n.name);
  int64_t classes = n.type.dtype == DType::I32 ? labelClasses(g, id) : 0;
  for (int64_t i = 0; i < t.size(); ++i) {
    double u = philoxUniform(o.seed, salt, 0, static_cast<uint64_t>(i));
    t.data[static_cast<size_t>(i)] = classes ? std::min<double>(std::floor(u * double(classes)), double(classes - 1)) : u;
  }
  return t;
}

// The entries of a parameter to compare: all of a small one, else distinct random ones.
std::vector<int64_t> entriesToCheck(const std::string& name, int64_t total, const GradCheckOptions& o) {
  std::vector<int64_t> out;
  if (total <= o.allEntriesUpTo || total <= o.sampledEntries) {
    for (int64_t i = 0; i < total; ++i) out.push_back(i);
    return out;
  }
  std::set<int64_t> chosen;
  uint64_t salt = fnv1a64("gradcheck entries " + name);
  for (uint64_t k = 0; static_cast<int64_t>(chosen.size()) < o.sampledEntries && k < 1000u * uint64_t(o.sampledEntries); ++k) {
    double u = philoxUniform(o.seed, salt, 0, k);
    chosen.insert(std::min<int64_t>(static_cast<int64_t>(u * double(total)), total - 1));
  }
  return {chosen.begin(), chosen.end()};
}

// The loss as a function of one parameter: the nodes of the forward graph that depend on it,
// every other value it reads fed in as an Input computed once ("__fixed.<id>"), and every
// leaf of the graph (the batch size comes from the Inputs).
struct LossOfParam {
  Graph graph;
  LeafValues leaves;
  NodeId param = kNoNode;
};

std::vector<bool> dependsOn(const Graph& g, NodeId root, NodeId upTo) {
  std::vector<bool> dep(static_cast<size_t>(upTo) + 1, false);
  dep[static_cast<size_t>(root)] = true;
  for (size_t i = static_cast<size_t>(root) + 1; i < dep.size(); ++i)
    for (NodeId in : g.nodes()[i].inputs) dep[i] = dep[i] || dep[static_cast<size_t>(in)];
  return dep;
}

// Values the param's subgraph reads but cannot change: non-leaf nodes outside it used inside it.
std::vector<NodeId> fixedOperands(const Graph& g, const std::vector<bool>& dep) {
  std::vector<bool> fixed(dep.size(), false);
  for (size_t i = 0; i < dep.size(); ++i) {
    if (!dep[i]) continue;
    for (NodeId in : g.nodes()[i].inputs)
      if (!dep[static_cast<size_t>(in)] && !isLeaf(g.node(in).op)) fixed[static_cast<size_t>(in)] = true;
  }
  std::vector<NodeId> out;
  for (size_t i = 0; i < fixed.size(); ++i)
    if (fixed[i]) out.push_back(static_cast<NodeId>(i));
  return out;
}

LossOfParam restrictToParam(const Graph& g, NodeId param, const std::vector<bool>& dep, const LeafValues& leaves,
                            const std::unordered_map<NodeId, Tensor>& fixedValues) {
  LossOfParam out;
  std::vector<NodeId> map(dep.size(), kNoNode);
  for (size_t i = 0; i < dep.size(); ++i) {
    const Node& n = g.nodes()[i];
    NodeId id = static_cast<NodeId>(i);
    if (isLeaf(n.op)) {
      map[i] = out.graph.addLeaf(n.op, n.name, n.type, n.attrs, n.loc);
      if (auto it = leaves.find(id); it != leaves.end()) out.leaves[map[i]] = it->second;
    } else if (dep[i]) {
      std::vector<NodeId> in;
      for (NodeId old : n.inputs) in.push_back(map[static_cast<size_t>(old)]);
      map[i] = out.graph.addWithType(n.op, in, n.attrs, n.type, n.loc, n.name);
    } else if (auto it = fixedValues.find(id); it != fixedValues.end()) {
      map[i] = out.graph.addLeaf(OpKind::Input, "__fixed." + std::to_string(i), n.type);
      out.leaves[map[i]] = it->second;
    }
  }
  out.graph.loss = map.back();
  out.param = map[static_cast<size_t>(param)];
  return out;
}

// L at the parameter's current value with entry `index` set to `value`.
Result<double> lossWithEntry(LossOfParam& f, int64_t index, double value) {
  double& entry = f.leaves.at(f.param).data[static_cast<size_t>(index)];
  const double saved = entry;
  entry = value;
  Result<std::vector<Tensor>> r = interpret(f.graph, f.leaves, {f.graph.loss}, Precision::F64);
  entry = saved;
  if (!r) return r.error();
  return (*r)[0].data.at(0);
}

struct EntryCheck {
  double numeric = 0, error = 0;
  bool oneSided = false;
};

Result<EntryCheck> checkEntry(LossOfParam& f, int64_t index, double analytic, double loss, const GradCheckOptions& o,
                              double floor) {
  const double w = f.leaves.at(f.param).data[static_cast<size_t>(index)];
  auto errorOf = [&](double n) {
    double e = std::fabs(analytic - n) / std::max({std::fabs(analytic), std::fabs(n), floor});
    return std::isfinite(e) ? e : INFINITY;
  };
  EntryCheck best{0, INFINITY, false};
  // Smaller steps only where the first disagrees: a deep relu stack whose signal has nearly
  // died has activations not much larger than h, so a step of h crosses kinks on both sides
  // of the point; a tenth of it may not. The absolute tolerance covers the rounding noise
  // that grows as the step shrinks (about 2e-16 |L| / h), and a wrong rule disagrees at
  // every step.
  for (int shrink = 0; shrink < o.stepShrinks + 1; ++shrink) {
    const double h = o.relativeStep * std::pow(0.1, shrink) * std::max(1.0, std::fabs(w));
    auto at = [&](double k) { return lossWithEntry(f, index, w + k * h); };
    Result<double> up = at(1), down = at(-1);
    if (!up) return up.error();
    if (!down) return down.error();
    const double central = (*up - *down) / ((w + h) - (w - h));  // the step actually taken
    if (errorOf(central) < best.error) best = EntryCheck{central, errorOf(central), shrink > 0};
    if (best.error <= o.tolerance) return best;
    Result<double> up2 = at(2), down2 = at(-2);
    if (!up2) return up2.error();
    if (!down2) return down2.error();
    for (double n : {(-3 * loss + 4 * *up - *up2) / (2 * h), (3 * loss - 4 * *down + *down2) / (2 * h)})
      if (errorOf(n) < best.error) best = EntryCheck{n, errorOf(n), true};
    if (best.error <= o.tolerance) return best;
  }
  return best;
}

}  // namespace

bool GradCheckReport::passed() const {
  return std::all_of(params.begin(), params.end(), [&](const ParamGradCheck& p) { return p.maxError <= tolerance; });
}

Result<GradCheckReport> gradCheck(const Model& model, const GradCheckOptions& o) {
  // What is checked is the gradient rules, in f64. Products rounded to bf16 (precision =
  // bf16) would make the loss piecewise constant, where finite differences mean nothing, so
  // the check differentiates the model's exact (f32) graph whatever its precision.
  if (model.precision != ProductPrecision::F32) {
    Model exact = model;
    exact.precision = ProductPrecision::F32;
    return gradCheck(exact, o);
  }
  Result<TrainingGraph> tg = buildGradientGraph(model);
  if (!tg) return tg.error();
  return gradCheck(model, *tg, o);
}

Result<GradCheckReport> gradCheck(const Model& model, const TrainingGraph& training, const GradCheckOptions& o) {
  const TrainingGraph* tg = &training;
  const Graph& g = tg->graph;

  Result<LeafValues> init = initialValues(g, o.seed);
  if (!init) return init.error();
  LeafValues leaves = std::move(*init);
  leaves[tg->lr] = Tensor::scalar(0);
  leaves[tg->step] = Tensor::scalar(0);
  for (NodeId in : g.leaves(OpKind::Input)) leaves[in] = randomInput(g, in, o);
  // Class weights: the listed ones, else ones (the initializer's value).
  const TrainConfig& cfg = *model.train;
  if (cfg.classWeightsState != kNoNode && static_cast<size_t>(cfg.classWeightsState) < tg->fromModel.size()) {
    NodeId cw = tg->fromModel[static_cast<size_t>(cfg.classWeightsState)];
    if (cw != kNoNode && cfg.classWeightList.size() == leaves[cw].data.size()) leaves[cw].data = cfg.classWeightList;
  }

  std::vector<NodeId> wanted{g.loss};
  for (const ParamGradient& pg : tg->gradients) wanted.push_back(pg.grad);
  Result<std::vector<Tensor>> analytic = interpret(g, leaves, wanted, Precision::F64);
  if (!analytic) return analytic.error();
  GradCheckReport report;
  report.loss = (*analytic)[0].data.at(0);
  report.tolerance = o.tolerance;
  if (!std::isfinite(report.loss))
    return makeError("gradcheck: the loss is not finite (" + std::to_string(report.loss) + ") at the random point", cfg.loc);
  // |a - n| <= max(tolerance * max(|a|, |n|), absoluteTolerance * max(1, |L|)), written as a
  // relative error against a floor.
  report.floor = o.absoluteTolerance / o.tolerance * std::max(1.0, std::fabs(report.loss));

  // The values each parameter's subgraph reads but cannot change, all computed at once.
  const std::vector<NodeId> params = g.leaves(OpKind::Param);
  std::vector<std::vector<bool>> deps;
  std::vector<NodeId> fixedNodes;
  for (NodeId p : params) {
    deps.push_back(dependsOn(g, p, g.loss));
    if (!deps.back().back()) continue;
    for (NodeId f : fixedOperands(g, deps.back())) fixedNodes.push_back(f);
  }
  std::sort(fixedNodes.begin(), fixedNodes.end());
  fixedNodes.erase(std::unique(fixedNodes.begin(), fixedNodes.end()), fixedNodes.end());
  std::unordered_map<NodeId, Tensor> fixedValues;
  if (!fixedNodes.empty()) {
    Result<std::vector<Tensor>> v = interpret(g, leaves, fixedNodes, Precision::F64);
    if (!v) return v.error();
    for (size_t i = 0; i < fixedNodes.size(); ++i) fixedValues.emplace(fixedNodes[i], std::move((*v)[i]));
  }

  for (size_t k = 0; k < params.size(); ++k) {
    const NodeId p = params[k];
    ParamGradCheck pc;
    pc.name = g.node(p).name;
    pc.entries = leaves.at(p).size();
    const Tensor* grad = nullptr;
    for (size_t j = 0; j < tg->gradients.size(); ++j)
      if (tg->gradients[j].param == p) grad = &(*analytic)[j + 1];
    pc.reached = grad != nullptr;
    const bool structurallyConstant = !deps[k].back();  // no path at all: L(w +- h) == L(w)
    std::optional<LossOfParam> f;
    if (!structurallyConstant) f = restrictToParam(g, p, deps[k], leaves, fixedValues);
    for (int64_t idx : entriesToCheck(pc.name, pc.entries, o)) {
      double a = grad ? grad->data.at(static_cast<size_t>(idx)) : 0.0;
      EntryCheck c;
      if (f) {
        Result<EntryCheck> r = checkEntry(*f, idx, a, report.loss, o, report.floor);
        if (!r) return r.error();
        c = *r;
      }
      ++pc.checked;
      pc.oneSided += c.oneSided;
      if (pc.worstIndex < 0 || c.error > pc.maxError) {
        pc.maxError = c.error;
        pc.worstIndex = idx;
        pc.analytic = a;
        pc.numeric = c.numeric;
      }
    }
    report.params.push_back(pc);
  }
  return report;
}

std::string formatGradCheckReport(const GradCheckReport& r) {
  size_t width = 9;
  for (const ParamGradCheck& p : r.params) width = std::max(width, p.name.size());
  std::string out;
  char line[512];
  for (const ParamGradCheck& p : r.params) {
    std::string oneSided = p.oneSided ? ", " + std::to_string(p.oneSided) + " one-sided" : "";
    std::snprintf(line, sizeof line, "%-*s  max relative error %.3g  (%lld of %lld entries%s)%s%s\n", int(width),
                  p.name.c_str(), p.maxError, static_cast<long long>(p.checked), static_cast<long long>(p.entries),
                  oneSided.c_str(), p.reached ? "" : "  [the loss does not depend on it]",
                  p.maxError > r.tolerance ? "  FAILED" : "");
    out += line;
    if (p.maxError > r.tolerance) {
      std::snprintf(line, sizeof line, "%-*s  at entry %lld: analytic %.10g, numeric %.10g\n", int(width), "",
                    static_cast<long long>(p.worstIndex), p.analytic, p.numeric);
      out += line;
    }
  }
  std::snprintf(line, sizeof line, "gradcheck %s: %zu parameters, tolerance %g, loss %.6g\n", r.passed() ? "passed" : "FAILED",
                r.params.size(), r.tolerance, r.loss);
  out += line;
  return out;
}

}  // namespace nnc
