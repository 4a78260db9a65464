#pragma once
// The command line's side of a data-parallel run (`mpirun -np N nnc FILE train ...`): joining
// the job, checking at start-up that every process trains the same thing, and ending the job
// on an error so that no process is left waiting in a collective.
#include <memory>
#include <string>
#include <vector>

#include "runtime/distributed/Communicator.h"

namespace nnc::distributed {

// Something every process must agree on, by a hash of its description.
struct Fact {
  std::string what;         // "the model", "the training data", "the options"
  std::string description;  // hashed; the same text on every process means agreement
};

class DataParallelJob {
 public:
  // The job mpirun started this process in, or null when mpirun did not start it (a plain
  // run pays nothing: no libmpi is loaded).
  static Result<std::unique_ptr<DataParallelJob>> joinIfLaunched();
  explicit DataParallelJob(std::unique_ptr<Communicator> comm) : comm_(std::move(comm)) {}

  Communicator& comm() { return *comm_; }
  bool isRoot() const { return comm_->rank() == 0; }

  // A collective: every process calls it with the same facts in the same order. Errors (on
  // every process alike): which facts differ between processes.
  Result<void> checkAgreement(const std::vector<Fact>& facts);

  // Reports `message` on standard error and returns the exit status. An error every process
  // has alike (`everyProcess`) is printed once, by process 0, and the processes end
  // normally; an error of this process alone ends the whole job (MPI_Abort).
  int fail(const std::string& message, bool everyProcess);

 private:
  std::unique_ptr<Communicator> comm_;
};

}  // namespace nnc::distributed
