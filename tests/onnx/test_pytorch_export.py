#!/usr/bin/env python3
"""Models exported by PyTorch (torch.onnx.export, opset 14, dynamic batch) predicted by nnc.

An MLP and a CNN (Conv, BatchNorm, MaxPool, x.view(x.size(0), -1), Dropout, Linear) are
exported in eval mode; `nnc FILE.onnx predict` at batch 1, 5 and 64 must equal PyTorch's
output to rtol 1e-3, and `nnc FILE.onnx summary` must count the parameters PyTorch counts
(for the CNN: PyTorch's export folds BatchNorm into the convolution, so the file has the
convolution's weight and bias only).

    test_pytorch_export.py NNC_EXE        exit 0 on agreement, 1 otherwise, 77 without torch
"""
import os
import re
import subprocess
import sys
import tempfile
import warnings

try:
    import numpy as np
    import torch
except ImportError:
    print("SKIPPED: torch or numpy is not installed")
    sys.exit(77)

warnings.filterwarnings("ignore")


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.f1, self.f2 = torch.nn.Linear(20, 32), torch.nn.Linear(32, 10)

    def forward(self, x):
        return torch.softmax(self.f2(torch.relu(self.f1(x))), -1)


class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.bn = torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8)
        self.c2, self.fc = torch.nn.Conv2d(8, 16, 3, stride=2), torch.nn.Linear(16 * 6 * 6, 10)
        self.drop = torch.nn.Dropout(0.3)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.bn(self.c1(x))), 2)
        x = torch.relu(self.c2(x))
        return self.fc(self.drop(x.view(x.size(0), -1)))


def main():
    nnc = sys.argv[1]
    torch.manual_seed(0)
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        for name, model, sample, params in [("mlp", MLP(), (20,), 1002), ("cnn", CNN(), (1, 28, 28), 7034 - 16)]:
            model.eval()
            if name == "cnn":
                with torch.no_grad():
                    model.bn.running_mean.uniform_(-0.5, 0.5)
                    model.bn.running_var.uniform_(0.5, 2)
            path = os.path.join(d, name + ".onnx")
            torch.onnx.export(model, torch.randn(1, *sample), path, opset_version=14, input_names=["x"],
                              output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
            summary = subprocess.run([nnc, path, "summary"], capture_output=True, text=True)
            total = re.search(r"Total params: ([\d,]+)", summary.stdout)
            if summary.returncode != 0 or not total or int(total.group(1).replace(",", "")) != params:
                print(f"{name}: summary counts {total and total.group(1)}, expected {params}\n{summary.stderr}")
                failures += 1
            for batch in (1, 5, 64):
                x = torch.randn(batch, *sample)
                with torch.no_grad():
                    want = model(x).numpy()
                xp, yp = os.path.join(d, "x.npy"), os.path.join(d, "y.npy")
                np.save(xp, x.numpy())
                run = subprocess.run([nnc, path, "predict", "--data", "npy:x=" + xp, "--out", yp],
                                     capture_output=True, text=True)
                if run.returncode != 0:
                    print(f"{name} batch {batch}: nnc failed: {run.stderr}")
                    failures += 1
                    continue
                got = np.load(yp)
                ok = got.shape == want.shape and np.allclose(got, want, rtol=1e-3, atol=1e-6)
                err = float(np.abs(got - want).max()) if got.shape == want.shape else float("nan")
                print(f"{name} batch {batch}: {'agrees' if ok else 'DIFFERS'} (max abs difference {err:.3g})")
                failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
