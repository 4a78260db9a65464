/* nnc runtime: the C ABI that compiled nnc code (JIT or ahead of time) calls, and that host
 * programs use to control it. Plain C so an AOT object and its header link from C or C++.
 *
 * Threads: the runtime owns one pool of worker threads. Generated kernels never create
 * threads; they hand a range to nnc_parallel_for, in the spirit of TVM's
 * TVMBackendParallelLaunch and Halide's halide_do_par_for. */
#ifndef NNC_RUNTIME_H
#define NNC_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A loop body over the half-open range [begin, end) of a parallel loop. */
typedef void (*nnc_parallel_body)(void* ctx, int64_t begin, int64_t end);

/* Runs body over [0, n), split into at most nnc_get_num_threads() contiguous chunks of at
 * least `grain` iterations (grain < 1 counts as 1). The partition depends only on n, grain
 * and the thread count, so for a fixed thread count every run does the same arithmetic in
 * the same order. The calling thread runs the first chunk. A call made from inside a
 * parallel region, or while another host thread is using the pool, runs serially on the
 * calling thread: the pool is never oversubscribed. Returns 0. Never throws. */
int nnc_parallel_for(nnc_parallel_body body, void* ctx, int64_t n, int64_t grain);

/* Sets the number of threads parallel loops use, the calling thread included. n < 1 means
 * one per hardware thread (the default). Blocks while another host thread is inside a
 * parallel region. Returns the count actually in effect (fewer when threads could not be
 * created). */
int nnc_set_num_threads(int n);

/* The number of threads parallel loops use, the calling thread included. */
int nnc_get_num_threads(void);

#ifdef __cplusplus
}
#endif

#endif /* NNC_RUNTIME_H */
