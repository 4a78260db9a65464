#!/usr/bin/env python3
"""Exports a small PyTorch CNN's convolutional backbone to ONNX, with a dynamic batch, for
fashion_finetune.nn (which freezes it and trains a new head in nnc).

    /usr/bin/python3 export_backbone.py [--out fashion_backbone.onnx] [--pretrain STEPS]

--pretrain trains the whole CNN (backbone plus a throwaway linear head) on Fashion-MNIST for
STEPS Adam steps in PyTorch first (default 300, about 20 s; 0 exports the random
initialisation). The images are read from the IDX files of Debian's dataset-fashion-mnist (or
the folder NNC_FASHION_MNIST_DIR names) and scaled by 1/255, as the .nn model's
`normalize = scale(1 / 255)` does. BatchNorm is folded into the convolutions by the export
(eval mode), so the file holds plain Conv weights.
"""
import argparse
import gzip
import os
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore")


class Backbone(torch.nn.Module):
    """[batch, 1, 28, 28] -> [batch, 784]: two conv-batchnorm-relu-maxpool stages."""

    def __init__(self):
        super().__init__()
        self.c1, self.bn1 = torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8)
        self.c2, self.bn2 = torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.BatchNorm2d(16)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.bn1(self.c1(x))), 2)
        x = torch.nn.functional.max_pool2d(torch.relu(self.bn2(self.c2(x))), 2)
        return x.view(x.size(0), -1)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(data[3])]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def pretrain(backbone, steps):
    folder = os.environ.get("NNC_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    images = read_idx(os.path.join(folder, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255
    labels = read_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    head = torch.nn.Linear(784, 10)
    opt = torch.optim.Adam(list(backbone.parameters()) + list(head.parameters()), lr=1e-3)
    rng = np.random.default_rng(0)
    backbone.train()
    for step in range(steps):
        idx = rng.integers(0, len(images), 64)
        x = torch.from_numpy(images[idx]).unsqueeze(1)
        loss = torch.nn.functional.cross_entropy(head(backbone(x)), torch.from_numpy(labels[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 100 == 0 or step + 1 == steps:
            print(f"pretraining step {step + 1}/{steps}: loss {loss.item():.4f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "fashion_backbone.onnx"))
    p.add_argument("--pretrain", type=int, default=300, metavar="STEPS")
    args = p.parse_args()
    torch.manual_seed(0)
    backbone = Backbone()
    if args.pretrain > 0:
        pretrain(backbone, args.pretrain)
    backbone.eval()
    torch.onnx.export(backbone, torch.zeros(1, 1, 28, 28), args.out, opset_version=14, input_names=["image"],
                      output_names=["features"], dynamic_axes={"image": {0: "batch"}, "features": {0: "batch"}})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
