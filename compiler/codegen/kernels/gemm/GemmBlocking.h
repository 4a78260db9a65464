#pragma once
// Register and cache blocking of the generated GEMM (GemmEmitter), from the host's vector
// unit. No LLVM here, so tests can choose another vector width and run the code generated
// for it (LLVM splits wider vectors than the CPU has: slow, but the same arithmetic).

namespace nnc::codegen {

struct GemmBlocking {
  int lanes = 8;    // floats per vector register: 4 (SSE), 8 (AVX2), 16 (AVX-512)
  int vectors = 2;  // vector registers across one microkernel row: NR = lanes * vectors
  int mr = 6;       // microkernel rows: accumulators mr * vectors, plus vectors + 1 registers
  int nr = 16;
  int kc = 256;     // K block: one packed A micro-panel (kc x mr) and B micro-panel stay in L1
  int mc = 96;      // rows of A packed at once (mc x kc, in L2)
  int nc = 512;     // columns of B packed at once (kc x nc)
  int ncFewRows = 128;  // the same for a task whose rows fit one MC block: B is read back once
  int kcFewRows = 384;  // the K block of such a task: fewer C reloads and calls per output tile
  int mrEdge = 4;       // a second microkernel for a last row panel of at most this many rows
};

// The blocking for `lanes`-wide vectors (4, 8 or 16): 16 registers below 16 lanes, 32 with
// AVX-512. 6 x 16 on AVX2, 14 x 32 on AVX-512, 6 x 8 on SSE.
GemmBlocking gemmBlockingForLanes(int lanes);

// From the target CPU's features (AVX-512, AVX, else SSE; TargetCpu.h: the host unless
// `compile --cpu` names another), unless overridden.
GemmBlocking hostGemmBlocking();

// For tests: generate code for `lanes`-wide vectors from now on; 0 returns to the host's.
void overrideGemmLanes(int lanes);

}  // namespace nnc::codegen
