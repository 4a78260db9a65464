#include "runtime/data/DataSource.h"

#include <sys/stat.h>

#include <cstdlib>

#include "runtime/data/Csv.h"
#include "runtime/data/Idx.h"
#include "runtime/data/Npy.h"

namespace nnc::data {

namespace {

constexpr const char* kDefaultFashionDir = "/usr/share/datasets/fashion-mnist";
constexpr const char* kForms =
    "expected one of: fashion-mnist, fashion-mnist:train, fashion-mnist:test, idx:IMAGES,LABELS, "
    "npy:NAME=FILE,NAME=FILE,..., csv:FILE";

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::vector<std::string_view> splitCommas(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    parts.push_back(s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) return parts;
    start = comma + 1;
  }
}

Error badSource(std::string_view text, const std::string& why) {
  return makeError("--data '" + std::string(text) + "': " + why);
}

const char* splitName(Split s) { return s == Split::Train ? "train" : "test"; }

// The file for one part of a split: the .gz name, or the plain name if only that exists.
std::string fashionFile(const std::string& dir, const std::string& base) {
  std::string gz = dir + "/" + base + ".gz";
  if (!exists(gz) && exists(dir + "/" + base)) return dir + "/" + base;
  return gz;
}

}  // namespace

Result<DataSource> parseDataSource(std::string_view text) {
  DataSource src;
  src.text = std::string(text);
  auto colon = text.find(':');
  std::string_view kind = text.substr(0, colon);
  std::string_view rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  const bool hasRest = colon != std::string_view::npos;

  if (kind == "fashion-mnist") {
    src.kind = DataSource::Kind::FashionMnist;
    if (!hasRest) return src;
    if (rest == "train") src.split = Split::Train;
    else if (rest == "test") src.split = Split::Test;
    else return badSource(text, "unknown Fashion-MNIST split '" + std::string(rest) + "' (expected train or test)");
    return src;
  }
  if (kind == "idx") {
    src.kind = DataSource::Kind::Idx;
    auto parts = splitCommas(rest);
    if (!hasRest || parts.size() > 2 || parts[0].empty() || (parts.size() == 2 && parts[1].empty()))
      return badSource(text, "expected idx:IMAGES,LABELS (two IDX files separated by a comma)");
    src.imagesPath = std::string(parts[0]);
    if (parts.size() == 2) src.labelsPath = std::string(parts[1]);
    return src;
  }
  if (kind == "npy") {
    src.kind = DataSource::Kind::Npy;
    if (!hasRest || rest.empty()) return badSource(text, "expected npy:NAME=FILE,NAME=FILE,... (at least one array)");
    for (std::string_view item : splitCommas(rest)) {
      auto eq = item.find('=');
      if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size())
        return badSource(text, "'" + std::string(item) + "' is not NAME=FILE (the input name, '=', the .npy file)");
      std::string name(item.substr(0, eq));
      for (auto& [seen, file] : src.npyFiles)
        if (seen == name) return badSource(text, "input '" + name + "' is given twice");
      src.npyFiles.emplace_back(name, std::string(item.substr(eq + 1)));
    }
    return src;
  }
  if (kind == "csv") {
    src.kind = DataSource::Kind::Csv;
    if (!hasRest || rest.empty()) return badSource(text, "expected csv:FILE");
    src.csvPath = std::string(rest);
    return src;
  }
  // A bare file name is a common slip: suggest the prefix it needs.
  std::string hint;
  if (endsWith(text, ".csv") || endsWith(text, ".csv.gz")) hint = " (did you mean csv:" + std::string(text) + "?)";
  else if (endsWith(text, ".npy")) hint = " (did you mean npy:NAME=" + std::string(text) + "?)";
  else if (text.find("idx") != std::string_view::npos && !hasRest) hint = " (did you mean idx:IMAGES,LABELS?)";
  return badSource(text, std::string("unknown data source") + hint + "; " + kForms);
}

std::string fashionMnistDir() {
  const char* env = std::getenv("NNC_FASHION_MNIST_DIR");
  return env && *env ? std::string(env) : std::string(kDefaultFashionDir);
}

