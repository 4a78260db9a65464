#include "runtime/distributed/DataParallelJob.h"

#include <cstdint>
#include <iostream>
#include <string>

#include "runtime/distributed/MpiLoader.h"

namespace nnc::distributed {

namespace {

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

Result<std::unique_ptr<DataParallelJob>> DataParallelJob::joinIfLaunched() {
  if (launchedJobSize() == 0) return std::unique_ptr<DataParallelJob>();
  Result<std::unique_ptr<Communicator>> c = joinLaunchedJob();
  if (!c) return c.error();
  return std::make_unique<DataParallelJob>(std::move(*c));
}

Result<void> DataParallelJob::checkAgreement(const std::vector<Fact>& facts) {
  std::vector<uint64_t> hashes, mins(facts.size()), maxs(facts.size());
  for (const Fact& f : facts) hashes.push_back(fnv1a(f.description));
  NNC_TRY(comm_->minMax(hashes.data(), mins.data(), maxs.data(), int(facts.size())));
  std::string differ;
  for (size_t i = 0; i < facts.size(); ++i)
    if (mins[i] != maxs[i]) differ += (differ.empty() ? "" : ", ") + facts[i].what;
  if (differ.empty()) return {};
  return makeError("the " + std::to_string(comm_->size()) + " processes of this mpirun job differ in " + differ +
                   "; every process must train the same model on the same data with the same options");
}

int DataParallelJob::fail(const std::string& message, bool everyProcess) {
  if (everyProcess) {
    if (isRoot()) std::cerr << "nnc: error: " << message << std::endl;
    return 1;
  }
  // One write: std::cerr flushes after every <<, and mpirun's abort banner, forwarded on the
  // same stream, could otherwise land in the middle of the line.
  std::string line = "nnc: error: process " + std::to_string(comm_->rank()) + " of " + std::to_string(comm_->size()) +
                     ": " + message + " (this ends every process of the job)\n";
  std::cerr << line << std::flush;
  comm_->abortJob(1);
  return 1;  // not reached: abortJob ends the process
}

}  // namespace nnc::distributed
