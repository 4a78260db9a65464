#!/usr/bin/env python3
"""Writes a generated sequence task for examples/tiny_transformer.nn: which token follows the marker?

A sequence has 12 steps. Each step is a token from 0..5 as a one-hot vector (6 features), then
its position as a one-hot vector (12 features). Exactly one step holds the marker token 0, never the last step.
The label is the token after the marker, minus 1 (5 classes, chance 0.2). Counting tokens cannot
solve it, nor can pooling over positions: a step has to look at the step before it (attention),
and the answer sits at a random position. Writes OUT/train_seq.npy, OUT/train_label.npy,
OUT/test_seq.npy and OUT/test_label.npy:

    python3 scripts/transformer_data.py /tmp/tt
    nnc examples/tiny_transformer.nn train --data npy:seq=/tmp/tt/train_seq.npy,label=/tmp/tt/train_label.npy \\
        --save /tmp/tt/tt.safetensors
    nnc examples/tiny_transformer.nn eval --weights /tmp/tt/tt.safetensors \\
        --data npy:seq=/tmp/tt/test_seq.npy,label=/tmp/tt/test_label.npy

tests/driver/TinyTransformerTest.cpp trains on the same task in the test suite.
"""
import argparse
import os

import numpy as np

STEPS, TOKENS = 12, 6


def marker_task(samples, rng):
    tokens = rng.integers(1, TOKENS, size=(samples, STEPS))
    marker = rng.integers(0, STEPS - 1, size=samples)
    rows = np.arange(samples)
    tokens[rows, marker] = 0
    labels = (tokens[rows, marker + 1] - 1).astype(np.int32)
    seq = np.zeros((samples, STEPS, TOKENS + STEPS), np.float32)
    seq[rows[:, None], np.arange(STEPS)[None, :], tokens] = 1
    seq[:, np.arange(STEPS), TOKENS + np.arange(STEPS)] = 1
    return seq, labels


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="directory for the .npy files (created if missing)")
    p.add_argument("--train", type=int, default=4000, help="training samples (default 4000)")
    p.add_argument("--test", type=int, default=1000, help="test samples (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    for split, n in (("train", a.train), ("test", a.test)):
        seq, labels = marker_task(n, rng)
        np.save(os.path.join(a.out, split + "_seq.npy"), seq)
        np.save(os.path.join(a.out, split + "_label.npy"), labels)
        print(f"{split}: {n} sequences of {STEPS}x{TOKENS + STEPS} -> {a.out}/{split}_seq.npy, {split}_label.npy")


if __name__ == "__main__":
    main()
