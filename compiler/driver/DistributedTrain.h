#pragma once
// `train` under mpirun: what TrainCommand adds to a plain run (docs/distributed.md).
#include <atomic>
#include <memory>

#include "compiler/ir/Model.h"
#include "compiler/session/DataFeed.h"
#include "compiler/session/ModelCheckpoint.h"
#include "runtime/distributed/DataParallelExecutor.h"
#include "runtime/distributed/DataParallelJob.h"
#include "runtime/training/TrainingPlan.h"

namespace nnc::driver {

// Checks that every process of the job trains the same model (its graph), on the same data
// (sample count, shapes and a sample of the bytes, after normalisation) with the same
// options and starting point, then wraps `exec` (compiled with ExecutorOptions::splitStep)
// for data-parallel steps. A collective; its errors are the same on every process.
Result<std::unique_ptr<distributed::DataParallelExecutor>> joinDataParallel(
    distributed::DataParallelJob& job, const Model& model, const training::TrainingPlan& plan, const ModelData& feed,
    const CheckpointInfo& start, training::Executor& exec, const std::atomic<bool>* interrupt);

// Whether dense weight gradients may travel as their factors (docs/distributed.md,
// "Sufficient factors"): yes unless NNC_MPI_FACTORS=0 (for measuring what they gain).
bool gradientFactorsWanted();

// NNC_MPI_PROFILE=kernels: NNC_MPI_PROFILE=1's report, and the step compiled as a profiling
// build whose every kernel is timed; each process also prints its gradient and update
// entries' kernels, the slowest first, in milliseconds a step.
bool kernelProfileWanted();

// With NNC_MPI_PROFILE=1 (or =kernels) in the environment: each process prints its steps' compute and
// reduction seconds and the bytes it reduced per step on standard error.
void reportStepTimes(distributed::DataParallelJob& job, const distributed::DataParallelExecutor& exec);

}  // namespace nnc::driver
