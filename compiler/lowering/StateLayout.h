#pragma once
// The layout of a compiled model's persistent state: every Param and State leaf of its graphs
// in one contiguous buffer, each at a 64-byte-aligned offset, found by name. The inference
// and training entry points share one layout, so one buffer serves both; it is also what a
// checkpoint reads and writes.
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/Graph.h"
#include "support/Result.h"

namespace nnc {

struct StateEntry {
  std::string name;    // the leaf's name: "h1.weight", "h1.weight/adam.m"
  bool trainable = false;  // a Param (true) or a State (false)
  TensorType type;     // static shape (no batch)
  int64_t offset = 0;  // bytes from the start of the buffer
  int64_t bytes = 0;
  Attrs attrs;         // the leaf's attributes (Params: init, init_args)
};

class StateLayout {
 public:
  // Every Param and State of the given graphs, in the order met (graph by graph, node order).
  // Errors: a leaf without a name, a batched leaf, or two leaves of one name whose types or
  // kinds differ.
  static Result<StateLayout> build(const std::vector<const Graph*>& graphs);

  const std::vector<StateEntry>& entries() const { return entries_; }
  // The entry named `name`, or nullptr.
  const StateEntry* find(const std::string& name) const;
  int64_t bytes() const { return bytes_; }

 private:
  std::vector<StateEntry> entries_;
  int64_t bytes_ = 0;
};

}  // namespace nnc
