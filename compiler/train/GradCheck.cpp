#include "compiler/train/GradCheck.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "compiler/interp/Interpreter.h"
#include "compiler/support/Philox.h"
#include "compiler/train/Initializers.h"
#include "compiler/train/TrainingGraph.h"

namespace nnc {

namespace {

// The number of classes an integer input encodes: the depth of a one_hot it feeds (through
// integer-valued reshapes and the like), else 2.
int64_t labelClasses(const Graph& g, NodeId input) {
  std::vector<bool> reached(g.size(), false);
  reached[static_cast<size_t>(input)] = true;
  int64_t classes = 0;
  for (size_t i = static_cast<size_t>(input) + 1; i < g.size(); ++i) {
    const Node& n = g.nodes()[i];
    bool fromInput = std::any_of(n.inputs.begin(), n.inputs.end(), [&](NodeId in) { return reached[static_cast<size_t>(in)]; });
    if (!fromInput) continue;
    if (n.op == OpKind::OneHot) classes = std::max(classes, n.attrs.getInt("depth"));
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

Result<double> evalLoss(const Graph& g, const LeafValues& leaves) {
  Result<std::vector<Tensor>> r = interpret(g, leaves, {g.loss}, Precision::F64);
  if (!r) return r.error();
  return (*r)[0].data.at(0);
}

}  // namespace

bool GradCheckReport::passed() const {
  return std::all_of(params.begin(), params.end(), [&](const ParamGradCheck& p) { return p.maxError <= tolerance; });
}

Result<GradCheckReport> gradCheck(const Model& model, const GradCheckOptions& o) {
  Result<TrainingGraph> tg = buildGradientGraph(model);
  if (!tg) return tg.error();
  const Graph& g = tg->graph;

  Result<LeafValues> init = initialValues(g, o.seed);
  if (!init) return init.error();
  LeafValues leaves = std::move(*init);
  leaves[tg->lr] = Tensor::scalar(0);
  leaves[tg->step] = Tensor::scalar(0);
  for (NodeId in : g.leaves(OpKind::Input)) leaves[in] = randomInput(g, in, o);
  // Class weights: the listed ones, else ones (zeros would zero the loss and every gradient).
  const TrainConfig& cfg = *model.train;
  if (cfg.classWeightsState != kNoNode && static_cast<size_t>(cfg.classWeightsState) < tg->fromModel.size()) {
    NodeId cw = tg->fromModel[static_cast<size_t>(cfg.classWeightsState)];
    if (cw != kNoNode) {
      Tensor& t = leaves[cw];
      for (size_t i = 0; i < t.data.size(); ++i)
        t.data[i] = cfg.classWeightList.size() == t.data.size() ? cfg.classWeightList[i] : 1.0;
    }
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
  report.floor = o.absoluteFloor * std::max(1.0, std::fabs(report.loss));

  for (NodeId p : g.leaves(OpKind::Param)) {
    ParamGradCheck pc;
    pc.name = g.node(p).name;
    Tensor& w = leaves.at(p);
    pc.entries = w.size();
    const Tensor* grad = nullptr;
    for (size_t k = 0; k < tg->gradients.size(); ++k)
      if (tg->gradients[k].param == p) grad = &(*analytic)[k + 1];
    pc.reached = grad != nullptr;
    for (int64_t idx : entriesToCheck(pc.name, pc.entries, o)) {
      double& entry = w.data[static_cast<size_t>(idx)];
      const double saved = entry;
      const double h = o.relativeStep * std::max(1.0, std::fabs(saved));
      entry = saved + h;
      const double up = entry;
      Result<double> lossUp = evalLoss(g, leaves);
      entry = saved - h;
      const double down = entry;
      Result<double> lossDown = evalLoss(g, leaves);
      entry = saved;
      if (!lossUp) return lossUp.error();
      if (!lossDown) return lossDown.error();
      double numeric = (*lossUp - *lossDown) / (up - down);  // the step actually taken
      double a = grad ? grad->data.at(static_cast<size_t>(idx)) : 0.0;
      double err = std::fabs(a - numeric) / std::max({std::fabs(a), std::fabs(numeric), report.floor});
      if (!std::isfinite(err)) err = INFINITY;
      ++pc.checked;
      if (pc.worstIndex < 0 || err > pc.maxError) {
        pc.maxError = err;
        pc.worstIndex = idx;
        pc.analytic = a;
        pc.numeric = numeric;
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
    std::snprintf(line, sizeof line, "%-*s  max relative error %.3g  (%lld of %lld entries)%s%s\n", int(width), p.name.c_str(),
                  p.maxError, static_cast<long long>(p.checked), static_cast<long long>(p.entries),
                  p.reached ? "" : "  [the loss does not depend on it]", p.maxError > r.tolerance ? "  FAILED" : "");
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