Result<Dataset> loadFashionMnist(Split split, const std::string& dir) {
  const std::string desc = std::string("fashion-mnist:") + splitName(split);
  const char* env = std::getenv("NNC_FASHION_MNIST_DIR");
  const bool fromEnv = env && *env && dir == env;
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  const std::string images = fashionFile(dir, prefix + "-images-idx3-ubyte");
  const std::string labels = fashionFile(dir, prefix + "-labels-idx1-ubyte");
  for (const std::string& f : {images, labels}) {
    if (exists(f)) continue;
    if (fromEnv)
      return makeError(desc + ": '" + f + "' not found (the directory comes from NNC_FASHION_MNIST_DIR='" + dir +
                       "'; unset it to use the Debian package dataset-fashion-mnist)");
    return makeError(desc + ": '" + f + "' not found: the Fashion-MNIST data set is not installed; install it " +
                     "with `apt-get install dataset-fashion-mnist`, or set NNC_FASHION_MNIST_DIR to a directory " +
                     "holding the IDX files");
  }
  auto img = loadIdx(images, DType::F32);
  if (!img.ok()) return makeError(desc + ": " + img.error().message);
  auto lab = loadIdx(labels, DType::I32);
  if (!lab.ok()) return makeError(desc + ": " + lab.error().message);
  Dataset d;
  d.description = desc;
  d.positional = true;
  d.arrays.push_back({"images", std::move(*img), images});
  d.arrays.push_back({"labels", std::move(*lab), labels});
  d.images = 0;
  d.labels = 1;
  NNC_TRY(checkSampleCounts(d));
  return d;
}

Result<Dataset> loadDataSource(const DataSource& src, Split defaultSplit, const std::vector<InputSpec>& inputs,
                               bool inputsAreFeatures) {
  switch (src.kind) {
    case DataSource::Kind::FashionMnist:
      return loadFashionMnist(src.split.value_or(defaultSplit), fashionMnistDir());
    case DataSource::Kind::Idx: {
      Dataset d;
      d.description = src.text;
      d.positional = true;
      auto img = loadIdx(src.imagesPath, DType::F32);
      if (!img.ok()) return img.error();
      d.arrays.push_back({"images", std::move(*img), src.imagesPath});
      d.images = 0;
      if (!src.labelsPath.empty()) {
        // Labels are class ids: float IDX labels must hold integers.
        auto lab = loadIdx(src.labelsPath, DType::I32);
        if (!lab.ok()) return lab.error();
        d.arrays.push_back({"labels", std::move(*lab), src.labelsPath});
        d.labels = 1;
      }
      NNC_TRY(checkSampleCounts(d));
      NNC_TRY(checkFinite(d));  // float IDX (types 0x0D, 0x0E) can hold NaN
      return d;
    }
    case DataSource::Kind::Npy: {
      Dataset d;
      d.description = src.text;
      for (auto& [name, file] : src.npyFiles) {
        auto a = loadNpy(file);
        if (!a.ok()) return a.error();
        d.arrays.push_back({name, std::move(*a), file});
      }
      NNC_TRY(checkSampleCounts(d));
      NNC_TRY(checkFinite(d));  // as csv does: a NaN would only show later, as a NaN loss
      return d;
    }
    case DataSource::Kind::Csv: {
      CsvOptions options;
      for (auto& in : inputs)
        if (!in.isInteger) options.realValuedInputs.push_back(in.name);
      if (inputsAreFeatures)
        for (auto& in : inputs) options.featureInputs.push_back(in.name);
      return loadCsv(src.csvPath, options);
    }
  }
  return makeError("unknown data source kind");
}

Result<Dataset> loadData(std::string_view text, Split defaultSplit, const std::vector<InputSpec>& inputs,
                         bool inputsAreFeatures) {
  auto src = parseDataSource(text);
  if (!src.ok()) return src.error();
  return loadDataSource(*src, defaultSplit, inputs, inputsAreFeatures);
}

}  // namespace nnc::data
