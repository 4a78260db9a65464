#include <iostream>

#include "compiler/driver/Command.h"
#include "compiler/driver/Limits.h"
#include "compiler/driver/ModelLoader.h"
#include "compiler/driver/OnnxModel.h"
#include "compiler/session/DataFeed.h"
#include "compiler/session/Executors.h"
#include "compiler/session/ModelCheckpoint.h"
#include "compiler/train/TrainingGraph.h"
#include "runtime/checkpoint/Safetensors.h"
#include "runtime/data/Csv.h"
#include "runtime/data/Npy.h"
#include "runtime/support/Interrupt.h"

namespace nnc::driver {
namespace {

class PredictCommand : public Command {
 public:
  const char* name() const override { return "predict"; }
  const char* help() const override {
    return "Write the model's first output for every sample to a .npy or .csv file";
  }
  void addOptions(CLI::App& sub) override {
    sub.add_option("--weights", weights_, "The checkpoint to use (optional for an ONNX model)");
    sub.add_option("--data", data_, "Data source")->required();
    sub.add_option("--out", out_,
                   "The file to write: NAME.npy (NumPy) or NAME.csv (a header, a row per sample); or DIR/ for "
                   "every output as DIR/NAME.npy")
        ->required();
    sub.add_option("--batch", batch_, "Batch size")->check(positiveNumber());
    sub.add_option("--threads", threads_, "Threads (default: every core)")->check(CLI::Range(1, 1024));
    sub.add_option("--backend", backend_, "jit (default) or interpreter")->check(CLI::IsMember({"jit", "interpreter"}));
  }

  int run(const std::string& path) override {
    auto loaded = loadModel(path);
    if (!loaded) return kExitError;
    // Every output (--out DIR/) and ONNX models: see OnnxModel.h.
    if (!loaded->onnx && weights_.empty()) return fail("predict needs --weights CKPT for a .nn model");
    if (loaded->onnx || (!out_.empty() && out_.back() == '/')) {
      if (!loaded->onnx && loaded->model.train && loaded->model.train->normalize != NormalizeKind::None)
        return fail("--out DIR/ does not apply the train block's `normalize` yet; write the first output with --out FILE.npy");
      return predictAllOutputs(*loaded, PredictRequest{weights_, data_, out_, batch_.value_or(256)});
    }
    const Model& model = loaded->model;
    if (model.graph.outputs.empty()) {
      reportError(path, "the model declares no output (write `output NAME = ...`), so there is nothing to predict");
      return kExitError;
    }
    // Refused before any work: a file named .csv that holds NPY bytes is worse than an error.
    const bool csv = out_.ends_with(".csv");
    if (!csv && !out_.ends_with(".npy"))
      return fail("--out '" + out_ + "': expected a file name ending in .npy (NumPy) or .csv");
    if (auto ok = ckpt::checkWritableDestination(out_); !ok) return fail(ok.error().message);
    ExecutorOptions eo;
    eo.backend = *parseBackend(backend_);
    eo.threads = threads_.value_or(0);
    MemoryCheck memory(model);  // before the executor allocates the parameters
    if (auto ok = memory.atBatch(1); !ok) return fail(ok.error().message);
    auto exec = createExecutor(model, eo);
    if (!exec) return fail(exec.error().message);
    auto info = loadModelCheckpoint(weights_, **exec);
    if (!info) return fail(info.error().message);
    // Only the inputs the outputs depend on: data for prediction need not carry labels.
    auto graph = buildInferenceGraph(model);
    if (!graph) return fail(graph.error().message);
    // The forward graph keeps every declared input as a leaf, the labels too: walk back
    // from the outputs to find the ones actually read.
    std::vector<bool> reached(graph->size(), false);
    std::vector<NodeId> work;
    for (const Output& o : graph->outputs) work.push_back(o.node);
    while (!work.empty()) {
      NodeId id = work.back();
      work.pop_back();
      if (reached[size_t(id)]) continue;
      reached[size_t(id)] = true;
      for (NodeId in : graph->node(id).inputs) work.push_back(in);
    }
    std::vector<std::string> needed;
    for (NodeId id : graph->leaves(OpKind::Input))
      if (reached[size_t(id)]) needed.push_back(graph->node(id).name);
    auto feed = loadModelData(model, data_, data::Split::Test, needed);
    if (!feed) return fail(feed.error().message);
    normalizeModelData(*feed, info->normalization);

    training::TensorSpec out = (*exec)->firstOutput();
    int64_t perSample = 1;
    for (int64_t d : out.shape) perSample *= d;
    std::vector<int64_t> shape = {feed->samples};
    shape.insert(shape.end(), out.shape.begin(), out.shape.end());
    std::vector<float> values(size_t(feed->samples * perSample));
    int64_t batch = batch_.value_or(256);
    if (auto ok = memory.atBatch(std::min(batch, std::max<int64_t>(feed->samples, 1))); !ok)
      return fail(ok.error().message);
    for (int64_t first = 0; first < feed->samples; first += batch) {
      int64_t n = std::min(batch, feed->samples - first);
      auto ok = (*exec)->predict(rowPointers(*feed, first), n,
                                 std::span<float>(values).subspan(size_t(first * perSample), size_t(n * perSample)));
      if (!ok) return fail(ok.error().message);
      interrupt::testPoint("predict-batch");
    }
    data::Array result = data::Array::fromF32(shape, std::move(values));
    if (out.dtype == data::DType::I32) {
      auto converted = data::convertArray(std::move(result), data::DType::I32, "output '" + out.name + "'");
      if (!converted) return fail(converted.error().message);
      result = std::move(*converted);
    }
    auto saved = csv ? data::saveCsv(out_, result, out.name) : data::saveNpy(out_, result);
    if (!saved) return fail(saved.error().message);
    return kExitOk;
  }

 private:
  std::string weights_, data_, out_, backend_ = "jit";
  std::optional<int64_t> batch_;
  std::optional<int> threads_;
};

}  // namespace
std::unique_ptr<Command> makePredictCommand() { return std::make_unique<PredictCommand>(); }
}  // namespace nnc::driver
