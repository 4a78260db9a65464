#pragma once
// The planner's choices. Whoever compiles fills them in (codegen's CompileOptions reads the
// debugging knobs below from the environment when it is made); the planner reads no
// environment.

namespace nnc {

struct LoweringOptions {
  // Matmuls and forward convolutions take their elementwise consumers as an epilogue
  // (Kernel::epilogue). NNC_FUSE_EPILOGUES=0 turns it off (a debugging knob).
  bool fuseEpilogues = true;
  // Softmax, one_hot and sums over the last axis fuse into row kernels (Kernel::rows).
  // NNC_FUSE_ROWS=0 turns it off.
  bool fuseRows = true;
  // Sums along a forward convolution's output rows run in its epilogue (EpilogueRowSums.h);
  // otherwise they are reduce kernels of their own. Off unless NNC_FUSE_ROW_SUMS=1: on Zen 3
  // (vgg_batchnorm, batch 64 and 256, 1 and 2 threads) the epilogue's extra work cost more
  // than the separate pass over the tensor it saves, which the convolution has just written
  // and which mostly comes from cache (forward convolutions 4-5% slower, the step 1.5%).
  bool fuseRowSums = false;
  // Updates whose target no kernel reads (a split step's "<param>/grad" slots) are written
  // straight into the target by whatever kernel computes them (InPlaceUpdates.h), so that
  // they are final in the state before the entry ends (UpdateSignals.h). Set only for the
  // data-parallel gradient entry (CompileOptions::signalUpdates).
  bool writeOnlyUpdatesInPlace = false;
};

}  // namespace nnc
