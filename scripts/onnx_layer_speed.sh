#!/bin/sh
# The same CNN written in .nn and imported from PyTorch through onnx(...), benchmarked in one
# run, interleaved: training and inference samples per second of each, and their ratios
# (imported / native). Issue #12 asks for >= 0.8.
#
#   scripts/onnx_layer_speed.sh [BUILD_DIR] [REPEATS]      (default build, 3)
set -eu
BUILD=${1:-build}
REPEATS=${2:-3}
NNC=$(cd "$BUILD" && pwd)/bin/nnc
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"
/usr/bin/python3 - <<'PY'
import warnings
import torch
warnings.filterwarnings("ignore")
class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.Conv2d(16, 32, 3, padding=1)
        self.f1, self.f2 = torch.nn.Linear(32 * 7 * 7, 128), torch.nn.Linear(128, 10)
    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.c1(x)), 2)
        x = torch.nn.functional.max_pool2d(torch.relu(self.c2(x)), 2)
        return self.f2(torch.relu(self.f1(x.view(x.size(0), -1))))
torch.onnx.export(CNN().eval(), torch.zeros(1, 1, 28, 28), "cnn.onnx", opset_version=14, input_names=["x"],
                  output_names=["logits"], dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
PY
TRAIN='train {
  loss      = cross_entropy(logits, label)
  optimizer = sgd(lr = 0.01)
  batch     = 64
}'
cat > native.nn <<NN
model native
input image: f32[batch, 28, 28]
input label: i32[batch]
pixels = reshape(image, [28, 28, 1])
c1     = conv2d(pixels, 16, kernel = 3, padding = same, activation = relu)
p1     = maxpool(c1, 2)
c2     = conv2d(p1, 32, kernel = 3, padding = same, activation = relu)
p2     = maxpool(c2, 2)
fc     = dense(flatten(p2), 128, activation = relu, name = "fc")
logits = dense(fc, 10)
$TRAIN
NN
cat > imported.nn <<NN
model imported
input image: f32[batch, 28, 28]
input label: i32[batch]
pixels = reshape(image, [1, 28, 28])
logits = onnx("cnn.onnx", pixels)
$TRAIN
NN
field() { sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" "$2"; }
printf '%-4s %-10s %12s %12s %12s\n' run model train/s infer/s infer1/s
i=1
while [ "$i" -le "$REPEATS" ]; do
  for m in native imported; do
    "$NNC" $m.nn bench --json --threads 1 --seconds 2 > $m.json
    printf '%-4s %-10s %12.0f %12.0f %12.0f\n' "$i" $m "$(field train_samples_per_second $m.json)" \
      "$(field infer_samples_per_second $m.json)" "$(field infer_samples_per_second_batch1 $m.json)"
  done
  for f in train_samples_per_second infer_samples_per_second infer_samples_per_second_batch1; do
    echo "$(field $f imported.json) $(field $f native.json)"
  done | awk -v i="$i" '{ r[NR] = $1 / $2 } END { printf "%-4s %-10s %12.2f %12.2f %12.2f\n", i, "ratio", r[1], r[2], r[3] }'
  i=$((i + 1))
done
