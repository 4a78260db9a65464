/* The collectives of one data-parallel fashion_cnn step with sufficient factors, alone
 * (docs/distributed.md, "Session 9"): an allreduce of 253,480 bytes (the gradients summed
 * whole), allgathers of 32 rows of 3,136 and of 1,024 floats per process (the dense layer's
 * factors) and an allreduce of 4 doubles (the step's loss and counts).
 *
 *   mpicc -O2 -o /tmp/collectives bench/mpi_step_collectives.c
 *   mpirun -np 2 --mca btl tcp,self /tmp/collectives MODE [STEPS [COMPUTE_MS]]
 *
 * MODE  sleep  one after another, each tested every 50 us with sleeps in between (nnc before
 *              session 9, and NNC_MPI_POLL_US=50)
 *       yield  all four started together, one MPI_Testall loop with sched_yield between tests
 *       window all four started together, tested with sched_yield for 2 ms after the start
 *              and after each completion, with 50 us sleeps otherwise (nnc's wait after the
 *              gradient entry since session 9)
 * COMPUTE_MS (default 0): each step first computes (a busy loop) that long on process 1 and
 * 80% of it on process 0, which then waits for process 1 as after an uneven entry.
 * Prints process 0's wall and processor milliseconds per step. */
#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void wait_sleeping(MPI_Request *r) {
  for (;;) {
    int done = 0;
    MPI_Test(r, &done, MPI_STATUS_IGNORE);
    if (done) return;
    struct timespec pause = {0, 50 * 1000L};
    nanosleep(&pause, 0);
  }
}

static void compute(double seconds) {
  double end = MPI_Wtime() + seconds;
  volatile double x = 1;
  while (MPI_Wtime() < end)
    for (int i = 0; i < 1000; ++i) x = x * 1.0000001 + 1e-9;
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void wait_window(MPI_Request *r, int n) {
  double window = now_seconds();
  int indices[4];
  for (;;) {
    int done = 0;
    MPI_Testsome(n, r, &done, indices, MPI_STATUSES_IGNORE);
    if (done == MPI_UNDEFINED) return;
    if (done > 0) {
      window = now_seconds();
    } else if (now_seconds() - window < 2e-3) {
      sched_yield();
    } else {
      struct timespec pause = {0, 50 * 1000L};
      nanosleep(&pause, 0);
    }
  }
}

int main(int argc, char **argv) {
  int provided, rank;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const char *mode = argc > 1 ? argv[1] : "sleep";
  int yield = strcmp(mode, "yield") == 0, windowed = strcmp(mode, "window") == 0, together = yield || windowed;
  int steps = argc > 2 ? atoi(argv[2]) : 300;
  double compute_seconds = (argc > 3 ? atof(argv[3]) : 0) * 1e-3 * (rank == 0 ? 0.8 : 1.0);
  int bucket_floats = 253480 / 4, counts[2] = {32, 32}, displs[2] = {0, 32};
  float *bucket = calloc(bucket_floats, 4), *a = calloc(64 * 3136, 4), *b = calloc(64 * 1024, 4);
  double figures[4] = {0};
  MPI_Datatype row_a, row_b;
  MPI_Type_contiguous(3136, MPI_FLOAT, &row_a);
  MPI_Type_commit(&row_a);
  MPI_Type_contiguous(1024, MPI_FLOAT, &row_b);
  MPI_Type_commit(&row_b);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  clock_t c0 = clock();
  for (int s = 0; s < steps; ++s) {
    MPI_Request r[4];
    if (compute_seconds > 0) compute(compute_seconds);
    MPI_Iallreduce(MPI_IN_PLACE, bucket, bucket_floats, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r[0]);
    if (!together) wait_sleeping(&r[0]);
    MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, a, counts, displs, row_a, MPI_COMM_WORLD, &r[1]);
    if (!together) wait_sleeping(&r[1]);
    MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, b, counts, displs, row_b, MPI_COMM_WORLD, &r[2]);
    if (!together) wait_sleeping(&r[2]);
    MPI_Iallreduce(MPI_IN_PLACE, figures, 4, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &r[3]);
    if (!together) {
      wait_sleeping(&r[3]);
      continue;
    }
    if (windowed) {
      wait_window(r, 4);
      continue;
    }
    for (;;) {
      int done = 0;
      MPI_Testall(4, r, &done, MPI_STATUSES_IGNORE);
      if (done) break;
      sched_yield();
    }
  }
  double wall = MPI_Wtime() - t0, cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
  if (rank == 0)
    printf("%s: %.3f ms a step, %.3f ms of processor time a step\n", mode, 1e3 * wall / steps,
           1e3 * cpu / steps);
  MPI_Type_free(&row_a);
  MPI_Type_free(&row_b);
  free(bucket);
  free(a);
  free(b);
  MPI_Finalize();
  return 0;
}
