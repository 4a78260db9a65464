// libnnc_mpi.so: the Communicator over Open MPI. Only this file includes <mpi.h>; nnc loads
// it with dlopen when a run is distributed (MpiLoader.cpp).
// The C interface only: the deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

#include "runtime/distributed/Communicator.h"

namespace nnc::distributed {
namespace {

std::string mpiErrorText(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, size_t(len));
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    int level = MPI_THREAD_SINGLE;
    MPI_Query_thread(&level);
    serialized_ = level >= MPI_THREAD_SERIALIZED;
  }
  ~MpiCommunicator() override {
    if (owned_) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  bool serializedThreads() const override { return serialized_; }

  Result<void> sum(float* data, int64_t n) override { return allreduce(data, n, MPI_FLOAT, MPI_SUM, sizeof(float)); }
  Result<void> sum(double* data, int64_t n) override { return allreduce(data, n, MPI_DOUBLE, MPI_SUM, sizeof(double)); }
  Result<void> minMax(const uint64_t* values, uint64_t* mins, uint64_t* maxs, int n) override {
    int rc = MPI_Allreduce(values, mins, n, MPI_UINT64_T, MPI_MIN, comm_);
    if (rc == MPI_SUCCESS) rc = MPI_Allreduce(values, maxs, n, MPI_UINT64_T, MPI_MAX, comm_);
    if (rc != MPI_SUCCESS) return makeError("MPI_Allreduce failed: " + mpiErrorText(rc));
    return {};
  }
  // Rows travel as one derived type a row, so the counts are rows (MPI counts are ints).
  static Result<void> rowType(int64_t rowFloats, MPI_Datatype* row) {
    int rc = MPI_Type_contiguous(int(rowFloats), MPI_FLOAT, row);
    if (rc == MPI_SUCCESS) rc = MPI_Type_commit(row);
    if (rc != MPI_SUCCESS) return makeError("MPI_Type_contiguous failed: " + mpiErrorText(rc));
    return {};
  }
  Result<void> gather(float* all, int64_t rowFloats, const std::vector<int64_t>& rows) override {
    std::vector<int> counts, displs;
    NNC_TRY(gatherCounts(rowFloats, rows, counts, displs));
    MPI_Datatype row;
    NNC_TRY(rowType(rowFloats, &row));
    int rc = MPI_SUCCESS;
    if (pollMicros_ != 0) {
      MPI_Request request;
      rc = MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, counts.data(), displs.data(), row, comm_, &request);
      if (rc == MPI_SUCCESS) rc = waitPolling(request);
    } else {
      rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, counts.data(), displs.data(), row, comm_);
    }
    MPI_Type_free(&row);
    if (rc != MPI_SUCCESS) return makeError("MPI_Allgatherv failed: " + mpiErrorText(rc));
    return {};
  }
  Result<void> startSum(float* data, int64_t n) override { return startAllreduce(data, n, MPI_FLOAT, sizeof(float)); }
  Result<void> startSum(double* data, int64_t n) override { return startAllreduce(data, n, MPI_DOUBLE, sizeof(double)); }
  Result<void> startGather(float* all, int64_t rowFloats, const std::vector<int64_t>& rows) override {
    std::vector<int> counts, displs;
    NNC_TRY(gatherCounts(rowFloats, rows, counts, displs));
    MPI_Datatype row;
    NNC_TRY(rowType(rowFloats, &row));
    MPI_Request request;
    int rc = MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, counts.data(), displs.data(), row, comm_, &request);
    MPI_Type_free(&row);  // the started gather completes normally
    if (rc != MPI_SUCCESS) return makeError("MPI_Iallgatherv failed: " + mpiErrorText(rc));
    pending_.push_back(request);
    return {};
  }
  // The caller has nothing else to compute while it waits (the entry has returned), so,
  // unless NNC_MPI_POLL_US says otherwise, it tests without sleeping, yielding the core to
  // any other runnable thread between tests: each round of a collective (a TCP fragment, an
  // acknowledgement) progresses only inside MPI_Test, and a 50 us sleep between tests (in
  // practice 60-150 us) made every round of the step's collectives wait for one. On an idle
  // machine the waiting process's core has nothing else to do; on a loaded one a yielding
  // loop still takes its share of a core while the other process computes. So it yields for
  // kSpinWindow after the start and after each collective that completes (the rounds follow
  // each other quickly once every process has arrived), and sleeps between tests otherwise.
  Result<void> finish() override {
    int rc = MPI_SUCCESS;
    if (pollMicros_ == 0 && !pending_.empty()) {
      rc = MPI_Waitall(int(pending_.size()), pending_.data(), MPI_STATUSES_IGNORE);
    } else if (!pending_.empty()) {
      using Clock = std::chrono::steady_clock;
      std::vector<int> completed(pending_.size());
      auto window = Clock::now();
      for (;;) {
        int n = 0;
        rc = MPI_Testsome(int(pending_.size()), pending_.data(), &n, completed.data(), MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS || n == MPI_UNDEFINED) break;  // MPI_UNDEFINED: none left
        if (n > 0) {
          window = Clock::now();
          continue;
        }
        if (pollMicros_ < 0 && Clock::now() - window < kSpinWindow)
          sched_yield();
        else
          sleepBetweenTests();
      }
    }
    pending_.clear();
    if (rc != MPI_SUCCESS) return makeError("an MPI collective failed: " + mpiErrorText(rc));
    return {};
  }
  [[noreturn]] void abortJob(int code) override {
    MPI_Abort(comm_, code);
    std::_Exit(code);  // MPI_Abort does not return; should it, end this process anyway
  }

 private:
  Result<void> gatherCounts(int64_t rowFloats, const std::vector<int64_t>& rows, std::vector<int>& counts,
                            std::vector<int>& displs) const {
    if (int(rows.size()) != size_ || rowFloats < 1 || rowFloats > INT_MAX)
      return makeError("internal: MPI_Allgatherv of malformed shares");
    counts.assign(rows.size(), 0);
    displs.assign(rows.size(), 0);
    int64_t at = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
      if (at + rows[r] > INT_MAX) return makeError("MPI_Allgatherv: too many rows to gather");
      counts[r] = int(rows[r]);
      displs[r] = int(at);
      at += rows[r];
    }
    return {};
  }

  Result<void> startAllreduce(void* data, int64_t n, MPI_Datatype type, size_t elementBytes) {
    char* p = static_cast<char*>(data);
    for (int64_t done = 0; done < n;) {
      int count = int(std::min<int64_t>(n - done, INT_MAX / 2));
      MPI_Request request;
      int rc = MPI_Iallreduce(MPI_IN_PLACE, p + size_t(done) * elementBytes, count, type, MPI_SUM, comm_, &request);
      if (rc != MPI_SUCCESS) return makeError("MPI_Iallreduce failed: " + mpiErrorText(rc));
      pending_.push_back(request);
      done += count;
    }
    return {};
  }

  // MPI counts are ints: larger arrays go in pieces.
  Result<void> allreduce(void* data, int64_t n, MPI_Datatype type, MPI_Op op, size_t elementBytes) {
    char* p = static_cast<char*>(data);
    for (int64_t done = 0; done < n;) {
      int count = int(std::min<int64_t>(n - done, INT_MAX / 2));
      int rc = pollMicros_ != 0 ? pollingAllreduce(p + size_t(done) * elementBytes, count, type, op)
                               : MPI_Allreduce(MPI_IN_PLACE, p + size_t(done) * elementBytes, count, type, op, comm_);
      if (rc != MPI_SUCCESS) return makeError("MPI_Allreduce failed: " + mpiErrorText(rc));
      done += count;
    }
    return {};
  }

  // A blocking MPI_Allreduce spins on Open MPI's progress loop while it waits for the other
  // processes, taking a core from the backward pass it overlaps (and from the other process,
  // on a machine with as many processes as cores). So the reduction is an MPI_Iallreduce
  // tested every NNC_MPI_POLL_US microseconds (default 50), sleeping in between; 0 restores
  // the blocking call. On 2 loaded cores, 20 steps of fashion_cnn: an epoch of 19 to 25 s
  // polling every 20 to 100 us, 40 to 53 s blocking (docs/distributed.md).
  int pollingAllreduce(void* data, int count, MPI_Datatype type, MPI_Op op) {
    MPI_Request request;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, data, count, type, op, comm_, &request);
    if (rc != MPI_SUCCESS) return rc;
    return waitPolling(request);
  }

  int waitPolling(MPI_Request& request) {
    for (;;) {
      int done = 0;
      int rc = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
      if (rc != MPI_SUCCESS || done) return rc;
      sleepBetweenTests();
    }
  }

  MPI_Comm comm_;
  bool owned_;
  int rank_ = 0, size_ = 1;
  bool serialized_ = false;
  std::vector<MPI_Request> pending_;  // started by start*, completed by finish()
  void sleepBetweenTests() const {
    struct timespec t{0, long(pollMicros_ > 0 ? pollMicros_ : kDefaultPollMicros) * 1000};
    nanosleep(&t, nullptr);
  }

  // NNC_MPI_POLL_US: unset -1 (sleep kDefaultPollMicros between tests, but yield in finish()),
  // N > 0 (sleep N between tests everywhere), 0 (blocking calls).
  static constexpr int kDefaultPollMicros = 50;
  // Longer than one step's collectives take once both processes are in them (fashion_cnn's
  // 1 MB over loopback TCP: about 1 ms idle), short against a step (tens of ms).
  static constexpr std::chrono::microseconds kSpinWindow{2000};
  int pollMicros_ = [] {
    const char* v = std::getenv("NNC_MPI_POLL_US");
    return v && *v ? std::max(std::atoi(v), 0) : -1;
  }();
};

}  // namespace
}  // namespace nnc::distributed

extern "C" __attribute__((visibility("default"))) nnc::distributed::Communicator* nnc_mpi_create(
    const void* comm, std::string* error) {
  using nnc::distributed::MpiCommunicator;
  if (comm) return new MpiCommunicator(*static_cast<const MPI_Comm*>(comm), false);
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    int provided = 0;
    // SERIALIZED: the gradient reduction runs on a thread of its own, never at the same time
    // as another MPI call (OverlappedReduction.h). Open MPI takes no locks below MULTIPLE.
    int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) {
      *error = "MPI_Init failed: " + nnc::distributed::mpiErrorText(rc);
      return nullptr;
    }
  }
  // Errors come back as codes, to be reported (the default handler would abort silently).
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return new MpiCommunicator(MPI_COMM_WORLD, !initialised);
}
