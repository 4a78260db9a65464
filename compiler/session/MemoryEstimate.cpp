#include "compiler/session/MemoryEstimate.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>

#include "compiler/session/StepGraphs.h"

namespace nnc {

namespace {

// Bytes of one value: both element types are 4 bytes. Long double: a batch from the command
// line times a large sample may overflow any integer type.
void sizeOf(const TensorType& t, long double& fixed, long double& perSample) {
  long double n = 4;
  for (int64_t d : t.shape.dims)
    if (d != kBatch) n *= static_cast<long double>(d);
  (t.shape.isBatched() ? perSample : fixed) = n;
}

bool isPersistent(OpKind op) { return op == OpKind::Param || op == OpKind::State; }

}  // namespace

MemoryEstimate MemoryEstimate::ofGraphs(const std::vector<const Graph*>& graphs) {
  MemoryEstimate e;
  std::set<std::string> seen;  // state is shared by the graphs: count each leaf once
  for (const Graph* g : graphs) {
    const size_t n = g->size();
    std::vector<size_t> lastUse(n);
    for (size_t i = 0; i < n; ++i) {
      lastUse[i] = i;
      for (NodeId in : g->nodes()[i].inputs) lastUse[size_t(in)] = std::max(lastUse[size_t(in)], i);
    }
    auto keep = [&](NodeId id) {
      if (id != kNoNode && size_t(id) < n) lastUse[size_t(id)] = n;
    };
    for (const Output& o : g->outputs) keep(o.node);
    for (const Update& u : g->updates) keep(u.value);
    keep(g->loss);

    std::vector<Value> values;
    for (size_t i = 0; i < n; ++i) {
      const Node& node = g->nodes()[i];
      Value v{i, lastUse[i], 0, 0};
      sizeOf(node.type, v.fixedBytes, v.bytesPerSample);
      if (isPersistent(node.op)) {
        if (seen.insert(node.name).second) e.stateBytes_ += v.fixedBytes + v.bytesPerSample;
        continue;
      }
      values.push_back(v);
    }
    e.graphs_.push_back(std::move(values));
  }
  return e;
}

Result<MemoryEstimate> MemoryEstimate::of(const Model& model) {
  Result<StepGraphs> graphs = buildStepGraphs(model);
  if (!graphs) return graphs.error();
  std::vector<const Graph*> list;
  if (graphs->train) list.push_back(&graphs->train->graph);
  if (graphs->eval) list.push_back(&graphs->eval->graph);
  list.push_back(&graphs->predict.graph);
  return ofGraphs(list);
}

long double MemoryEstimate::activationBytes(int64_t batch) const {
  const long double b = static_cast<long double>(std::max<int64_t>(batch, 1));
  long double peak = 0;
  for (const std::vector<Value>& values : graphs_) {
    // Sweep the node order: +size where a value is made, -size after its last use.
    size_t end = 0;
    for (const Value& v : values) end = std::max(end, v.to + 1);
    std::vector<long double> delta(end + 1, 0);
    for (const Value& v : values) {
      long double bytes = v.fixedBytes + v.bytesPerSample * b;
      delta[v.from] += bytes;
      delta[v.to + 1] -= bytes;
    }
    long double live = 0;
    for (long double d : delta) {
      live += d;
      peak = std::max(peak, live);
    }
  }
  return peak;
}

std::string gibText(long double bytes) {
  char buf[64];
  const long double gib = bytes / (1024.0L * 1024 * 1024);
  // One decimal for sizes that matter; small limits (tests, tiny machines) keep 3 digits.
  std::snprintf(buf, sizeof buf, gib >= 1 || gib == 0 ? "%.1Lf GiB" : "%.3Lg GiB", gib);
  return buf;
}

Result<void> checkMemory(const MemoryEstimate& estimate, int64_t batch, long double limitBytes,
                         const std::string& limitOrigin, const std::string& raiseHint) {
  const long double total = estimate.totalBytes(batch);
  if (limitBytes <= 0 || total <= limitBytes) return {};
  return makeError("the model needs about " + gibText(total) + " of memory (parameters and state " +
                   gibText(estimate.stateBytes()) + ", intermediate values at batch " + std::to_string(batch) + " " +
                   gibText(estimate.activationBytes(batch)) + "), more than the limit of " + gibText(limitBytes) +
                   " (" + limitOrigin + "); " + raiseHint);
}

uint64_t machineMemoryBytes() {
  long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGE_SIZE);
  uint64_t bytes = pages > 0 && pageSize > 0 ? uint64_t(pages) * uint64_t(pageSize) : 0;
  // cgroup v2 (a container's memory limit): "max" or a number of bytes.
  std::ifstream cgroup("/sys/fs/cgroup/memory.max");
  unsigned long long limit = 0;
  if (cgroup >> limit && limit > 0 && (bytes == 0 || limit < bytes)) bytes = limit;
  return bytes;
}

}  // namespace nnc
