#!/usr/bin/python3
"""Recurrent layers: nnc's compile time over the sequence length, and its training speed against
PyTorch's nn.LSTM / nn.GRU on the same shapes, batch and thread count, measured in one run.

Model (both sides): x f32[batch, T, 8] -> CELL(32 units) -> dense(5) -> cross entropy, Adam.
nnc: `nnc MODEL bench --json --batch B --threads N` (compile_seconds, train_samples_per_second)
on a generated .nn file. PyTorch: a child process (this same script with --torch-worker) whose
environment lacks OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, timing forward, backward and the Adam
step on random data, median of --repeats runs of at least --min-seconds each. Prints two
markdown tables: compile seconds per cell / direction / T, and training samples/s with the ratio
nnc / PyTorch (above 1: nnc faster).

  /usr/bin/python3 bench/recurrent_vs_pytorch.py [--nnc build/bin/nnc] [--threads 2] [--batch 32]
      [--train-steps 50,100,200,400] [--compile-steps 50,100,200,400,4096] [--cells lstm,gru]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FEATURES, UNITS, CLASSES = 8, 32, 5
PEER_UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def model_text(cell, steps, batch, bidirectional=False):
    bi = ", bidirectional = true" if bidirectional else ""
    return (f"model {cell}_{steps}\n"
            f"input seq: f32[batch, {steps}, {FEATURES}]\ninput label: i32[batch]\n"
            f"h = {cell}(seq, {UNITS}{bi})\nlogits = dense(h, {CLASSES})\n"
            f"train {{\n  loss = cross_entropy(logits, label)\n  optimizer = adam()\n  batch = {batch}\n}}\n")


def nnc_bench(nnc, cell, steps, batch, threads, seconds, bidirectional=False):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.nn")
        with open(path, "w") as f:
            f.write(model_text(cell, steps, batch, bidirectional))
        cmd = [nnc, path, "bench", "--json", "--batch", str(batch), "--threads", str(threads), "--seconds", str(seconds)]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"`{' '.join(cmd)}` exited with {p.returncode}:\n{p.stderr}")
        try:
            return json.loads(p.stdout)
        except ValueError:
            pass
        for line in reversed(p.stdout.strip().splitlines()):
            try:
                return json.loads(line)
            except ValueError:
                continue
        raise RuntimeError(f"`{' '.join(cmd)}` printed no JSON:\n{p.stdout}")


def torch_worker(args):
    """Runs in the peer's own process: samples/s of one training step per (cell, T)."""
    import torch
    torch.set_num_threads(args.threads)
    out = {"torch": torch.__version__, "results": {}}
    for cell in args.cells.split(","):
        for steps in [int(t) for t in args.train_steps.split(",")]:
            torch.manual_seed(0)
            rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(FEATURES, UNITS, batch_first=True)
            head = torch.nn.Linear(UNITS, CLASSES)
            params = list(rnn.parameters()) + list(head.parameters())
            opt = torch.optim.Adam(params, lr=1e-3, eps=1e-7)
            x = torch.randn(args.batch, steps, FEATURES)
            y = torch.randint(0, CLASSES, (args.batch,))

            def step():
                opt.zero_grad()
                h, _ = rnn(x)
                loss = torch.nn.functional.cross_entropy(head(h[:, -1, :]), y)
                loss.backward()
                opt.step()

            step()  # warm-up
            rates = []
            for _ in range(args.repeats):
                n, start = 0, time.perf_counter()
                while True:
                    step()
                    n += 1
                    elapsed = time.perf_counter() - start
                    if elapsed >= args.min_seconds:
                        break
                rates.append(n * args.batch / elapsed)
            out["results"][f"{cell}/{steps}"] = statistics.median(rates)
    print(json.dumps(out))


def torch_measure(args):
    env = dict(os.environ)
    for k in PEER_UNSET:
        env.pop(k, None)
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-worker", "--threads", str(args.threads), "--batch",
           str(args.batch), "--cells", args.cells, "--train-steps", args.train_steps, "--repeats", str(args.repeats),
           "--min-seconds", str(args.min_seconds)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"the PyTorch worker exited with {p.returncode}:\n{p.stderr}")
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nnc", default=os.path.join(REPO, "build", "bin", "nnc"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--cells", default="lstm,gru")
    ap.add_argument("--train-steps", default="50,100,200,400")
    ap.add_argument("--compile-steps", default="50,100,200,400,4096")
    ap.add_argument("--compile-cells", default="rnn,lstm,gru")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-seconds", type=float, default=0.5)
    ap.add_argument("--nnc-seconds", type=float, default=1.5)
    ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        return torch_worker(args)

    if args.compile_steps:
        print(f"Compile seconds (`nnc MODEL bench --json`, compile_seconds; {UNITS} units over {FEATURES} features)\n")
        cells = args.compile_cells.split(",")
        print("| T | " + " | ".join(f"{c} | {c} bidirectional" for c in cells) + " |")
        print("| --- |" + " --- | --- |" * len(cells))
        for steps in [int(t) for t in args.compile_steps.split(",")]:
            row = []
            for c in cells:
                for bi in (False, True):
                    r = nnc_bench(args.nnc, c, steps, args.batch, args.threads, 0.05, bi)
                    row.append(f"{r['compile_seconds']:.2f}")
            print(f"| {steps} | " + " | ".join(row) + " |", flush=True)
        print()

    if args.train_steps:
        peer = torch_measure(args)
        print(f"Training samples/s, batch {args.batch}, {args.threads} thread(s); PyTorch {peer['torch']} with "
              f"{' and '.join(PEER_UNSET)} unset, median of {args.repeats}\n")
        print("| cell | T | nnc | PyTorch | nnc / PyTorch |\n| --- | --- | --- | --- | --- |")
        for cell in args.cells.split(","):
            for steps in [int(t) for t in args.train_steps.split(",")]:
                r = nnc_bench(args.nnc, cell, steps, args.batch, args.threads, args.nnc_seconds)
                ours, theirs = r["train_samples_per_second"], peer["results"][f"{cell}/{steps}"]
                print(f"| {cell} | {steps} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
