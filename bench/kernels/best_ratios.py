#!/usr/bin/env python3
"""Peer time / nnc time from the fastest single iterations (the counter `best_ns`) of
sgemm_bench or conv_bench JSON outputs (--benchmark_format=json), one row per benchmark:
each side's minimum over every repetition in every file given, and the per-repetition
ratios for the spread. Rows below 0.9 are marked. On a shared machine this is the ratio an
idle machine shows (BestIteration.h); read 2-thread rows with care when the load is above
the core count, since a peer's threads may then never all run at once.

    build/bin/conv_bench --benchmark_repetitions=3 --benchmark_format=json > a.json
    bench/kernels/best_ratios.py a.json
"""
import json
import sys


def main(paths):
    rows = {}
    for path in paths:
        with open(path) as f:
            for b in json.load(f)["benchmarks"]:
                if b.get("run_type") != "iteration" or "best_ns" not in b:
                    continue
                side, rest = b["run_name"].split("/", 1)
                rows.setdefault(rest, {}).setdefault(side, []).append(b["best_ns"])
    for name, sides in rows.items():
        nnc = sides.get("nnc")
        peers = [v for k, v in sides.items() if k != "nnc"]
        if not nnc or not peers:
            continue
        peer = peers[0]
        ratio = min(peer) / min(nnc)
        spread = " ".join("%.2f" % (p / n) for p, n in zip(peer, nnc))
        label = name.split("/min_time")[0]
        mark = "  below 0.9" if ratio < 0.9 else ""
        print(f"{label:52s} {ratio:5.2f}  [{spread}]  nnc {min(nnc) / 1e3:.0f} us, peer {min(peer) / 1e3:.0f} us{mark}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
