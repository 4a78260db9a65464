#include "compiler/session/ModelCheckpoint.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "runtime/checkpoint/Safetensors.h"

namespace nnc {

namespace {
constexpr const char* kFormat = "1";

std::string shapeText(const std::vector<int64_t>& s) { return data::shapeString(s); }

Result<int64_t> intMeta(const ckpt::Checkpoint& c, const std::string& key, const std::string& path) {
  auto it = c.metadata.find(key);
  if (it == c.metadata.end()) return int64_t(0);
  try {
    size_t used = 0;
    long long v = std::stoll(it->second, &used);
    if (used != it->second.size() || v < 0) throw std::invalid_argument("");
    return int64_t(v);
  } catch (const std::exception&) {
    return makeError(path + ": metadata '" + key + "' is not a non-negative integer: '" + it->second + "'");
  }
}
}  // namespace

Result<void> saveModelCheckpoint(const std::string& path, training::Executor& exec, const CheckpointInfo& info) {
  ckpt::Checkpoint c;
  for (const training::TensorSpec& t : exec.stateTensors()) {
    std::span<float> v = exec.state(t.name);
    c.tensors.emplace(t.name, data::Array::fromF32(t.shape, std::vector<float>(v.begin(), v.end())));
  }
  nlohmann::json norm = nlohmann::json::array();
  for (const auto& n : info.normalization)
    norm.push_back({{"input", n.input}, {"shift", n.shift}, {"multiplier", n.multiplier}});
  c.metadata = {{"nnc.format", kFormat},
                {"nnc.model", info.model},
                {"nnc.optimizer", info.optimizer},
                {"nnc.epochs", std::to_string(info.epochs)},
                {"nnc.steps", std::to_string(info.steps)},
                {"nnc.normalize", norm.dump()}};
  return ckpt::writeSafetensors(path, c);
}

Result<CheckpointInfo> readCheckpointInfo(const std::string& path) {
  Result<ckpt::Checkpoint> file = ckpt::readSafetensors(path);
  if (!file) return file.error();
  CheckpointInfo info;
  auto meta = [&](const char* key) {
    auto it = file->metadata.find(key);
    return it == file->metadata.end() ? std::string() : it->second;
  };
  info.model = meta("nnc.model");
  info.optimizer = meta("nnc.optimizer");
  Result<int64_t> epochs = intMeta(*file, "nnc.epochs", path);
  if (!epochs) return epochs.error();
  Result<int64_t> steps = intMeta(*file, "nnc.steps", path);
  if (!steps) return steps.error();
  info.epochs = *epochs;
  info.steps = *steps;
  return info;
}

Result<CheckpointInfo> loadModelCheckpoint(const std::string& path, training::Executor& exec) {
  Result<ckpt::Checkpoint> file = ckpt::readSafetensors(path);
  if (!file) return file.error();
  const ckpt::Checkpoint& c = *file;
  CheckpointInfo info;
  // Validate everything before touching the executor.
  for (const auto& [name, array] : c.tensors) {
    const training::TensorSpec* spec = nullptr;
    for (const auto& t : exec.stateTensors())
      if (t.name == name) spec = &t;
    if (!spec) return makeError(path + ": tensor '" + name + "' is not a parameter or state of this model");
    if (array.dtype() != data::DType::F32)
      return makeError(path + ": tensor '" + name + "' is " + data::dtypeName(array.dtype()) + ", expected f32");
    if (array.shape() != spec->shape)
      return makeError(path + ": tensor '" + name + "' has shape " + shapeText(array.shape()) + " but the model's is " +
                       shapeText(spec->shape));
  }
  for (const auto& t : exec.stateTensors()) {
    if (c.tensors.count(t.name)) continue;
    if (t.trainable) return makeError(path + ": the checkpoint has no tensor for parameter '" + t.name + "'");
    info.missingState.push_back(t.name);
  }
  auto meta = [&](const char* key) {
    auto it = c.metadata.find(key);
    return it == c.metadata.end() ? std::string() : it->second;
  };
  info.model = meta("nnc.model");
  info.optimizer = meta("nnc.optimizer");
  Result<int64_t> epochs = intMeta(c, "nnc.epochs", path);
  if (!epochs) return epochs.error();
  Result<int64_t> steps = intMeta(c, "nnc.steps", path);
  if (!steps) return steps.error();
  info.epochs = *epochs;
  info.steps = *steps;
  if (std::string norm = meta("nnc.normalize"); !norm.empty()) {
    nlohmann::json j = nlohmann::json::parse(norm, nullptr, false);
    if (j.is_discarded() || !j.is_array()) return makeError(path + ": metadata 'nnc.normalize' is not a JSON list");
    for (const auto& e : j) {
      if (!e.is_object() || !e.contains("input") || !e["input"].is_string() || !e.contains("shift") ||
          !e["shift"].is_number() || !e.contains("multiplier") || !e["multiplier"].is_number())
        return makeError(path + ": metadata 'nnc.normalize' has an entry without input, shift and multiplier");
      info.normalization.push_back({e["input"].get<std::string>(), e["shift"].get<double>(), e["multiplier"].get<double>()});
    }
  }
  for (const auto& [name, array] : c.tensors) {
    std::span<float> dst = exec.state(name);
    std::span<const float> src = array.f32();
    std::memcpy(dst.data(), src.data(), std::min(dst.size_bytes(), src.size_bytes()));
  }
  return info;
}

}  // namespace nnc
