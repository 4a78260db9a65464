#include "TinyProblem.h"

#include <stdexcept>

#include "runtime/data/Npy.h"

namespace nnc::hostile {

TinyProblem::TinyProblem(const TinyProblemOptions& options) {
  model_ = dir_.write("tiny.nn", "model tiny\n"
                                 "input x: f32[batch, 4]\n"
                                 "input label: i32[batch]\n"
                                 "h = dense(x, " + std::to_string(options.hidden) + ", activation = relu)\n"
                                 "logits = dense(h, 3)\n"
                                 "output probs = softmax(logits)\n"
                                 "train {\n"
                                 "  loss = cross_entropy(logits, label)\n"
                                 "  optimizer = " + options.optimizer + "\n"
                                 "  batch = 8\n"
                                 "  epochs = 2\n"
                                 "}\n");
  // Deterministic, learnable data: the label is the index of the largest of x[0..2].
  std::vector<float> x;
  std::vector<int32_t> labels;
  uint32_t state = 12345;
  for (int i = 0; i < options.samples; ++i) {
    float row[4];
    for (float& v : row) {
      state = state * 1664525u + 1013904223u;
      v = float(state >> 8) / float(1u << 24) * 2.0f - 1.0f;
    }
    x.insert(x.end(), row, row + 4);
    labels.push_back(row[0] >= row[1] && row[0] >= row[2] ? 0 : row[1] >= row[2] ? 1 : 2);
  }
  std::string xPath = dir_.file("x.npy"), labelPath = dir_.file("label.npy");
  if (!data::saveNpy(xPath, data::Array::fromF32({options.samples, 4}, x)).ok() ||
      !data::saveNpy(labelPath, data::Array::fromI32({options.samples}, labels)).ok())
    throw std::runtime_error("cannot write the tiny problem's data");
  data_ = "npy:x=" + xPath + ",label=" + labelPath;
}

std::vector<std::string> TinyProblem::trainArgs(const std::vector<std::string>& extra) const {
  std::vector<std::string> args = {model_, "train", "--data", data_, "--backend", "interpreter", "--threads", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<std::string> TinyProblem::evalArgs(const std::string& weights, const std::vector<std::string>& extra) const {
  std::vector<std::string> args = {model_, "eval", "--data", data_, "--backend", "interpreter", "--weights", weights};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace nnc::hostile
