#!/usr/bin/python3
"""Agreement of nnc's training with PyTorch.

For every case: random data (fixed seed) and random initial weights saved as safetensors;
`nnc MODEL train --no-shuffle --init W --save OUT` for one epoch (or a few); the same epoch in
PyTorch from the same weights on the same batches (the last one partial); then every trained
parameter, batch-norm running statistic and optimizer slot of nnc's checkpoint is compared with
torch's: max |nnc - torch| <= 5e-4 * max |torch| per tensor. The update itself (trained minus
initial) is compared too, so a tensor that barely moves cannot hide a wrong rule.

Cases: the examples in examples/ (dropout set to rate 0 in a copy: masks cannot agree) on a
Fashion-MNIST subset or random sequences, the small models in tests/peers/models/ (every layer
and loss), and an optimizer matrix (every optimizer and variant, with and without
weight_decay) on tests/peers/models/optim_mix.nn.

  test_agreement.py --nnc build/bin/nnc                 all cases, a summary at the end
  test_agreement.py --nnc build/bin/nnc --case NAME     one case (ctest runs one per test)
  test_agreement.py --list                              the case names
Exit status: 0 all passed, 1 a disagreement or an nnc failure, 77 PyTorch is missing (skip).
"""

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import nnc_torch as nt  # noqa: E402

# The update (trained - initial) must agree to this fraction of its largest magnitude: looser
# than the weights' 5e-4, since the update is the small difference of two rounded numbers.
DELTA_TOLERANCE = 2e-2


class Case:
    def __init__(self, name, model, peer, inputs, samples, batch, epochs=1, edits=(), labels=None,
                 init_state=True, optimizer=None, weight_decay=None, note=""):
        self.name = name
        self.model = model            # path relative to the repository
        self.peer = peer              # class name in peer_models
        self.inputs = inputs          # {input name: generator(rng, n) -> array}
        self.samples, self.batch, self.epochs = samples, batch, epochs
        self.edits = list(edits)      # (regex, replacement) applied to the model text
        self.labels = labels          # (input name, classes) for `class_weights = balanced`
        self.init_state = init_state  # False: the init file omits running statistics
        self.optimizer, self.weight_decay = optimizer, weight_decay  # rewrite the train block
        self.note = note


# ---------------------------------------------------------------------------- data generators

def normal(*shape, scale=1.0):
    return lambda rng, n: (scale * rng.standard_normal((n,) + shape)).astype(np.float32)


def classes(k, *shape, p=None):
    return lambda rng, n: rng.choice(k, size=(n,) + shape, p=p).astype(np.int32)


def bits(*shape):
    return lambda rng, n: rng.integers(0, 2, size=(n,) + shape).astype(np.float32)


_fashion_cache = {}


def fashion(part):
    """Fashion-MNIST's first n training samples (pixels 0..255 as f32, labels); random images of
    the same range when the package is missing."""
    def gen(rng, n):
        if n not in _fashion_cache:
            got = nt.load_fashion(n)
            if got is None:
                print("note: dataset-fashion-mnist is not installed; using random images")
                r = np.random.default_rng(1234)
                got = (r.integers(0, 256, size=(n, 28, 28)).astype(np.float32), r.integers(0, 10, size=n).astype(np.int32))
            _fashion_cache[n] = got
        return _fashion_cache[n][0 if part == "images" else 1]
    return gen


NO_DROPOUT = (r"dropout\((\w+),\s*[0-9.eE+-]+\)", r"dropout(\1, 0)")

# ---------------------------------------------------------------------------- the cases

FASHION = {"image": fashion("images"), "label": fashion("labels")}


