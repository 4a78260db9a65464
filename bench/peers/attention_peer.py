#!/usr/bin/python3
"""One multi_head_attention layer, forward + backward + SGD step, nnc against PyTorch in one run.

bench/models/attention_layer.nn (batch 32, time 64, features 64, 4 heads of 16), timed by
`nnc bench --json` (training samples/s), against the same layer in PyTorch written the same way
(projections as matmuls, batched per-head matmuls, scale, mask and softmax, the output
projection; see tests/peers/attention_layers.py) and against torch.nn.MultiheadAttention, each
with an MSE loss and an SGD step. PyTorch runs in a child process without OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE. The runs alternate, `--repeats` times each, because the machine is shared: the
spread of the ratios is part of the result.

  /usr/bin/python3 bench/peers/attention_peer.py [--nnc build/bin/nnc] [--threads 2] [--repeats 5]
      [--causal false,true] [--layer attention|layernorm]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BATCH, TIME, FEATURES, HEADS, KEY_DIM = 32, 64, 64, 4, 16

PEER = r"""
import json, math, sys, time
import torch
sys.path.insert(0, REPO + "/tests/peers")
threads, causal, form, seconds = int(sys.argv[1]), sys.argv[2] == "true", sys.argv[3], float(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)
B, T, F, H, D = BATCH, TIME, FEATURES, HEADS, KEY_DIM
x, target = torch.randn(B, T, F), torch.randn(B, T, F)
if form == "layernorm":
    import attention_layers
    layer = attention_layers.LayerNorm("n", F)
    run = lambda: layer(x)
elif form == "written":
    import attention_layers
    layer = attention_layers.MultiHeadAttention("att", F, F, H, D, causal)
    for p in layer.parameters():
        torch.nn.init.uniform_(p, -0.1, 0.1)
    run = lambda: layer(x, x)
else:
    layer = torch.nn.MultiheadAttention(F, H, batch_first=True)
    mask = torch.ones(T, T, dtype=torch.bool).triu(1) if causal else None
    run = lambda: layer(x, x, x, attn_mask=mask, need_weights=False)[0]
opt = torch.optim.SGD(layer.parameters(), lr=1e-3)
def step():
    opt.zero_grad()
    torch.nn.functional.mse_loss(run(), target).backward()
    opt.step()
for _ in range(5):
    step()
n, start = 0, time.perf_counter()
while time.perf_counter() - start < seconds:
    step()
    n += 1
print(json.dumps({"train_samples_per_second": n * B / (time.perf_counter() - start)}))
"""


def peer_env():
    env = dict(os.environ)
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(k, None)
    return env


def torch_rate(threads, causal, form, seconds):
    code = PEER.replace("REPO", repr(REPO)).replace("BATCH, TIME, FEATURES, HEADS, KEY_DIM",
                                                     f"{BATCH}, {TIME}, {FEATURES}, {HEADS}, {KEY_DIM}")
    out = subprocess.run(["/usr/bin/python3", "-c", code, str(threads), causal, form, str(seconds)],
                         env=peer_env(), check=True, capture_output=True, text=True).stdout
    return json.loads(out)["train_samples_per_second"]


def nnc_rate(nnc, model, threads, seconds):
    out = subprocess.run([nnc, model, "bench", "--json", "--batch", str(BATCH), "--threads", str(threads),
                          "--seconds", str(seconds)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["train_samples_per_second"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nnc", default=os.path.join(REPO, "build/bin/nnc"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--causal", default="false,true")
    ap.add_argument("--layer", default="attention", choices=["attention", "layernorm"],
                    help="layernorm: bench/models/layernorm_layer.nn against torch's fused layer_norm")
    a = ap.parse_args()
    if a.layer == "layernorm":
        model = os.path.join(REPO, "bench/models/layernorm_layer.nn")
        rows = {"nnc": [], "layer_norm": []}
        for _ in range(a.repeats):
            rows["nnc"].append(nnc_rate(a.nnc, model, a.threads, a.seconds))
            rows["layer_norm"].append(torch_rate(a.threads, "false", "layernorm", a.seconds))
        print(f"layernorm, threads {a.threads}, training samples/s per repeat:")
        for k, v in rows.items():
            print(f"  {k:22s} " + " ".join(f"{x:8.0f}" for x in v))
        ratios = [n / p for n, p in zip(rows["nnc"], rows["layer_norm"])]
        print(f"  nnc / torch layer_norm  median {statistics.median(ratios):.2f}  range {min(ratios):.2f}-{max(ratios):.2f}")
        return
    with open(os.path.join(REPO, "bench/models/attention_layer.nn")) as f:
        template = f.read()
    with tempfile.TemporaryDirectory() as tmp:
        for causal in a.causal.split(","):
            model = os.path.join(tmp, f"attention_{causal}.nn")
            with open(model, "w") as f:
                f.write(template.replace("CAUSAL", causal))
            rows = {"nnc": [], "written": [], "nn.MultiheadAttention": []}
            for _ in range(a.repeats):
                rows["nnc"].append(nnc_rate(a.nnc, model, a.threads, a.seconds))
                rows["written"].append(torch_rate(a.threads, causal, "written", a.seconds))
                rows["nn.MultiheadAttention"].append(torch_rate(a.threads, causal, "module", a.seconds))
            print(f"causal = {causal}, threads {a.threads}, training samples/s per repeat:")
            for k, v in rows.items():
                print(f"  {k:22s} " + " ".join(f"{x:8.0f}" for x in v))
            for peer in ("written", "nn.MultiheadAttention"):
                ratios = [n / p for n, p in zip(rows["nnc"], rows[peer])]
                print(f"  nnc / torch {peer:22s} median {statistics.median(ratios):.2f}  "
                      f"range {min(ratios):.2f}-{max(ratios):.2f}")


if __name__ == "__main__":
    main()
