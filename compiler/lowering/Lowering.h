#pragma once
// From a graph to a kernel program, before any LLVM: which nodes become kernels, which fuse
// into a kernel's loop, where every value lives at run time, the arena plan, and the copies
// that finish an entry point (outputs to the caller, optimizer updates into the state).
//
// Partitioning (after TVM's op-pattern fusion and Glow's data-parallel fusion): nodes are
// visited from the last to the first. Each node that is not yet claimed starts a kernel. A
// kernel whose loop runs over a shape (elementwise ops, reductions over their operand) then
// claims the elementwise producers that have that same shape:
//   - inline, when the producer is not an output or update value and has no user outside
//     the kernel: computed per element and never stored;
//   - stored (elementwise kernels, and reductions that keep their operand's first axis),
//     when every user outside the kernel runs after it:
//     computed in the same loop and also written out. This is multi-output fusion: an
//     optimizer's new moment estimates are stored by the loop that computes the new weight,
//     a pre-activation needed by the backward pass by the loop that applies the activation.
// Producers are considered from the highest id down, so when a producer is examined every
// member that could use it is already known. Operands that stay outside are read from
// memory, with stride 0 along broadcast dimensions.
//
// The steps, one file each: Liveness (live nodes, their users, leaf storage), Fusion (the
// kernels, with FusionRoles naming what the emitters fuse beyond the category lattice),
// KernelOrder (execution order, what each kernel reads), StoragePlan (in-place updates,
// buffers and their lifetimes, the copies, the arena plan of MemoryPlan). This library
// neither links nor includes LLVM.
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/lowering/LoweringOptions.h"
#include "compiler/lowering/MemoryPlan.h"
#include "compiler/lowering/StateLayout.h"
#include "compiler/ir/Graph.h"
#include "support/Result.h"

namespace nnc {

// How each op becomes code is its registry row's LoweringKind (compiler/ir/Op.h).

// A loop extent or element count: k, times the run-time batch when `batched`.
struct Extent {
  int64_t k = 1;
  bool batched = false;
  friend bool operator==(const Extent&, const Extent&) = default;
};
// The element count of a shape (only its first dim may be the batch).
Extent elementsOf(const Shape& s);

// Where a value lives while an entry point runs.
enum class StorageKind {
  None,     // dead: nothing reads it
  Inline,   // computed inside the loop of the kernel that uses it, never stored
  Uniform,  // a fill constant or element count: one scalar, recomputed where used
  Input,    // inputs[index]
  State,    // state + index bytes (a Param or State leaf)
  Hyper,    // hypers[index]
  Arena,    // workspace buffer `index` (see LoweredGraph::buffers)
  Global,   // a constant array in the compiled code (a Constant with `values`)
  View,     // the bytes of node `index`, reinterpreted (reshape)
};

struct Storage {
  StorageKind kind = StorageKind::None;
  int64_t index = 0;
  // An Arena value that is the entry's output `output` (>= 0): its kernel writes straight
  // into the caller's outputs[output], and into its arena buffer only when that pointer is
  // null, so no copy finishes the entry for it.
  int64_t output = -1;
};

struct Kernel {
  NodeId root = kNoNode;
  std::vector<NodeId> fused;     // producers computed in root's loop, ascending ids
  std::vector<NodeId> stored;    // the fused producers that are also written to memory
  // A reduction's kernel may hold in `fused` (and `stored`) sibling reductions: lower sums and
  // means over the same operand space and axes, accumulated in the same loop
  // (SiblingReductions.h). Its other stored members are written at their position in the
  // operand space (only when the reduction keeps the operand's first axis).
  // Elementwise consumers fused into a matmul's or forward convolution's output (ascending
  // ids): applied to each output tile (register block) once its sum is complete. The root
  // is then Inline and the last member (in `stored`, with the members other kernels read)
  // holds the product's partial sums.
  std::vector<NodeId> epilogue;
  std::vector<NodeId> reads;     // nodes read from memory (or as uniforms), ascending ids
  // A row kernel (EmitSoftmaxCrossEntropy.cpp): the loop space is [rows..., A] with the last
  // axis A static, one thread does a whole row, and `fused` may hold, besides same-shape
  // elementwise ops, softmax / log_softmax along the last axis and one_hot (recomputed from
  // their operands in every row kernel that uses them; in `stored` only when something else
  // reads them from memory) and sums over the last axis (a value per row). Softmax with cross-entropy, forward (the per-row loss) and
  // backward (d logits), is one such kernel per direction.
  bool rows = false;
};

// One copy that finishes an entry point, in order: outputs, then update values that live in
// the state itself go to temporaries, then every update is written into the state. An output
// needs a copy only when its kernel cannot write it in place (Storage::output): it lives in
// the inputs, the state or a constant, or the same value is several outputs.
struct CopyStep {
  enum class From { Node, Temp } from = From::Node;
  enum class To { Output, State, Temp } to = To::Output;
  int64_t src = 0;  // node id or temp buffer id
  int64_t dst = 0;  // output index, state byte offset or temp buffer id
  Extent bytes;
};

struct LoweredGraph {
  const Graph* graph = nullptr;
  std::vector<bool> live;
  std::vector<Kernel> kernels;   // in execution order
  std::vector<int> kernelOf;     // node -> kernel that computes it (root or fused), or -1
  std::vector<Storage> storage;  // per node
  std::vector<BufferRequest> buffers;  // arena buffers, with lifetimes in kernel steps
  std::vector<NodeId> bufferNode;      // buffer -> the node it holds (kNoNode: a copy temporary)
  MemoryPlan memory;
  std::vector<CopyStep> copies;
  std::vector<NodeId> inputs;  // every Input leaf, in node order: the entry's inputs[]
  std::vector<NodeId> hypers;  // every Hyper leaf, in node order: the entry's hypers[]

  // The node whose storage `id` ultimately uses (follows views).
  NodeId storageRoot(NodeId id) const;
};

// Errors: a malformed graph (verifier), an op without a lowering (Dropout/BatchNorm left in a
// training graph), a Param/State missing from the layout, update targets that are not leaves.
Result<LoweredGraph> lowerGraph(const Graph& g, const StateLayout& layout, const LoweringOptions& options = {});

// A one-line-per-kernel listing ("k3: add %9 [fused: mul %5 exp %6*] reads %4 %7", * marking
// a stored member), for tests and dumps.
std::string describeKernels(const LoweredGraph& lg);

}  // namespace nnc
