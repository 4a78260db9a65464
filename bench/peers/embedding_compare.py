#!/usr/bin/python3
"""nnc's embedding training step against PyTorch's nn.Embedding, measured in one run (issue 13).

The model: ids i32[batch, 20] into a 50,000 x 64 table, the mean over the ids, then a dense
layer to 10 classes; cross-entropy, SGD without momentum (lr 0.1), batch 64, ids uniform over
the whole vocabulary. nnc trains it (`nnc MODEL train`, one epoch of STEPS batches, the
samples/s its --log reports: the training loop alone, compile time excluded). PyTorch trains
the same model on the same batches twice, with nn.Embedding's dense gradient and with
sparse=True, each in its own process with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset. The
three runs alternate, ROUNDS times, so every round sees the same machine load; the median and
the spread (min..max) of each, and of the ratios, are printed.

  /usr/bin/python3 bench/peers/embedding_compare.py --nnc build/bin/nnc [--threads 2] [--steps 200] [--rounds 5]

--optimizer adam trains with Adam (lr 0.001) instead: nnc's dense-gradient semantics (the
moments of every row decay each step), which PyTorch's torch.optim.Adam shares with a dense
nn.Embedding; with sparse=True PyTorch needs SparseAdam for the table (its moments change only
in the batch's rows: other results, less work) and Adam for the dense layer. --baseline NNC
adds a second nnc binary (say, a build from before a change) to every round.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

VOCAB, DIM, IDS, CLASSES, BATCH = 50000, 64, 20, 10, 64

OPTIMIZERS = {"sgd": "sgd(lr = 0.1)", "adam": "adam(lr = 0.001)"}

MODEL = """
model embedding_bench
input ids: i32[batch, {IDS}]
input label: i32[batch]
emb    = embedding(ids, {VOCAB}, {DIM})
pooled = mean(emb, axis = 1)
logits = dense(pooled, {CLASSES})
train {{
  loss      = cross_entropy(logits, label)
  optimizer = {OPTIMIZER}
  batch     = {BATCH}
}}
"""

TORCH = r"""
import sys, time, json
import numpy as np
import torch
ids = torch.from_numpy(np.load(sys.argv[1]).astype(np.int64))
labels = torch.from_numpy(np.load(sys.argv[2]).astype(np.int64))
sparse = sys.argv[3] == "sparse"
torch.set_num_threads(int(sys.argv[4]))
adam = sys.argv[5] == "adam"
torch.manual_seed(0)
emb = torch.nn.Embedding(%d, %d, sparse=sparse)
fc = torch.nn.Linear(%d, %d)
if not adam:
    opts = [torch.optim.SGD(list(emb.parameters()) + list(fc.parameters()), lr=0.1)]
elif sparse:
    opts = [torch.optim.SparseAdam(list(emb.parameters()), lr=0.001), torch.optim.Adam(fc.parameters(), lr=0.001)]
else:
    opts = [torch.optim.Adam(list(emb.parameters()) + list(fc.parameters()), lr=0.001)]
def epoch():
    for first in range(0, ids.shape[0], %d):
        x, y = ids[first:first + %d], labels[first:first + %d]
        for opt in opts:
            opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(fc(emb(x).mean(dim=1)), y)
        loss.backward()
        for opt in opts:
            opt.step()
epoch()  # warm-up
t0 = time.perf_counter()
epoch()
print(json.dumps({"samples_per_second": ids.shape[0] / (time.perf_counter() - t0)}))
""" % (VOCAB, DIM, DIM, CLASSES, BATCH, BATCH, BATCH)


def peer_env():
    env = dict(os.environ)
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(k, None)
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nnc", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="sgd")
    ap.add_argument("--baseline", help="a second nnc binary to measure in every round")
    args = ap.parse_args()
    import numpy as np

    work = tempfile.mkdtemp(prefix="nnc-embedding-bench-")
    rng = np.random.default_rng(0)
    n = BATCH * args.steps
    ids_path, labels_path = os.path.join(work, "ids.npy"), os.path.join(work, "label.npy")
    np.save(ids_path, rng.integers(0, VOCAB, size=(n, IDS)).astype(np.int32))
    np.save(labels_path, rng.integers(0, CLASSES, size=n).astype(np.int32))
    model_path = os.path.join(work, "embedding_bench.nn")
    with open(model_path, "w") as f:
        f.write(MODEL.format(VOCAB=VOCAB, DIM=DIM, IDS=IDS, CLASSES=CLASSES, BATCH=BATCH,
                             OPTIMIZER=OPTIMIZERS[args.optimizer]))
    script = os.path.join(work, "torch_embedding.py")
    with open(script, "w") as f:
        f.write(TORCH)

    def nnc_run(binary):
        log = os.path.join(work, "log.jsonl")
        if os.path.exists(log):
            os.remove(log)
        # two epochs: the first warms the caches, the second is measured
        subprocess.run([binary, model_path, "train", "--data", f"npy:ids={ids_path},label={labels_path}",
                        "--epochs", "2", "--no-shuffle", "--threads", str(args.threads), "--log", log],
                       check=True, stdout=subprocess.DEVNULL)
        with open(log) as f:
            return [json.loads(line) for line in f if line.strip()][-1]["samples_per_second"]

    def torch_run(kind):
        out = subprocess.run([sys.executable, script, ids_path, labels_path, kind, str(args.threads), args.optimizer],
                             env=peer_env(),
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])["samples_per_second"]

    rows = {"nnc": [], "torch dense": [], "torch sparse": []}
    if args.baseline:
        rows["nnc baseline"] = []
    for r in range(args.rounds):
        rows["nnc"].append(nnc_run(args.nnc))
        if args.baseline:
            rows["nnc baseline"].append(nnc_run(args.baseline))
        rows["torch dense"].append(torch_run("dense"))
        rows["torch sparse"].append(torch_run("sparse"))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in rows.items()), flush=True)

    print(f"\nvocab {VOCAB}, dim {DIM}, {IDS} ids per sample, batch {BATCH}, {args.optimizer}, {args.threads} threads, "
          f"{args.rounds} rounds of {args.steps} steps; samples/s, median (min..max)")
    for k, v in rows.items():
        print(f"| {k} | {statistics.median(v):.0f} ({min(v):.0f}..{max(v):.0f}) |")
    for peer in ("torch dense", "torch sparse") + (("nnc baseline",) if args.baseline else ()):
        ratios = [a / b for a, b in zip(rows["nnc"], rows[peer])]
        print(f"| nnc / {peer} | {statistics.median(ratios):.2f}x ({min(ratios):.2f}..{max(ratios):.2f}) per round |")


if __name__ == "__main__":
    sys.exit(main())
