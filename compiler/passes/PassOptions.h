#pragma once
// Knobs of the graph simplification pipeline (PassPipeline.h) and of the passes that take them.
#include <cstdint>

#include "compiler/interp/Interpreter.h"

namespace nnc {

struct PassOptions {
  // Which passes run.
  bool algebraicSimplification = true;
  bool constantFolding = true;
  bool commonSubexpressionElimination = true;
  bool deadCodeElimination = true;
  // The pipeline repeats its passes until nothing changes, at most this many rounds.
  int maxRounds = 8;
  // Constant folding materialises a computed tensor only up to this many elements (fills of
  // any size are folded: they are stored as one value), and evaluates no operand larger than
  // maxFoldOperandElements, so that compile time and IR size stay small.
  int64_t maxFoldedElements = 4096;
  int64_t maxFoldOperandElements = int64_t(1) << 20;
  // ... and folds no op whose evaluation takes more than about this many scalar operations.
  int64_t maxFoldWork = int64_t(1) << 24;
  // Folding evaluates in f32 by default: the value compiled code would have computed.
  Precision foldPrecision = Precision::F32;
};

}  // namespace nnc
