#!/usr/bin/env python3
"""Writes a generated token-sequence task for examples/text_gru.nn.

Sequences of 24 tokens drawn uniformly from a vocabulary of 12; the label is 1 when the
sequence contains the pattern 3, 1, 4 (three consecutive tokens) anywhere, else 0. Half of
the sequences have the pattern planted at a random position; the other half are drawn again
until they do not contain it. Seeing the pattern needs a token's neighbours on both sides, so
a bidirectional layer reads it from either end. Writes OUT/SPLIT_ids.npy (i32 token ids,
[samples, steps]) and OUT/SPLIT_label.npy for SPLIT = train and test:

    python3 scripts/text_data.py /tmp/text
    nnc examples/text_gru.nn train --data npy:tokens=/tmp/text/train_tokens.npy,label=/tmp/text/train_label.npy \\
        --save /tmp/text/gru.safetensors
    nnc examples/text_gru.nn eval --weights /tmp/text/gru.safetensors \\
        --data npy:tokens=/tmp/text/test_tokens.npy,label=/tmp/text/test_label.npy

tests/driver/TextGruTest.cpp trains the same task (shorter sequences) in the test suite.
"""
import argparse
import os

import numpy as np

PATTERN = (3, 1, 4)


def contains(seq, pattern):
    k = len(pattern)
    return any(tuple(seq[i:i + k]) == pattern for i in range(len(seq) - k + 1))


def pattern_task(samples, steps, vocab, rng):
    ids = np.zeros((samples, steps), dtype=np.int32)
    labels = (np.arange(samples) % 2).astype(np.int32)
    rng.shuffle(labels)
    for i in range(samples):
        while True:
            seq = rng.integers(0, vocab, steps)
            if labels[i]:
                at = rng.integers(0, steps - len(PATTERN) + 1)
                seq[at:at + len(PATTERN)] = PATTERN
            if contains(tuple(seq), PATTERN) == bool(labels[i]):
                break
        ids[i] = seq
    return ids, labels


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="directory for the .npy files (created if missing)")
    p.add_argument("--train", type=int, default=4000, help="training samples (default 4000)")
    p.add_argument("--test", type=int, default=1000, help="test samples (default 1000)")
    p.add_argument("--steps", type=int, default=24, help="sequence length; the example's is 24")
    p.add_argument("--vocab", type=int, default=12, help="vocabulary size; the example's is 12")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.vocab <= max(PATTERN) or a.steps < len(PATTERN):
        p.error(f"--vocab must exceed {max(PATTERN)} and --steps be at least {len(PATTERN)}")
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    for split, n in (("train", a.train), ("test", a.test)):
        ids, labels = pattern_task(n, a.steps, a.vocab, rng)
        np.save(os.path.join(a.out, split + "_ids.npy"), ids)
        np.save(os.path.join(a.out, split + "_label.npy"), labels)
        print(f"{split}: {n} sequences of {a.steps} tokens -> {a.out}/{split}_ids.npy, _label.npy")


if __name__ == "__main__":
    main()
