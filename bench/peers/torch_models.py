#!/usr/bin/python3
"""PyTorch versions of examples/fashion_mlp.nn and examples/fashion_cnn.nn, and their speed.

The models are written the way a PyTorch user would write them: NCHW images (torch's native
layout; nnc's is NHWC, which only permutes the rows of the first dense layer's weights),
`padding=2` for the 5x5 `same` convolutions (symmetric here, so the same as TensorFlow's), the
same layer sizes, activations, dropout, loss and optimizer (Adam, lr 1e-3, eps 1e-7 as nnc).

Measured for each model and thread count (torch.set_num_threads), on synthetic data of the
right shape (already scaled by 1/255, as nnc scales it once before training):
  train_samples_per_second          forward + backward + Adam step, batch 64 (--batch)
  infer_samples_per_second_batch1   forward + softmax, batch 1, torch.inference_mode()
  infer_samples_per_second          forward + softmax, batch 64
Each is the median of --repeats timed runs of at least --min-seconds each, after a warm-up.
The JSON keys are those of `nnc MODEL bench --json`.

  /usr/bin/python3 bench/peers/torch_models.py [--models fashion_mlp,fashion_cnn]
      [--threads 1,2] [--batch 64] [--repeats 5] [--min-seconds 0.3] [--json]
Run it with Debian's /usr/bin/python3 (python3-torch).
"""

import argparse
import json
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class FashionMlp(nn.Module):
    """examples/fashion_mlp.nn: 784 -> 256 -> 128 -> 10, relu."""

    def __init__(self):
        super().__init__()
        self.h1 = nn.Linear(28 * 28, 256)
        self.h2 = nn.Linear(256, 128)
        self.logits = nn.Linear(128, 10)

    def forward(self, image):  # image [N, 28, 28]
        x = torch.flatten(image, 1)
        return self.logits(F.relu(self.h2(F.relu(self.h1(x)))))


class FashionCnn(nn.Module):
    """examples/fashion_cnn.nn: conv5x5(32) relu, maxpool 2, conv5x5(64) relu, maxpool 2,
    dense 1024 relu, dropout 0.4, dense 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.fc = nn.Linear(7 * 7 * 64, 1024)
        self.drop = nn.Dropout(0.4)
        self.logits = nn.Linear(1024, 10)

    def forward(self, image):  # image [N, 28, 28]
        x = image.unsqueeze(1)                       # [N, 1, 28, 28]
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)   # [N, 32, 14, 14]
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)   # [N, 64, 7, 7]
        x = self.drop(F.relu(self.fc(torch.flatten(x, 1))))
        return self.logits(x)


MODELS = {"fashion_mlp": FashionMlp, "fashion_cnn": FashionCnn}


def make_optimizer(model):
    return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)


def synthetic_batch(batch, generator):
    images = torch.rand(batch, 28, 28, generator=generator)  # pixels / 255
    labels = torch.randint(0, 10, (batch,), generator=generator)
    return images, labels


def timed(step, samples_per_call, warmup, repeats, min_seconds):
    """Median samples/second over `repeats` runs; each run repeats `step` for at least
    `min_seconds` (the call count is calibrated once, after the warm-up)."""
    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    calls = 0
    while time.perf_counter() - t0 < min_seconds / 4:
        step()
        calls += 1
    per_call = (time.perf_counter() - t0) / calls
    n = max(1, int(min_seconds / per_call))
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        rates.append(n * samples_per_call / (time.perf_counter() - t0))
    return statistics.median(rates)


def measure(name, threads, batch=64, repeats=5, min_seconds=0.3, warmup=5):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = MODELS[name]()
    optimizer = make_optimizer(model)
    images, labels = synthetic_batch(batch, gen)
    one = images[:1].clone()

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()

    model.train()
    train = timed(train_step, batch, warmup, repeats, min_seconds)

    model.eval()
    with torch.inference_mode():
        infer64 = timed(lambda: torch.softmax(model(images), dim=-1), batch, warmup, repeats, min_seconds)
        infer1 = timed(lambda: torch.softmax(model(one), dim=-1), 1, warmup * 4, repeats, min_seconds)
    return {"train_samples_per_second": train, "infer_samples_per_second_batch1": infer1,
            "infer_samples_per_second": infer64}


def environment():
    return {"torch": torch.__version__, "python": platform.python_version(), "machine": platform.machine(),
            "processor": platform.processor() or None, "parallel": torch.__config__.parallel_info().splitlines()[-1]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="fashion_mlp,fashion_cnn")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--min-seconds", type=float, default=0.3)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    models = [m for m in args.models.split(",") if m]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {unknown}; known: {', '.join(MODELS)}")
    threads = [int(t) for t in args.threads.split(",")]

    result = {"framework": "pytorch", "batch": args.batch, "environment": environment(), "models": {}}
    for m in models:
        result["models"][m] = {}
        for t in threads:
            r = measure(m, t, args.batch, args.repeats, args.min_seconds)
            result["models"][m][str(t)] = r
            if not args.json:
                print(f"{m:12s} threads {t}: train {r['train_samples_per_second']:10.1f}/s  "
                      f"infer b1 {r['infer_samples_per_second_batch1']:10.1f}/s  "
                      f"infer b{args.batch} {r['infer_samples_per_second']:10.1f}/s", flush=True)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
