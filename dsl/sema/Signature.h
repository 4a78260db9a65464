#pragma once
// The one description of everything a `.nn` file can call: layers, operations, losses,
// initializers, optimizers, schedules, normalize forms and the `train` block itself (a
// "call" whose arguments are its keys). A Callable lists its parameters with their kinds,
// defaults and value ranges; ArgBinder checks any call against it once, generically
// (arity, unknown and duplicate keywords, kinds, ranges, tensor dtypes and ranks), and only
// then does the callable's builder run, on already checked values.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir/Graph.h"

namespace nnc::sema {

class Sema;
struct BoundCall;

// Where a callable may be used; each family has its own namespace of names.
enum class Family { Expression, Initializer, Optimizer, Schedule, Normalize, TrainBlock };
// "operation", "initializer", "optimizer", ... (for "unknown optimizer 'adm'").
const char* familyNoun(Family f);

enum class ArgKind {
  Tensor,           // any expression with a tensor value (a number literal becomes a constant)
  TensorList,       // [a, b, ...] of tensors (concat)
  Int,              // an integer constant
  Float,            // a number constant
  Bool,             // true | false
  Word,             // one of `choices` (activation = relu, padding = same)
  IntOrPair,        // 3 or [3, 5] (kernel sizes, strides)
  Axes,             // 1 or [1, 2] (reduction axes)
  IntList,          // [28, 28, 1] (shapes, permutations)
  FloatList,        // [1.0, 2.5] (class weights)
  WordOrFloatList,  // balanced | [1, 2] (train's class_weights)
  String,           // "fc" (layer names)
  Callable,         // a name or call of `family` (init = he_normal, optimizer = adam(lr = 1e-3))
  TensorRest,       // every further positional argument, each a tensor (onnx("m.onnx", x, y))
  IntPairs,         // 1 or [[1, 2], [3, 4]] (pad's [before, after] per axis), flattened into ints
};

enum class DTypeReq { Any, F32, I32 };

// What a tensor argument must be; checked before the builder runs.
struct TensorReq {
  DTypeReq dtype = DTypeReq::F32;
  int minRank = 0;
  int maxRank = -1;   // -1: no upper bound
  std::string noun;   // how messages name it ("logits"); empty: "an input" or the parameter name
  std::string hint;   // shown after the rank ("[batch, height, width, channels]")
};

// Allowed numeric values; bounds are inclusive unless marked open.
struct Range {
  std::optional<double> min, max;
  bool minOpen = false, maxOpen = false;
  bool contains(double v) const;
  std::string str() const;  // ">= 1", "> 0", "in [0, 1)"
};

struct Default {
  enum class Kind { Required, Unset, Number, Word, Bool };
  Kind kind = Kind::Required;
  double number = 0;
  std::string word;
  bool flag = false;
};

struct ParamSpec {
  std::string name;
  ArgKind kind = ArgKind::Tensor;
  Default def;
  Range range;                       // numbers, and every element of number lists
  std::vector<std::string> choices;  // Word, WordOrFloatList
  std::string choiceNoun;            // "activation" -> "unknown activation 'rlu'"
  Family family = Family::Expression;  // Callable
  TensorReq tensor;                  // Tensor, TensorList
};

// Emits the IR of a checked call (expression family); reports its own errors.
using TensorBuilder = std::optional<NodeId> (*)(Sema&, const BoundCall&);
// Checks relations between arguments (uniform: lo < hi); reports its own errors.
using Validator = bool (*)(Sema&, const BoundCall&);
// The summary kind of one call, when it depends on the arguments (a sequence pooled is
// MaxPooling1D, an image MaxPooling2D; pad's mode names its kind).
using SummaryKindOf = std::string (*)(Sema&, const BoundCall&);

struct Callable {
  std::string name;
  Family family = Family::Expression;
  std::vector<ParamSpec> params;
  TensorBuilder build = nullptr;
  Validator validate = nullptr;
  // Layers create parameters named "<layer name>.<suffix>"; the binder gives them a `name`
  // parameter and works out the layer name (see ArgBinder.h).
  bool createsParams = false;
  bool isActivation = false;  // usable as `activation = NAME` of layers
  std::string summaryKind;    // the `nnc summary` kind of an assignment whose value this is
  SummaryKindOf summaryKindOf = nullptr;  // when set, the kind of each call instead
};

// One checked argument. Which fields hold the value depends on the parameter's kind.
struct BoundArg {
  bool present = false;  // given, or filled from a default (an Unset default leaves it absent)
  bool given = false;    // written by the user
  SourceLoc loc;         // the value as written, else the call
  std::string text;      // the value as written, for messages
  NodeId tensor = kNoNode;        // Tensor
  std::vector<NodeId> tensors;    // TensorList, TensorRest
  std::vector<SourceLoc> locs;    // TensorRest: where each was written
  int64_t integer = 0;            // Int
  double number = 0;              // Float
  bool flag = false;              // Bool
  std::string word;               // Word, String, WordOrFloatList (as a word)
  std::vector<int64_t> ints;      // IntOrPair (two values), Axes, IntList
  std::vector<double> numbers;    // FloatList, WordOrFloatList (as a list)
  bool isList = false;            // Axes / WordOrFloatList: written as a list
  std::shared_ptr<BoundCall> call;  // Callable
};

struct BoundCall {
  const Callable* callee = nullptr;
  SourceLoc loc;            // the callee's name (or the `train` keyword)
  std::string layerName;    // layers: what their parameters are named after
  std::vector<BoundArg> args;  // parallel to callee->params

