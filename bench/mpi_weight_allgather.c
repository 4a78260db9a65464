/* What splitting the optimizer update across processes (ZeRO-1 style) would pay per step for
 * fashion_cnn's dense layer (docs/distributed.md, "Session 10"): each of N processes updates
 * its contiguous block of the 3136 x 1024 weight's rows, then every process all-gathers the
 * updated rows in place (MPI_Iallgatherv, MPI_IN_PLACE, uneven counts when N does not divide
 * 3136), 12.85 MB in all. The split saves each process (N-1)/N of the update entry
 * (NNC_MPI_PROFILE's "update": about 8.4 ms a step idle, so about 4.2 ms with 2 processes).
 *
 *   mpicc -O2 -o /tmp/weight_allgather bench/mpi_weight_allgather.c
 *   mpirun -np 2 --mca btl tcp,self /tmp/weight_allgather MODE [STEPS [COMPUTE_MS [TEST_US]]]
 *
 * MODE  block    MPI_Allgatherv, one after another
 *       yield    MPI_Iallgatherv tested in a loop with sched_yield between tests (nnc's wait)
 *       overlap  MPI_Iallgatherv started, then a fixed amount of compute (a busy loop that
 *                takes COMPUTE_MS alone, default 30, calibrated at start) that tests it every
 *                TEST_US (default 100) microseconds, as a gather hidden behind the next
 *                step's compute would be
 *       none     the same compute alone (overlap also runs it, alternating with its own steps)
 * Prints each process's wall and processor (user + system) milliseconds per step; the
 * gather's price is the wall or processor time above `none`'s. */
#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static double processor_seconds(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

int main(int argc, char **argv) {
  int provided, rank, size;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const char *mode = argc > 1 ? argv[1] : "yield";
  int steps = argc > 2 ? atoi(argv[2]) : 100;
  double compute_seconds = (argc > 3 ? atof(argv[3]) : 30) * 1e-3;
  double test_seconds = (argc > 4 ? atof(argv[4]) : 100) * 1e-6;
  int blocking = strcmp(mode, "block") == 0, overlapped = strcmp(mode, "overlap") == 0;
  int gather = strcmp(mode, "none") != 0, computing = overlapped || !gather;
  const long rows = 3136, columns = 1024;
  float *weight = calloc((size_t)(rows * columns), 4);
  int *counts = malloc(sizeof(int) * (size_t)size), *displs = malloc(sizeof(int) * (size_t)size);
  MPI_Datatype row;
  MPI_Type_contiguous((int)columns, MPI_FLOAT, &row);
  MPI_Type_commit(&row);
  for (int r = 0; r < size; ++r) {  // process r's rows [rows*r/N, rows*(r+1)/N)
    displs[r] = (int)(rows * r / size);
    counts[r] = (int)(rows * (r + 1) / size) - displs[r];
  }
  volatile double x = 1;
  // Calibrate: rounds of the busy loop in COMPUTE_MS, the same on every process (the slowest's).
  long rounds = 0;
  for (double end = MPI_Wtime() + compute_seconds; MPI_Wtime() < end; ++rounds)
    for (int i = 0; i < 200; ++i) x = x * 1.0000001 + 1e-9;
  MPI_Allreduce(MPI_IN_PLACE, &rounds, 1, MPI_LONG, MPI_MIN, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);
  // overlap alternates its steps with steps of the compute alone (same load for both).
  double wall[2] = {0, 0}, cpu[2] = {0, 0};
  int kinds = overlapped ? 2 : 1;
  for (int s = 0; s < steps * kinds; ++s) {
    int alone = overlapped && (s % 2 == 1), with_gather = gather && !alone;
    double t0 = MPI_Wtime(), c0 = processor_seconds();
    MPI_Request request = MPI_REQUEST_NULL;
    int done = 1;
    if (blocking) {
      MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, weight, counts, displs, row, MPI_COMM_WORLD);
    } else if (with_gather) {
      MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, weight, counts, displs, row, MPI_COMM_WORLD, &request);
      done = 0;
    }
    if (computing) {
      double next_test = MPI_Wtime() + test_seconds;
      for (long k = 0; k < rounds; ++k) {
        for (int i = 0; i < 200; ++i) x = x * 1.0000001 + 1e-9;
        if (!done && MPI_Wtime() >= next_test) {
          MPI_Test(&request, &done, MPI_STATUS_IGNORE);
          next_test = MPI_Wtime() + test_seconds;
        }
      }
    }
    while (!done) {
      MPI_Test(&request, &done, MPI_STATUS_IGNORE);
      if (!done) sched_yield();
    }
    if (computing) MPI_Barrier(MPI_COMM_WORLD);  // the next step's collectives wait for the slower process
    wall[alone] += MPI_Wtime() - t0;
    cpu[alone] += processor_seconds() - c0;
  }
  printf("process %d of %d, %s: %.2f ms a step, %.2f ms of processor time a step", rank, size, mode,
         1e3 * wall[0] / steps, 1e3 * cpu[0] / steps);
  if (overlapped)
    printf(" (the compute alone, alternating: %.2f ms, %.2f ms of processor time)", 1e3 * wall[1] / steps,
           1e3 * cpu[1] / steps);
  printf("\n");
  MPI_Type_free(&row);
  free(weight);
  free(counts);
  free(displs);
  MPI_Finalize();
  return 0;
}
