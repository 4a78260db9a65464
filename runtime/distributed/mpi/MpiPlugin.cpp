// libnnc_mpi.so: the Communicator over Open MPI. Only this file includes <mpi.h>; nnc loads
// it with dlopen when a run is distributed (MpiLoader.cpp).
// The C interface only: the deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <string>

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
  }
  ~MpiCommunicator() override {
    if (owned_) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  Result<void> sum(float* data, int64_t n) override { return allreduce(data, n, MPI_FLOAT, MPI_SUM, sizeof(float)); }
  Result<void> sum(double* data, int64_t n) override { return allreduce(data, n, MPI_DOUBLE, MPI_SUM, sizeof(double)); }
  Result<void> minMax(const uint64_t* values, uint64_t* mins, uint64_t* maxs, int n) override {
    int rc = MPI_Allreduce(values, mins, n, MPI_UINT64_T, MPI_MIN, comm_);
    if (rc == MPI_SUCCESS) rc = MPI_Allreduce(values, maxs, n, MPI_UINT64_T, MPI_MAX, comm_);
    if (rc != MPI_SUCCESS) return makeError("MPI_Allreduce failed: " + mpiErrorText(rc));
    return {};
  }
  [[noreturn]] void abortJob(int code) override {
    MPI_Abort(comm_, code);
    std::_Exit(code);  // MPI_Abort does not return; should it, end this process anyway
  }

 private:
  // MPI counts are ints: larger arrays go in pieces.
  Result<void> allreduce(void* data, int64_t n, MPI_Datatype type, MPI_Op op, size_t elementBytes) {
    char* p = static_cast<char*>(data);
    for (int64_t done = 0; done < n;) {
      int count = int(std::min<int64_t>(n - done, INT_MAX / 2));
      int rc = MPI_Allreduce(MPI_IN_PLACE, p + size_t(done) * elementBytes, count, type, op, comm_);
      if (rc != MPI_SUCCESS) return makeError("MPI_Allreduce failed: " + mpiErrorText(rc));
      done += count;
    }
    return {};
  }

  MPI_Comm comm_;
  bool owned_;
  int rank_ = 0, size_ = 1;
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
    int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) {
      *error = "MPI_Init failed: " + nnc::distributed::mpiErrorText(rc);
      return nullptr;
    }
  }
  // Errors come back as codes, to be reported (the default handler would abort silently).
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return new MpiCommunicator(MPI_COMM_WORLD, !initialised);
}
