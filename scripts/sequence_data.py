#!/usr/bin/env python3
"""Writes a generated sequence-classification task for examples/sequence_lstm.nn.

Five classes; a sequence of class c has a constant drift added to feature c at every step, on
top of unit Gaussian noise in all features, so the class shows only in what the model
accumulates over time (any single step is ambiguous). Writes OUT/train_seq.npy,
OUT/train_label.npy, OUT/test_seq.npy and OUT/test_label.npy:

    python3 scripts/sequence_data.py /tmp/seq
    nnc examples/sequence_lstm.nn train --data npy:seq=/tmp/seq/train_seq.npy,label=/tmp/seq/train_label.npy \\
        --save /tmp/seq/lstm.safetensors
    nnc examples/sequence_lstm.nn eval --weights /tmp/seq/lstm.safetensors \\
        --data npy:seq=/tmp/seq/test_seq.npy,label=/tmp/seq/test_label.npy

tests/driver/SequenceLstmTest.cpp trains the same task (at 8 steps) in the test suite.
"""
import argparse
import os

import numpy as np


def drift_task(samples, steps, features, classes, drift, rng):
    labels = rng.integers(0, classes, samples).astype(np.int32)
    seq = rng.standard_normal((samples, steps, features)).astype(np.float32)
    seq[np.arange(samples), :, labels] += np.float32(drift)
    return seq, labels


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="directory for the .npy files (created if missing)")
    p.add_argument("--train", type=int, default=2000, help="training samples (default 2000)")
    p.add_argument("--test", type=int, default=1000, help="test samples (default 1000)")
    p.add_argument("--steps", type=int, default=20, help="sequence length; the example's is 20")
    p.add_argument("--features", type=int, default=8, help="features per step; the example's is 8")
    p.add_argument("--classes", type=int, default=5, help="classes (at most --features); the example's is 5")
    p.add_argument("--drift", type=float, default=1.0, help="added to the class's feature at every step")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if not 1 <= a.classes <= a.features:
        p.error("--classes must be between 1 and --features")
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    for split, n in (("train", a.train), ("test", a.test)):
        seq, labels = drift_task(n, a.steps, a.features, a.classes, a.drift, rng)
        np.save(os.path.join(a.out, split + "_seq.npy"), seq)
        np.save(os.path.join(a.out, split + "_label.npy"), labels)
        print(f"{split}: {n} sequences of {a.steps}x{a.features} -> {a.out}/{split}_seq.npy, {split}_label.npy")


if __name__ == "__main__":
    main()