def build_cases():
    cases = [
        # examples/: a partial last batch each (160 = 64 + 64 + 32; 144 = 128 + 16 after validation)
        Case("example_fashion_mlp", "examples/fashion_mlp.nn", "FashionMlp", FASHION, 160, 64),
        Case("example_fashion_cnn", "examples/fashion_cnn.nn", "FashionCnn", FASHION, 40, 16, edits=[NO_DROPOUT],
             note="dropout rate set to 0"),
        Case("example_sequence_lstm", "examples/sequence_lstm.nn", "SequenceLstm",
             {"seq": normal(20, 8, scale=2.0), "label": classes(5)}, 110, 32),
        Case("example_maxout_batchnorm", "examples/maxout_batchnorm.nn", "MaxoutBatchnorm", FASHION, 160, 128,
             edits=[NO_DROPOUT], note="dropout rate set to 0"),
        Case("example_explicit_params", "examples/explicit_params.nn", "ExplicitParams", FASHION, 160, 64),
        # tests/peers/models/: every layer and loss
        Case("conv_pool", "tests/peers/models/conv_pool.nn", "ConvPool",
             {"image": normal(9, 9, 2), "label": classes(4)}, 100, 16),
        Case("conv_bn_gap", "tests/peers/models/conv_bn_gap.nn", "ConvBnGap",
             {"image": normal(8, 8, 3), "label": classes(3)}, 100, 16),
        Case("dense_mix", "tests/peers/models/dense_mix.nn", "DenseMix",
             {"x": normal(10), "label": classes(4)}, 100, 16),
        Case("dense_mix_2_epochs", "tests/peers/models/dense_mix.nn", "DenseMix",
             {"x": normal(10), "label": classes(4)}, 100, 16, epochs=2, note="Adam's step count across epochs"),
        Case("recurrent", "tests/peers/models/recurrent.nn", "Recurrent",
             {"seq": normal(6, 5), "label": classes(3, p=[0.6, 0.3, 0.1])}, 100, 16, labels=("label", 3)),
        Case("rnn_tagger", "tests/peers/models/rnn_tagger.nn", "RnnTagger",
             {"seq": normal(5, 4), "tags": classes(3, 5)}, 100, 16),
        Case("binary", "tests/peers/models/binary.nn", "Binary", {"x": normal(6), "target": bits(2)}, 100, 16),
        Case("regress", "tests/peers/models/regress.nn", "Regress",
             {"x": normal(3, 4), "y": normal(3, 2)}, 100, 16),
        Case("state_defaults", "tests/peers/models/optim_mix.nn", "OptimMix",
             {"x": normal(12), "label": classes(4)}, 100, 16, init_state=False, optimizer="sgd(lr = 0.1)",
             note="init without running statistics: they start at 0 and 1"),
    ]
    # The optimizer matrix: every optimizer and variant, each with and without weight decay.
    optimizers = {
        "sgd": "sgd(lr = 0.1)",
        "sgd_momentum": "sgd(lr = 0.05, momentum = 0.9)",
        "sgd_nesterov": "sgd(lr = 0.05, momentum = 0.9, nesterov = true)",
        "adam": "adam(lr = 0.01, beta1 = 0.8, beta2 = 0.99)",
        "adam_defaults": "adam()",
        "adadelta": "adadelta(rho = 0.9, eps = 1e-4)",
        "adadelta_defaults": "adadelta()",
        "rmsprop": "rmsprop(lr = 0.01, rho = 0.8)",
        "rmsprop_momentum": "rmsprop(lr = 0.005, momentum = 0.9)",
        "adagrad": "adagrad(lr = 0.1, initial = 0.2, eps = 1e-6)",
        "adagrad_defaults": "adagrad()",
    }
    for key, opt in optimizers.items():
        for wd in (0.0, 0.05):
            cases.append(Case(f"optim_{key}{'_wd' if wd else ''}", "tests/peers/models/optim_mix.nn", "OptimMix",
                              {"x": normal(12), "label": classes(4)}, 100, 16, optimizer=opt,
                              weight_decay=wd if wd else None))
    return {c.name: c for c in cases}


# ---------------------------------------------------------------------------- running one case

def model_text(case):
    with open(os.path.join(REPO, case.model)) as f:
        text = f.read()
    for pattern, repl in case.edits:
        text = re.sub(pattern, repl, text)
    if case.optimizer is not None:
        text, n = re.subn(r"(\n\s*optimizer\s*=\s*)[^\n]*", lambda m: m.group(1) + case.optimizer, text, count=1)
        assert n == 1, "the model has no optimizer line to rewrite"
    if case.weight_decay is not None:
        text = re.sub(r"(\btrain\s*\{)", lambda m: f"{m.group(1)}\n  weight_decay = {case.weight_decay!r}", text,
                      count=1)
    return text


def initial_value(rng, name, shape):
    """Random, non-trivial starting values (biases and statistics too)."""
    shape = tuple(shape)
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "running_var":
        return rng.uniform(0.5, 1.5, shape)
    if leaf == "running_mean" or leaf == "beta":
        return 0.1 * rng.standard_normal(shape)
    if leaf == "gamma":
        return 1.0 + 0.1 * rng.standard_normal(shape)
    if len(shape) >= 2:
        fan_in = int(np.prod(shape[:-1]))
        fan_out = int(shape[-1] * np.prod(shape[:-2]))
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape)
    if "." not in name:  # an explicit rank-1 param (a scale in optim_mix)
        return 1.0 + 0.1 * rng.standard_normal(shape)
    return 0.1 * rng.standard_normal(shape)


