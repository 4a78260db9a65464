#!/usr/bin/python3
"""Compares two safetensors checkpoints tensor by tensor: prints each tensor's largest
difference relative to its largest magnitude, and exits 1 if any exceeds TOLERANCE.
Usage: safetensors_diff.py A.safetensors B.safetensors TOLERANCE"""
import json, struct, sys
import numpy as np


def load(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        a, b = t['data_offsets']
        dtype = {'F32': np.float32, 'I32': np.int32, 'F64': np.float64}[t['dtype']]
        out[name] = np.frombuffer(body[a:b], dtype=dtype).reshape(t['shape'])
    return out


a, b, tol = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
if sorted(a) != sorted(b):
    print('different tensors:', sorted(a), sorted(b))
    sys.exit(1)
worst = 0.0
for name in sorted(a):
    x, y = a[name].astype(np.float64), b[name].astype(np.float64)
    scale = max(np.abs(x).max(initial=0.0), 1e-30)
    rel = np.abs(x - y).max(initial=0.0) / scale
    worst = max(worst, rel)
    print(f'{name}: {rel:.3g}')
print(f'worst: {worst:.3g} (tolerance {tol:g})')
sys.exit(0 if worst <= tol else 1)
