#pragma once
// Joining an MPI job without paying for MPI when there is none. `mpirun` (Open MPI) puts
// OMPI_COMM_WORLD_SIZE in every process's environment; only then is the plugin
// libnnc_mpi.so (which links libmpi) loaded with dlopen and MPI initialised. A host program
// that owns MPI passes its communicator instead.
#include <memory>

#include "runtime/distributed/Communicator.h"

namespace nnc::distributed {

// The size of the job mpirun started this process in, or 0 when it did not start it.
int launchedJobSize();

// MPI_COMM_WORLD of the job mpirun started (initialising MPI; finalised when the
// Communicator goes). Errors: the plugin or libmpi cannot be loaded, MPI_Init fails.
Result<std::unique_ptr<Communicator>> joinLaunchedJob();

// A communicator the host program owns (an MPI_Comm, passed as its handle's bits): MPI is
// already initialised and is not finalised here.
Result<std::unique_ptr<Communicator>> useHostCommunicator(const void* mpiComm);

}  // namespace nnc::distributed