def torch_train(case, peer, bindings, text, arrays, train_count):
    torch = nt.torch
    spec = nt.optimizer_spec(text)
    optimizer = nt.make_optimizer(spec, bindings)
    ctx = {"class_weights": None}
    if case.labels:
        name, k = case.labels
        ctx["class_weights"] = nt.class_weights_of(text, arrays[name][:train_count], k)
    else:
        ctx["class_weights"] = nt.class_weights_of(text, None, 0)
    peer.train()
    steps = 0
    for _ in range(case.epochs):
        for first in range(0, train_count, case.batch):
            last = min(first + case.batch, train_count)
            batch = {k: torch.from_numpy(np.ascontiguousarray(v[first:last])) for k, v in arrays.items()}
            optimizer.zero_grad()
            loss = peer.loss(batch, ctx)
            loss.backward()
            optimizer.step()
            steps += 1
    return spec, optimizer, steps


def run_case(case, nnc, backend, workdir, verbose):
    import peer_models  # imports torch

    torch = nt.torch
    torch.manual_seed(0)
    text = model_text(case)
    model_path = os.path.join(workdir, os.path.basename(case.model))
    with open(model_path, "w") as f:
        f.write(text)

    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    raw = {name: gen(rng, case.samples) for name, gen in case.inputs.items()}
    files = {name: nt.save_npy(os.path.join(workdir, f"{name}.npy"), a) for name, a in raw.items()}

    # PyTorch's twin, from random initial weights that nnc gets as a checkpoint.
    peer = getattr(peer_models, case.peer)()
    bindings = peer.bindings()
    init = {b.name: initial_value(rng, b.name, b.nnc_shape).astype(np.float32) for b in bindings}
    for b in bindings:
        b.load(init[b.name])
    init_file = {k: v for k, v in init.items() if case.init_state or not k.endswith((".running_mean", ".running_var"))}
    if not case.init_state:  # what nnc will start from: LANGUAGE.md's initial statistics
        for b in bindings:
            if b.state:
                b.load(np.ones(b.nnc_shape, np.float32) if b.name.endswith("running_var")
                       else np.zeros(b.nnc_shape, np.float32))
    init_path = os.path.join(workdir, "init.safetensors")
    nt.write_safetensors(init_path, init_file)

    # nnc
    out_path = os.path.join(workdir, "nnc.safetensors")
    tb = nt.train_block(text)
    validation = nt._number(tb["validation"]) if "validation" in tb else 0.0
    train_count = nt.validation_train_count(case.samples, validation)
    t0 = time.time()
    nt.run_nnc(nnc, [model_path, "train", "--data", nt.npy_source(files), "--epochs", case.epochs, "--batch",
                     case.batch, "--no-shuffle", "--threads", 1, "--init", init_path, "--save", out_path,
                     "--backend", backend])
    nnc_seconds = time.time() - t0
    got, meta = nt.read_safetensors(out_path)

    # torch, on the data as nnc normalises it
    arrays = nt.apply_normalization(nt.normalization(text, raw, train_count), raw)
    t0 = time.time()
    spec, optimizer, steps = torch_train(case, peer, bindings, text, arrays, train_count)
    torch_seconds = time.time() - t0

    want = {b.name: b.nnc_value() for b in bindings}
    slots = nt.optimizer_slots(spec, optimizer, bindings)
    rows, ok = nt.compare_tensors(got, {**want, **slots})

    # The update of every parameter and statistic, against torch's.
    delta_rows, delta_ok = [], True
    for b in bindings:
        if b.name not in got or got[b.name].shape != want[b.name].shape:
            continue
        ref = want[b.name].astype(np.float64) - init_file.get(b.name, _initial_state(b)).astype(np.float64)
        d = got[b.name].astype(np.float64) - init_file.get(b.name, _initial_state(b)).astype(np.float64)
        scale = float(np.abs(ref).max(initial=0))
        err = float(np.abs(d - ref).max(initial=0))
        rel = err / scale if scale > 0 else (0.0 if err == 0 else float("inf"))
        passed = err <= DELTA_TOLERANCE * scale
        delta_ok = delta_ok and passed
        delta_rows.append((b.name, rel, passed, scale))

    problems = []
    if int(meta.get("nnc.steps", -1)) != steps:
        problems.append(f"nnc.steps is {meta.get('nnc.steps')}, expected {steps}")
    if int(meta.get("nnc.epochs", -1)) != case.epochs:
        problems.append(f"nnc.epochs is {meta.get('nnc.epochs')}, expected {case.epochs}")
    unexpected = sorted(set(got) - set(want) - set(slots))
    moved = [r for r in delta_rows if r[3] == 0]  # a tensor torch did not change at all
    passed = ok and delta_ok and not problems

    opt_text = f"{spec['kind']}({', '.join(f'{k}={v}' for k, v in spec.items() if k not in ('kind', 'weight_decay'))})"
    print(f"== {case.name}: {case.model}{' (' + case.note + ')' if case.note else ''}")
    print(f"   {opt_text}, weight_decay={spec['weight_decay']}; {train_count} samples, batch {case.batch}, "
          f"{case.epochs} epoch(s), {steps} steps; nnc {nnc_seconds:.1f}s, torch {torch_seconds:.1f}s")
    if verbose or not passed:
        print(nt.format_rows(rows))
        print("  update (trained - initial) relative errors:")
        for name, rel, p, scale in delta_rows:
            print(f"    {name:<38} {rel:10.3e}  (largest update {scale:.3e}){'' if p else '  <-- FAIL'}")
    for p in problems:
        print(f"   problem: {p}")
    if unexpected:
        print(f"   nnc state not compared: {', '.join(unexpected)}")
    if moved and verbose:
        print(f"   unchanged in torch: {', '.join(r[0] for r in moved)}")
    worst = max((r[4] for r in rows if np.isfinite(r[4])), default=0.0)
    worst_param = max((r[4] for r in rows if "/" not in r[0] and np.isfinite(r[4])), default=0.0)
    worst_delta = max((r[1] for r in delta_rows if np.isfinite(r[1])), default=0.0)
    print(f"{'PASS' if passed else 'FAIL'} {case.name}: max rel error {worst_param:.2e} (weights and statistics), "
          f"{worst:.2e} (with optimizer slots), update {worst_delta:.2e}")
    return passed, worst_param, worst, worst_delta