  // The argument for parameter `name`. Asking for a parameter the callee does not have is a
  // compiler bug; it yields an absent argument rather than a crash.
  const BoundArg& arg(std::string_view name) const;
  bool has(std::string_view name) const { return arg(name).present; }
  NodeId tensor(std::string_view name) const { return arg(name).tensor; }
  int64_t integer(std::string_view name) const { return arg(name).integer; }
  double number(std::string_view name) const { return arg(name).number; }
  bool flag(std::string_view name) const { return arg(name).flag; }
  const std::string& word(std::string_view name) const { return arg(name).word; }
  // IntOrPair as {height, width}.
  std::pair<int64_t, int64_t> pair(std::string_view name) const;
};

// Shorthands that keep the tables readable.
namespace spec {
Default required();
Default unset();
Default num(double v);
Default word(std::string w);
Default flag(bool b);

TensorReq req(DTypeReq dtype, int minRank = 0, int maxRank = -1, std::string noun = {}, std::string hint = {});

Range any();
Range atLeast(double v);
Range above(double v);
Range between(double lo, double hi, bool hiOpen = false);

ParamSpec tensor(std::string name, TensorReq req = {});
ParamSpec tensorList(std::string name, TensorReq req = {});
// The remaining positional arguments (none or more), after the fixed ones.
ParamSpec tensorRest(std::string name, TensorReq req = {});
ParamSpec integer(std::string name, Default def, Range range = {});
ParamSpec number(std::string name, Default def, Range range = {});
ParamSpec boolean(std::string name, bool def);
ParamSpec word(std::string name, Default def, std::vector<std::string> choices, std::string noun);
ParamSpec intOrPair(std::string name, Default def, Range range = {});
ParamSpec axes(std::string name);
ParamSpec intList(std::string name, Default def = required());
ParamSpec intPairs(std::string name, Default def, Range range = {});
ParamSpec floatList(std::string name, Default def, Range range = {});
ParamSpec wordOrFloatList(std::string name, std::vector<std::string> words, std::string noun, Range range = {});
ParamSpec string(std::string name, Default def);
ParamSpec callable(std::string name, Family family, Default def);
}  // namespace spec

}  // namespace nnc::sema
