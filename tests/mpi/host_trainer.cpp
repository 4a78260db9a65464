// A host program that owns MPI and trains through <nnc/nnc.h> with
// TrainerOptions::mpiCommunicator (tests/mpi/mpi_train_test.py, case host_api).
//   host_trainer MODEL.nn DATA OUT.safetensors
// Alone (one process) it trains without the communicator; rank 0 saves.
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <cstdio>

#include "nnc/nnc.h"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  auto finish = [](int code) {
    MPI_Finalize();
    return code;
  };
  if (argc != 4) return finish(2);
  auto model = nnc::api::Model::fromFile(argv[1]);
  if (!model) return std::fprintf(stderr, "%s\n", model.error().c_str()), finish(1);
  auto data = nnc::api::loadData(*model, argv[2]);
  if (!data) return std::fprintf(stderr, "%s\n", data.error().c_str()), finish(1);
  MPI_Comm comm = MPI_COMM_WORLD;
  nnc::api::TrainerOptions options;
  if (size > 1) options.mpiCommunicator = &comm;
  auto trainer = nnc::api::Trainer::create(*model, options);
  if (!trainer) return std::fprintf(stderr, "%s\n", trainer.error().c_str()), finish(1);
  std::vector<nnc::api::TensorRef> refs;
  for (const auto& t : *data) refs.push_back(t.ref());
  nnc::api::FitOptions fit;
  fit.epochs = 2;
  auto history = trainer->fit(refs, fit);
  if (!history) return std::fprintf(stderr, "%s\n", history.error().c_str()), finish(1);
  if (rank == 0) {
    std::printf("loss %.6f\n", history->back().loss);
    if (auto ok = model->save(argv[3]); !ok) return std::fprintf(stderr, "%s\n", ok.error().c_str()), finish(1);
  }
  return finish(0);
}