def _initial_state(b):
    return np.ones(b.nnc_shape, np.float32) if b.name.endswith("running_var") else np.zeros(b.nnc_shape, np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nnc", help="the nnc executable")
    ap.add_argument("--case", action="append", help="run only this case (repeatable)")
    ap.add_argument("--list", action="store_true", help="print the case names and exit")
    ap.add_argument("--backend", default="interpreter", choices=["interpreter", "jit"])
    ap.add_argument("--workdir", help="keep the files of every case under this directory")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every tensor's errors, passing or not")
    args = ap.parse_args()

    cases = build_cases()
    if args.list:
        print("\n".join(cases))
        return 0
    if not args.nnc:
        ap.error("--nnc is required")
    unknown = [c for c in (args.case or []) if c not in cases]
    if unknown:
        ap.error(f"unknown case(s) {', '.join(unknown)}; --list shows them")
    nt.require_torch()  # exits 77 (skip) without torch

    selected = [cases[c] for c in (args.case or cases)]
    results = []
    for case in selected:
        workdir = os.path.join(args.workdir, case.name) if args.workdir else tempfile.mkdtemp(prefix=f"nnc-peer-{case.name}-")
        os.makedirs(workdir, exist_ok=True)
        try:
            passed, wp, w, wd = run_case(case, args.nnc, args.backend, workdir, args.verbose)
        except nt.NncError as e:
            print(f"FAIL {case.name}: nnc failed\n{e}")
            passed, wp, w, wd = False, float("nan"), float("nan"), float("nan")
        results.append((case.name, passed, wp, w, wd))
        if passed and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        elif not passed:
            print(f"   files kept in {workdir}")
    if len(results) > 1:
        print("\n| case | result | weights | with slots | update |\n| --- | --- | --- | --- | --- |")
        for name, passed, wp, w, wd in results:
            print(f"| {name} | {'pass' if passed else 'FAIL'} | {wp:.1e} | {w:.1e} | {wd:.1e} |")
        print(f"\n{sum(r[1] for r in results)}/{len(results)} cases agree")
    return 0 if all(r[1] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
