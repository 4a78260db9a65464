// Trains a model from C++ with the nnc host API: batches are fed from host memory in place,
// the loss is watched, the result evaluated and saved.
//
//   train_mlp MODEL.nn DATA [SAMPLES] [WEIGHTS_OUT]
//   train_mlp fashion_mlp.nn fashion-mnist:train 4096 weights.safetensors
#include <nnc/nnc.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.nn DATA [SAMPLES] [WEIGHTS_OUT]\n", argv[0]);
    return 2;
  }
  auto model = nnc::api::Model::fromFile(argv[1]);
  if (!model) {
    std::fprintf(stderr, "%s", model.error().c_str());
    return 1;
  }
  auto data = nnc::api::loadData(*model, argv[2]);
  if (!data) {
    std::fprintf(stderr, "%s\n", data.error().c_str());
    return 1;
  }
  int64_t samples = (*data)[0].shape[0];
  if (argc > 3) samples = std::min<int64_t>(samples, std::atoll(argv[3]));
  auto trainer = nnc::api::Trainer::create(*model);
  if (!trainer) {
    std::fprintf(stderr, "%s\n", trainer.error().c_str());
    return 1;
  }

  // One epoch of batches of 64, each a view into the loaded arrays (no copies).
  const int64_t batch = 64;
  double firstLoss = 0, lastLoss = 0;
  for (int64_t first = 0; first < samples; first += batch) {
    int64_t n = std::min(batch, samples - first);
    std::vector<nnc::api::TensorRef> refs;
    for (const auto& t : *data) refs.push_back(t.ref(first, n));
    auto step = trainer->step(refs);
    if (!step) {
      std::fprintf(stderr, "step failed: %s\n", step.error().c_str());
      return 1;
    }
    if (first == 0) firstLoss = step->loss;
    lastLoss = step->loss;
  }
  std::vector<nnc::api::TensorRef> all;
  for (const auto& t : *data) all.push_back(t.ref(0, samples));
  auto eval = trainer->evaluate(all);
  if (!eval) {
    std::fprintf(stderr, "evaluate failed: %s\n", eval.error().c_str());
    return 1;
  }
  std::printf("steps %lld  first loss %.4f  last loss %.4f  loss %.4f  accuracy %.4f\n",
              static_cast<long long>(trainer->stepsDone()), firstLoss, lastLoss, eval->loss,
              eval->accuracy.value_or(0.0));

  // Parameters by name.
  auto w = model->parameter(model->state().front().name);
  if (!w) {
    std::fprintf(stderr, "%s\n", w.error().c_str());
    return 1;
  }
  if (argc > 4) {
    if (auto saved = model->save(argv[4]); !saved) {
      std::fprintf(stderr, "%s\n", saved.error().c_str());
      return 1;
    }
  }
  return lastLoss < firstLoss ? 0 : 1;
}
