#pragma once
// The `--data SRC` sources of the command line:
//   fashion-mnist            the command's default split (train for `train`, test for `eval`)
//   fashion-mnist:train      60000 images 28x28 and labels 0..9
//   fashion-mnist:test       10000 of each
//   idx:IMAGES,LABELS        any IDX pair, gzip or plain (idx:IMAGES alone: images only)
//   npy:NAME=FILE,NAME=FILE  NumPy arrays bound to the model's inputs by name
//   csv:FILE                 a header naming inputs, the last column the label (see Csv.h)
// Paths in these lists cannot contain commas.
//
// Fashion-MNIST is read from the Debian package dataset-fashion-mnist, which installs
// /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz. The
// environment variable NNC_FASHION_MNIST_DIR, when set and not empty, names another
// directory holding these four files (gzip, or plain without the .gz).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/data/Binding.h"
#include "runtime/data/Dataset.h"

namespace nnc::data {

enum class Split { Train, Test };

struct DataSource {
  enum class Kind { FashionMnist, Idx, Npy, Csv };
  Kind kind = Kind::FashionMnist;
  std::optional<Split> split;  // fashion-mnist: the split written, if any
  std::string imagesPath, labelsPath;  // idx (labelsPath empty: images only)
  std::vector<std::pair<std::string, std::string>> npyFiles;  // npy: (input name, file), in order
  std::string csvPath;  // csv
  std::string text;     // the source as written
};

// Parses a --data string; errors say what is wrong and show the accepted forms.
Result<DataSource> parseDataSource(std::string_view text);

// Loads a parsed source. `defaultSplit` is used for a bare `fashion-mnist`; `inputs` (the
// model's inputs, optional) lets csv read an f32 label column for a regression target.
// `inputsAreFeatures` (prediction): every input listed is a feature, so a csv whose last
// column names one of them has no label column.
Result<Dataset> loadDataSource(const DataSource& source, Split defaultSplit,
                               const std::vector<InputSpec>& inputs = {}, bool inputsAreFeatures = false);

// parseDataSource + loadDataSource.
Result<Dataset> loadData(std::string_view text, Split defaultSplit, const std::vector<InputSpec>& inputs = {},
                         bool inputsAreFeatures = false);

// The directory Fashion-MNIST is read from: $NNC_FASHION_MNIST_DIR when set and not empty,
// else /usr/share/datasets/fashion-mnist.
std::string fashionMnistDir();

// Loads the Fashion-MNIST split from `dir` (images f32 [n, 28, 28] with raw 0..255 values,
// labels i32 [n]); the errors for missing files say how to install the package.
Result<Dataset> loadFashionMnist(Split split, const std::string& dir);

}  // namespace nnc::data
