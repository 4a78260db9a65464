#!/usr/bin/python3
"""nnc against PyTorch on the two Fashion-MNIST examples, measured in the same run.

For every model and thread count: PyTorch's numbers (torch_models.py, in a child process whose
environment lacks OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, so its OpenBLAS runs unhindered: the
machine's environment pins it to Haswell kernels; nnc and tests keep the variables), then
`nnc examples/MODEL.nn bench --json --batch B --threads T` when this nnc has a `bench`
command (without one, only PyTorch's numbers are printed). Prints a markdown table of both
with the ratio nnc / PyTorch (throughputs: above 1 means nnc is faster), and the issue's
targets: training against PyTorch's better thread setting, batch-1 latency of fashion_mlp.

  /usr/bin/python3 bench/peers/compare.py [--nnc build/bin/nnc] [--threads 1,2] [--batch 64]
      [--models fashion_mlp,fashion_cnn] [--repeats 5] [--min-seconds 0.3] [--nnc-seconds 1.5]
      [--json-out FILE]
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

METRICS = [("train_samples_per_second", "training samples/s, batch {batch}"),
           ("infer_samples_per_second_batch1", "inference samples/s, batch 1"),
           ("infer_samples_per_second", "inference samples/s, batch {batch}")]


# Set in this machine's environment to hold OpenBLAS back (AVX2 kernels on AVX-512 CPUs, a
# fixed L2 blocking); unset for the peer's own process only.
PEER_UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def peer_environment():
    """The environment for PyTorch's process, and a note of what was unset."""
    env = dict(os.environ)
    removed = [f"{k}={env.pop(k)}" for k in PEER_UNSET if k in env]
    note = (f"PyTorch ran with {' and '.join(PEER_UNSET)} unset (were: {', '.join(removed)})" if removed
            else f"PyTorch ran without {' or '.join(PEER_UNSET)} (not set)")
    return env, note


def torch_measure(model, threads, batch, repeats, min_seconds):
    """torch_models.py --json for one model and thread count, in its own unhindered process."""
    env, _ = peer_environment()
    # torch.set_num_threads does not reach Debian's pthreads OpenBLAS, whose own pool takes
    # every core: at "1 thread" PyTorch's dense layers ran on two (CPU time 660-840 us against
    # 510-700 us per batch-64 fashion_mlp inference with this set to 1). Same count as nnc's.
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    cmd = [sys.executable, os.path.join(HERE, "torch_models.py"), "--json", "--models", model, "--threads",
           str(threads), "--batch", str(batch), "--repeats", str(repeats), "--min-seconds", str(min_seconds)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` exited with {p.returncode}:\n{p.stderr}")
    result = json.loads(p.stdout)
    return result["models"][model][str(threads)], result["environment"]


def nnc_has_bench(nnc):
    p = subprocess.run([nnc, os.devnull, "bench", "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode == 0


def nnc_bench(nnc, model, batch, threads, seconds):
    """`nnc MODEL bench --json`: its JSON object (all of stdout, or its last line that is one)."""
    path = os.path.join(REPO, "examples", model + ".nn")
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
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    raise RuntimeError(f"`{' '.join(cmd)}` printed no JSON object:\n{p.stdout}")


def fmt(v):
    return "-" if v is None else f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def fmt_seconds(v):
    return "-" if v is None else f"{v:.2f} s"


def ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nnc", default=os.path.join(REPO, "build", "bin", "nnc"))
    ap.add_argument("--models", default="fashion_mlp,fashion_cnn")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--min-seconds", type=float, default=0.3)
    ap.add_argument("--nnc-seconds", type=float, default=1.5,
                    help="nnc bench --seconds: time per measurement (PyTorch's is --repeats x --min-seconds)")
    ap.add_argument("--json-out", help="also write every number to this JSON file")
    args = ap.parse_args()

    models = [m for m in args.models.split(",") if m]
    threads = [int(t) for t in args.threads.split(",")]
    have_nnc = os.path.exists(args.nnc) and nnc_has_bench(args.nnc)
    if not have_nnc:
        print(f"note: {args.nnc} has no `bench` command (or does not exist): PyTorch's numbers only\n")

    _, peer_note = peer_environment()
    results = {"batch": args.batch, "environment": None, "peer_environment": peer_note, "models": {}}
    for m in models:
        results["models"][m] = {}
        for t in threads:
            pytorch, results["environment"] = torch_measure(m, t, args.batch, args.repeats, args.min_seconds)
            entry = {"pytorch": pytorch}
            if have_nnc:
                entry["nnc"] = nnc_bench(args.nnc, m, args.batch, t, args.nnc_seconds)
            results["models"][m][str(t)] = entry
            print(f"measured {m}, {t} thread(s)", file=sys.stderr, flush=True)

    print(f"PyTorch {results['environment']['torch']}, CPU; median of {args.repeats} runs; synthetic data")
    print(f"{peer_note}, and OPENBLAS_NUM_THREADS set to each row's thread count; nnc ran in the unchanged "
          "environment\n")
    if have_nnc:
        # Two ratios: against PyTorch at the same thread count, and against PyTorch at whichever
        # of the measured thread counts served it better (on a busy machine its 2-thread numbers
        # can fall below its 1-thread ones).
        print("| model | threads | metric | nnc | PyTorch | nnc / PyTorch | nnc / PyTorch's best threads |\n"
              "| --- | --- | --- | --- | --- | --- | --- |")
    else:
        print("| model | threads | metric | PyTorch |\n| --- | --- | --- | --- |")
    for m in models:
        per = results["models"][m]
        for t in threads:
            e = per[str(t)]
            for key, label in METRICS:
                label = label.format(batch=args.batch)
                pt = e["pytorch"].get(key)
                if have_nnc:
                    nv = e["nnc"].get(key)
                    best_pt = max((per[str(u)]["pytorch"].get(key) or 0) for u in threads)
                    print(f"| {m} | {t} | {label} | {fmt(nv)} | {fmt(pt)} | {ratio(nv, pt)} | {ratio(nv, best_pt)} |")
                else:
                    print(f"| {m} | {t} | {label} | {fmt(pt)} |")
    if have_nnc:
        print()
        for m in models:
            e = results["models"][m][str(threads[0])]["nnc"]
            mem = e.get("memory_bytes")
            print(f"nnc {m}: compile {fmt_seconds(e.get('compile_seconds'))}, planned memory "
                  f"{'-' if mem is None else f'{mem / 2**20:.1f} MiB'}")

    if have_nnc:
        # The targets, against PyTorch's better thread setting.
        print("\n| target | nnc (best threads) | PyTorch (best threads) | ratio | goal |\n| --- | --- | --- | --- | --- |")
        goals = [("fashion_mlp", "train_samples_per_second", 1.5), ("fashion_cnn", "train_samples_per_second", 1.2),
                 ("fashion_mlp", "infer_samples_per_second_batch1", 3.0)]
        for m, key, goal in goals:
            if m not in results["models"]:
                continue
            per = results["models"][m]
            best_nnc = max((per[str(t)]["nnc"].get(key) or 0) for t in threads)
            best_pt = max(per[str(t)]["pytorch"][key] for t in threads)
            r = best_nnc / best_pt if best_pt else 0
            print(f"| {m} {key} | {fmt(best_nnc)} | {fmt(best_pt)} | {r:.2f}x | >= {goal}x "
                  f"{'(met)' if r >= goal else '(not met)'} |")

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
