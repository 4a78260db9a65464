#include "compiler/driver/SummaryTable.h"

#include <algorithm>
#include <ostream>
#include <sstream>

namespace nnc::driver {

std::string withThousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

namespace {
// Keras writes the batch dimension as None; we write `batch`, as the model file does.
std::string shapeText(const Shape& s) {
  std::string t = "(";
  for (size_t i = 0; i < s.rank(); ++i) {
    if (i) t += ", ";
    t += s[i] == kBatch ? std::string("batch") : std::to_string(s[i]);
  }
  return t + (s.rank() == 1 ? ",)" : ")");
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}
}  // namespace

void printSummary(const Model& model, std::ostream& os) {
  const std::string header[3] = {"Layer (type)", "Output Shape", "Param #"};
  size_t w0 = header[0].size(), w1 = header[1].size(), w2 = header[2].size();
  struct Row { std::string layer, shape, params; };
  std::vector<Row> rows;
  int64_t trainable = 0, nonTrainable = 0;
  for (const LayerRow& r : model.layers) {
    rows.push_back({r.name + " (" + r.kind + ")", shapeText(r.outputShape),
                    withThousands(r.trainableParams + r.nonTrainableParams)});
    trainable += r.trainableParams;
    nonTrainable += r.nonTrainableParams;
    w0 = std::max(w0, rows.back().layer.size());
    w1 = std::max(w1, rows.back().shape.size());
    w2 = std::max(w2, rows.back().params.size());
  }
  w0 += 4, w1 += 4;
  size_t total = 1 + w0 + w1 + w2;
  os << "Model: \"" << model.name << "\"\n";
  os << std::string(total, '_') << '\n';
  os << ' ' << pad(header[0], w0) << pad(header[1], w1) << header[2] << '\n';
  os << std::string(total, '=') << '\n';
  for (size_t i = 0; i < rows.size(); ++i) {
    os << ' ' << pad(rows[i].layer, w0) << pad(rows[i].shape, w1) << rows[i].params << '\n';
    if (i + 1 < rows.size()) os << std::string(total, '_') << '\n';
  }
  os << std::string(total, '=') << '\n';
  os << "Total params: " << withThousands(trainable + nonTrainable) << '\n';
  os << "Trainable params: " << withThousands(trainable) << '\n';
  os << "Non-trainable params: " << withThousands(nonTrainable) << '\n';
  os << std::string(total, '_') << '\n';
  // The tune block's values this model was built with (--set, --hparams or the fallbacks).
  if (!model.hyperparameters.empty()) {
    os << "Hyperparameters:";
    for (const auto& [name, value] : model.hyperparameters) {
      std::ostringstream v;
      v.precision(6);
      v << value;
      os << ' ' << name << " = " << v.str() << (&name == &model.hyperparameters.back().first ? "" : ",");
    }
    os << '\n';
  }
}

}  // namespace nnc::driver
