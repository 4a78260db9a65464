#!/usr/bin/env python3
"""Recurrent and embedding models exported by PyTorch 1.13 (opset 14, dynamic batch) in nnc.

Three models, each exported in eval mode (PyTorch folds the LSTM/GRU weights into W, R, B
initializers) and in training mode without constant folding (the initializers are the
modules' own parameters, reordered by Slice/Concat in the graph):
  - a two-layer LSTM classifier (batch_first, the last step's output through a Linear);
  - a bidirectional GRU classifier (the final states h_n[-2], h_n[-1] concatenated);
  - an embedding model (nn.Embedding -> Gather, mean over the tokens, Linear).
For each export:
  - `nnc FILE.onnx predict` at batch 1, 5 and 64 equals PyTorch's output to rtol 1e-3;
  - `nnc FILE.onnx summary` counts PyTorch's parameters;
  - `nnc FILE.onnx compile` writes the object and the header.
For the training-mode export, through `logits = onnx("m.onnx", x)` in a .nn file:
  - four SGD steps give PyTorch's parameters to 5e-4 of each one's largest magnitude, under the
    names `logits.<initializer name>`;
  - `trainable = false` keeps every imported weight bit for bit while a new head trains.

    test_export_recurrent.py NNC_EXE     exit 0 on agreement, 1 otherwise, 77 without torch
"""
import os
import re
import subprocess
import sys
import tempfile
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
import nnc_torch as nt  # noqa: E402

torch = nt.require_torch()
np = nt.np
from test_onnx_layer import (BATCH, LR, STEPS, check_compile, check_predict_batches, initializers,  # noqa: E402
                             torch_steps, within)

warnings.filterwarnings("ignore")

STEPS_T, FEATURES, CLASSES, VOCAB = 7, 6, 10, 50


class LSTMClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.LSTM(FEATURES, 12, num_layers=2, batch_first=True)
        self.fc = torch.nn.Linear(12, CLASSES)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y[:, -1])


class BiGRUClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.GRU(FEATURES, 8, batch_first=True, bidirectional=True)
        self.fc = torch.nn.Linear(16, CLASSES)

    def forward(self, x):
        _, h = self.rnn(x)
        return self.fc(torch.cat([h[-2], h[-1]], 1))


class EmbeddingModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(VOCAB, 8)
        self.fc = torch.nn.Linear(8, CLASSES)

    def forward(self, x):
        return self.fc(self.emb(x).mean(1))


CASES = [
    # name, model, sample shape, tokens (int64 input) or floats
    ("lstm", LSTMClassifier, (STEPS_T, FEATURES), False),
    ("bigru", BiGRUClassifier, (STEPS_T, FEATURES), False),
    ("embedding", EmbeddingModel, (STEPS_T,), True),
]


def sample_input(rng, count, sample, tokens):
    if tokens:
        return rng.integers(0, VOCAB, (count, *sample)).astype(np.int64)
    return rng.standard_normal((count, *sample)).astype(np.float32)


def export(model, sample, tokens, path, training):
    model.train(training)
    x = torch.from_numpy(sample_input(np.random.default_rng(1), 2, sample, tokens))
    mode = torch.onnx.TrainingMode.TRAINING if training else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, x, path, opset_version=14, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, training=mode,
                      do_constant_folding=not training)


def check_file(nnc, d, name, model, path, sample, tokens, rng, failures):
    """predict at batch 1, 5, 64; summary's parameter count; compile's object and header."""
    params = sum(p.numel() for p in model.parameters())
    summary = subprocess.run([nnc, path, "summary"], capture_output=True, text=True)
    total = re.search(r"Total params: ([\d,]+)", summary.stdout)
    counted = int(total.group(1).replace(",", "")) if summary.returncode == 0 and total else None
    print(f"  summary: {counted} parameters (PyTorch {params})")
    failures += [] if counted == params else [f"{name} summary"]
    check_predict_batches(nnc, name, model, path, lambda batch: sample_input(rng, batch, sample, tokens), d, failures)
    check_compile(nnc, name, path, d, failures)


def model_text(name, sample, tokens, body):
    dims = ", ".join(str(d) for d in sample)
    return f"""model {name}
input x: {'i32' if tokens else 'f32'}[batch, {dims}]
input label: i32[batch]
{body}
train {{
  loss      = cross_entropy(logits, label)
  optimizer = sgd(lr = {LR})
  batch     = {BATCH}
}}
"""


def check_training(nnc, d, name, model, path, sample, tokens, rng, failures):
    """Four SGD steps through onnx(...), and trainable = false."""
    model.load_state_dict(initializers(path), strict=False)
    start = {k: v.detach().clone() for k, v in model.state_dict().items()}
    x = sample_input(rng, STEPS * BATCH, sample, tokens)
    labels = rng.integers(0, CLASSES, STEPS * BATCH).astype(np.int32)
    xs = nt.save_npy(os.path.join(d, "x.npy"), x.astype(np.int32) if tokens else x)
    ls = nt.save_npy(os.path.join(d, "label.npy"), labels)
    data = nt.npy_source({"x": xs, "label": ls})
    onnx_name = os.path.basename(path)

    nn_path = os.path.join(d, name + ".nn")
    with open(nn_path, "w") as f:
        f.write(model_text(name, sample, tokens, f'logits = onnx("{onnx_name}", x)\noutput y = logits'))
    saved = os.path.join(d, name + ".safetensors")
    nt.run_nnc(nnc, [nn_path, "train", "--data", data, "--epochs", 1, "--no-shuffle", "--save", saved])
    got, _ = nt.read_safetensors(saved)
    torch_steps(model, torch.from_numpy(x), torch.from_numpy(labels).long())
    moved = max(float((v.detach() - start[k]).abs().max()) for k, v in model.named_parameters())
    if moved < 1e-3:
        failures.append(f"{name}: the four steps barely move the weights: the comparison could not fail")
    for k, v in model.named_parameters():
        within("logits." + k, got.get("logits." + k, np.zeros(0)), v.detach().numpy(), failures)

    frozen = os.path.join(d, name + "_frozen.nn")
    with open(frozen, "w") as f:
        f.write(model_text(name + "_frozen", sample, tokens,
                           f'features = onnx("{onnx_name}", x, trainable = false)\n'
                           f'logits = dense(relu(features), {CLASSES})'))
    saved = os.path.join(d, name + "_frozen.safetensors")
    nt.run_nnc(nnc, [frozen, "train", "--data", data, "--epochs", 1, "--no-shuffle", "--save", saved])
    got, _ = nt.read_safetensors(saved)
    for k, v in start.items():
        same = ("features." + k) in got and np.array_equal(got["features." + k], v.numpy())
        print(f"  features.{k} frozen: {'bit for bit' if same else 'CHANGED'}")
        failures += [] if same else [f"{name} frozen {k}"]
    if "logits.weight" not in got:
        failures.append(f"{name}: the new head was not saved")


def main():
    nnc = sys.argv[1]
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    failures = []
    with tempfile.TemporaryDirectory() as d:
        for name, make, sample, tokens in CASES:
            model = make()
            for training in (False, True):
                tag = f"{name}_{'train' if training else 'eval'}"
                print(tag)
                path = os.path.join(d, tag + ".onnx")
                export(model, sample, tokens, path, training)
                check_file(nnc, d, tag, model, path, sample, tokens, rng, failures)
                if training:
                    check_training(nnc, d, tag, model, path, sample, tokens, rng, failures)
    print("FAILED: " + ", ".join(failures) if failures else "all agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
