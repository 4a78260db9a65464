#!/usr/bin/python3
"""Agreement of nnc's training with PyTorch.

For every case: random data (fixed seed) and random initial weights (biases and batch-norm
statistics too) saved as safetensors; `nnc MODEL train --no-shuffle --init W --save OUT --log L`
for one epoch (or two); the same epoch in PyTorch from the same weights on the same batches
(the last one partial); then every parameter, batch-norm running statistic and optimizer slot
of nnc's checkpoint is compared with torch's:
  - max |nnc - torch| <= 5e-4 * max |torch| per tensor;
  - the update (trained - initial) to 2e-2 of the largest update, so that a tensor that barely
    moves cannot hide a wrong rule;
  - the epoch's loss nnc logs, to 1e-4; the step and epoch counts in the checkpoint metadata.
A tensor that fails the first two is re-judged against a float64 PyTorch run and passes as
`f32-noise` when nnc is no further from the exact result than twice PyTorch-float32's own
distance (Adam turns near-cancelled gradients' rounding into visible steps in big layers; see
nnc_torch.compare_checkpoints). Dropout is on: torch applies nnc's own Philox masks.

Cases: the examples in examples/ on a Fashion-MNIST subset or random sequences, the small
models in tests/peers/models/ (every layer and loss), and an optimizer matrix (every optimizer
and variant, with and without weight_decay) on tests/peers/models/optim_mix.nn.

  test_agreement.py --nnc build/bin/nnc                 all cases, a summary table at the end
  test_agreement.py --nnc build/bin/nnc --case NAME     one case (repeatable)
  test_agreement.py --nnc build/bin/nnc --group NAME    a group: each example alone, `models`,
                                                        `optimizers` (ctest runs one per group)
  test_agreement.py --list | --list-groups              the case or group names
  options: --backend interpreter|jit (default interpreter), --threads N (nnc's, default 1),
           --seed S (another draw of data and weights), --workdir DIR (keep every file),
           --vs-float64 (each side's distance from a float64 PyTorch run, per tensor),
           -v (every tensor's errors, passing or not)
Exit status: 0 all passed, 1 a disagreement or an nnc failure, 77 PyTorch or NumPy is missing
(ctest: skipped).
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import zlib

# The epoch's mean training loss that nnc logs, against torch's (relative, or absolute below 1).
LOSS_TOLERANCE = 1e-4

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import nnc_torch as nt  # noqa: E402
from nnc_torch import np  # noqa: E402  (None without NumPy: --list still works, runs skip)


class Case:
    def __init__(self, name, model, peer, inputs, samples, batch, epochs=1, labels=None,
                 init_state=True, optimizer=None, weight_decay=None, note="", group=None):
        self.name = name
        self.group = group or name   # ctest runs one test per group (one torch import each)
        self.model = model            # path relative to the repository
        self.peer = peer              # class name in peer_models
        self.inputs = inputs          # {input name: generator(rng, n) -> array}
        self.samples, self.batch, self.epochs = samples, batch, epochs
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


def simplex(k):
    """Rows of k non-negative values that sum to 1 (probability targets)."""
    return lambda rng, n: rng.dirichlet(np.ones(k), size=n).astype(np.float32)


# ---------------------------------------------------------------------------- the cases

def issue13_cases():
    """embedding (the sparse SGD step and adam's dense gradient), huber with pow and where,
    label smoothing with and without class weights, probability targets."""
    ids = {"ids": classes(30, 6), "label": classes(4)}
    return [
        Case("embed_dense_sgd", "tests/peers/models/embed_dense.nn", "EmbedDense", ids, 100, 16,
             note="the sparse step"),
        Case("embed_dense_adam", "tests/peers/models/embed_dense.nn", "EmbedDense", ids, 100, 16,
             optimizer="adam(lr = 0.01)", note="the dense gradient"),
        Case("huber", "tests/peers/models/huber.nn", "HuberReg", {"x": normal(4), "y": normal(2)}, 100, 16),
        Case("label_smoothing", "tests/peers/models/smoothing.nn", "Smoothing",
             {"x": normal(5), "label": classes(4)}, 100, 16),
        Case("label_smoothing_weighted", "tests/peers/models/smoothing_weighted.nn", "SmoothingWeighted",
             {"x": normal(5), "label": classes(4)}, 100, 16),
        Case("probability_targets", "tests/peers/models/prob_targets.nn", "ProbTargets",
             {"x": normal(5), "target": simplex(3)}, 100, 16),
    ]


FASHION = {"image": fashion("images"), "label": fashion("labels")}


def build_cases():
    cases = [
        # examples/: a partial last batch each (160 = 64 + 64 + 32; 144 = 128 + 16 after validation)
        Case("example_fashion_mlp", "examples/fashion_mlp.nn", "FashionMlp", FASHION, 160, 64),
        Case("example_fashion_cnn", "examples/fashion_cnn.nn", "FashionCnn", FASHION, 40, 16),
        Case("example_sequence_lstm", "examples/sequence_lstm.nn", "SequenceLstm",
             {"seq": normal(20, 8, scale=2.0), "label": classes(5)}, 110, 32),
        Case("example_maxout_batchnorm", "examples/maxout_batchnorm.nn", "MaxoutBatchnorm", FASHION, 160, 128),
        Case("example_explicit_params", "examples/explicit_params.nn", "ExplicitParams", FASHION, 160, 64),
        # tests/peers/models/: every layer and loss
        Case("conv_pool", "tests/peers/models/conv_pool.nn", "ConvPool",
             {"image": normal(9, 9, 2), "label": classes(4)}, 100, 16),
        Case("conv_transpose_ae", "tests/peers/models/conv_transpose_ae.nn", "ConvTransposeAe",
             {"image": normal(8, 8, 2), "label": classes(4)}, 100, 16),
        Case("conv_bn_gap", "tests/peers/models/conv_bn_gap.nn", "ConvBnGap",
             {"image": normal(8, 8, 3), "label": classes(3)}, 100, 16),
        Case("dense_mix", "tests/peers/models/dense_mix.nn", "DenseMix",
             {"x": normal(10), "label": classes(4)}, 100, 16),
        Case("dense_mix_2_epochs", "tests/peers/models/dense_mix.nn", "DenseMix",
             {"x": normal(10), "label": classes(4)}, 100, 16, epochs=2, note="Adam's step count across epochs"),
        Case("activations", "tests/peers/models/activations.nn", "Activations",
             {"x": normal(6, scale=3.0), "label": classes(3)}, 100, 16),
        Case("recurrent", "tests/peers/models/recurrent.nn", "Recurrent",
             {"seq": normal(6, 5), "label": classes(3, p=[0.6, 0.3, 0.1])}, 100, 16, labels=("label", 3)),
        Case("rnn_tagger", "tests/peers/models/rnn_tagger.nn", "RnnTagger",
             {"seq": normal(5, 4), "tags": classes(3, 5)}, 100, 16),
        Case("gru_seq", "tests/peers/models/gru_seq.nn", "GruSeq",
             {"seq": normal(6, 5), "label": classes(3)}, 100, 16),
        Case("bidirectional", "tests/peers/models/bidirectional.nn", "Bidirectional",
             {"seq": normal(5, 4), "label": classes(3)}, 100, 16),
        Case("dropout_pair", "tests/peers/models/dropout_pair.nn", "DropoutPair",
             {"x": normal(4, 6), "label": classes(3)}, 100, 16, epochs=2, note="nnc's Philox masks, bit for bit"),
        Case("augment_pair", "tests/peers/models/augment_pair.nn", "AugmentPair",
             {"image": normal(6, 5, 2), "label": classes(3)}, 100, 16, epochs=2,
             note="nnc's Philox flips and shifts, bit for bit"),
        Case("binary", "tests/peers/models/binary.nn", "Binary", {"x": normal(6), "target": bits(2)}, 100, 16),
        Case("regress", "tests/peers/models/regress.nn", "Regress",
             {"x": normal(3, 4), "y": normal(3, 2)}, 100, 16),
        Case("attention", "tests/peers/models/attention.nn", "Attention",
             {"seq": normal(6, 8), "mem": normal(4, 5), "label": classes(3)}, 100, 16,
             note="layernorm, causal self-attention, cross-attention"),
        Case("state_defaults", "tests/peers/models/optim_mix.nn", "OptimMix",
             {"x": normal(12), "label": classes(4)}, 100, 16, init_state=False, optimizer="sgd(lr = 0.1)",
             note="init without running statistics: they start at 0 and 1"),
    ]
    cases += issue13_cases()
    for c in cases:  # one ctest test for all the small models (each test imports torch once)
        if not c.name.startswith("example_"):
            c.group = "models"
    # The convolution variants (dilated, grouped, depthwise, separable, conv1d): a group of their own.
    cases += [
        Case("conv_variants", "tests/peers/models/conv_variants.nn", "ConvVariants",
             {"image": normal(9, 9, 4), "label": classes(4)}, 100, 16, group="conv_variants"),
        Case("conv1d_seq", "tests/peers/models/conv1d_seq.nn", "Conv1dSeq",
             {"seq": normal(11, 3), "label": classes(3)}, 100, 16, group="conv_variants"),
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
                              weight_decay=wd if wd else None, group="optimizers"))
    return {c.name: c for c in cases}


# ---------------------------------------------------------------------------- running one case

def model_text(case):
    with open(os.path.join(REPO, case.model)) as f:
        text = f.read()
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
    """One run of PyTorch over the same batches as nnc (no shuffling, the last batch partial)."""
    torch = nt.torch
    spec = nt.optimizer_spec(text)
    optimizer = nt.make_optimizer(spec, bindings)
    labels = arrays[case.labels[0]][:train_count] if case.labels else None
    ctx = {"class_weights": nt.class_weights_of(text, labels, case.labels[1] if case.labels else 0),
           "seed": int(nt._number(nt.train_block(text).get("seed", "0"))), "step": 0}
    peer.train()
    steps = 0
    losses = []  # per epoch: the mean of the batch losses weighted by batch size, as nnc logs it
    for _ in range(case.epochs):
        total = 0.0
        for first in range(0, train_count, case.batch):
            last = min(first + case.batch, train_count)
            batch = {k: torch.from_numpy(np.ascontiguousarray(v[first:last])) for k, v in arrays.items()}
            batch = {k: v.to(torch.get_default_dtype()) if v.is_floating_point() else v for k, v in batch.items()}
            optimizer.zero_grad()
            ctx["step"] = steps  # the optimizer step, from 0 (dropout masks depend on it)
            loss = peer.loss(batch, ctx)
            loss.backward()
            optimizer.step()
            steps += 1
            total += float(loss) * (last - first)
        losses.append(total / train_count)
    return spec, optimizer, steps, losses


def torch_reference(case, text, start, arrays, train_count, dtype):
    """Trains the peer model from `start` ({nnc name: array}) in `dtype`; returns its tensors
    ({nnc name: array}, with the optimizer slots), the optimizer spec and the step count."""
    import peer_models  # imports torch

    torch = nt.torch
    torch.set_default_dtype(dtype)
    try:
        torch.manual_seed(0)
        peer = getattr(peer_models, case.peer)()
        bindings = peer.bindings()
        for b in bindings:
            b.load(start[b.name])
        spec, optimizer, steps, losses = torch_train(case, peer, bindings, text, arrays, train_count)
        out_dtype = np.float64 if dtype == torch.float64 else np.float32
        tensors = {b.name: b.nnc_value(dtype=out_dtype) for b in bindings}
        tensors.update(nt.optimizer_slots(spec, optimizer, bindings, out_dtype))
        return tensors, spec, steps, losses
    finally:
        torch.set_default_dtype(torch.float32)


def binding_shapes(case):
    """{nnc name: (shape, is_state)} of the peer model's tensors."""
    import peer_models

    return {b.name: (b.nnc_shape, b.state) for b in getattr(peer_models, case.peer)().bindings()}


def run_case(case, nnc, backend, workdir, verbose, threads=1, seed=0, vs_float64=False):
    torch = nt.torch
    text = model_text(case)
    model_path = os.path.join(workdir, os.path.basename(case.model))
    with open(model_path, "w") as f:
        f.write(text)

    # Data and random initial weights (statistics too), the same for both sides.
    rng = np.random.default_rng([zlib.crc32(case.name.encode()), seed])
    raw = {name: gen(rng, case.samples) for name, gen in case.inputs.items()}
    files = {name: nt.save_npy(os.path.join(workdir, f"{name}.npy"), a) for name, a in raw.items()}
    shapes = binding_shapes(case)
    start = {name: initial_value(rng, name, shape).astype(np.float32) for name, (shape, _) in shapes.items()}
    init_file = dict(start)
    if not case.init_state:  # nnc starts missing statistics at LANGUAGE.md's initial values
        for name, (shape, state) in shapes.items():
            if state:
                del init_file[name]
                start[name] = np.ones(shape, np.float32) if name.endswith("running_var") else np.zeros(shape, np.float32)
    init_path = os.path.join(workdir, "init.safetensors")
    nt.write_safetensors(init_path, init_file)

    # nnc: one run of `train` from the checkpoint
    tb = nt.train_block(text)
    validation = nt._number(tb["validation"]) if "validation" in tb else 0.0
    train_count = nt.validation_train_count(case.samples, validation)
    out_path = os.path.join(workdir, "nnc.safetensors")
    log_path = os.path.join(workdir, "nnc-log.jsonl")
    t0 = time.time()
    nt.run_nnc(nnc, [model_path, "train", "--data", nt.npy_source(files), "--epochs", case.epochs, "--batch",
                     case.batch, "--no-shuffle", "--threads", threads, "--init", init_path, "--save", out_path,
                     "--log", log_path, "--backend", backend])
    nnc_seconds = time.time() - t0
    got, meta = nt.read_safetensors(out_path)
    with open(log_path) as f:
        nnc_losses = [json.loads(line).get("loss") for line in f if line.strip()]

    # PyTorch on the data as nnc normalises it; float64 only if a tensor needs a tie-break
    arrays = nt.apply_normalization(nt.normalization(text, raw, train_count), raw)
    t0 = time.time()
    want, spec, steps, losses = torch_reference(case, text, start, arrays, train_count, torch.float32)
    torch_seconds = time.time() - t0
    nt.write_safetensors(os.path.join(workdir, "torch.safetensors"), want)  # for a post-mortem
    exact = {}  # torch in float64, computed at most once

    def float64_reference():
        if not exact:
            exact.update(torch_reference(case, text, start, arrays, train_count, torch.float64)[0])
        return exact

    rows = nt.compare_checkpoints(got, want, {k: start[k] for k in shapes}, float64_reference)

    problems = []
    # The training loss nnc reports (--log) is the one torch computed, batch by batch.
    if len(nnc_losses) != len(losses):
        problems.append(f"nnc logged {len(nnc_losses)} epochs, expected {len(losses)}")
    for epoch, (a, b) in enumerate(zip(nnc_losses, losses), 1):
        if a is None or not abs(a - b) <= LOSS_TOLERANCE * max(1.0, abs(b)):
            problems.append(f"epoch {epoch}: nnc logged loss {a}, torch's is {b:.6g}")
    if meta.get("nnc.steps") != str(steps):
        problems.append(f"metadata nnc.steps is {meta.get('nnc.steps')}, expected {steps}")
    if meta.get("nnc.epochs") != str(case.epochs):
        problems.append(f"metadata nnc.epochs is {meta.get('nnc.epochs')}, expected {case.epochs}")
    unchanged = [r.name for r in rows if r.name in shapes and r.delta_scale == 0]
    passed = all(r.passed for r in rows) and not problems

    hyper = ", ".join(f"{k}={v}" for k, v in spec.items() if k not in ("kind", "weight_decay"))
    print(f"== {case.name}: {case.model}{' (' + case.note + ')' if case.note else ''}")
    print(f"   {spec['kind']}({hyper}), weight_decay={spec['weight_decay']}; {train_count} samples, batch "
          f"{case.batch}, {case.epochs} epoch(s) = {steps} steps; nnc {nnc_seconds:.1f}s, torch {torch_seconds:.1f}s")
    table = nt.format_rows(rows, everything=verbose or not passed)
    if table:
        print(table)
    for p in problems:
        print(f"   problem: {p}")
    extra = sorted(set(got) - set(want))
    if extra:
        print(f"   in nnc's checkpoint, not compared: {', '.join(extra)}")
    if unchanged:
        print(f"   note: torch left unchanged: {', '.join(unchanged)}")
    finite = [r for r in rows if r.rel == r.rel and r.rel != float("inf")]
    worst_param = max((r.rel for r in finite if "/" not in r.name), default=0.0)
    worst = max((r.rel for r in finite), default=0.0)
    worst_delta = max((r.delta_rel for r in finite if r.delta_rel == r.delta_rel), default=0.0)
    noise = [r.name for r in rows if r.status == "f32-noise"]
    if vs_float64:  # a diagnostic: how far each side is from the exact result
        print(nt.format_precision(got, want, float64_reference()))
    loss_err = max((abs(a - b) / max(1.0, abs(b)) for a, b in zip(nnc_losses, losses) if a is not None), default=0.0)
    print(f"   loss: nnc {', '.join(f'{v:.6g}' for v in nnc_losses if v is not None)}, torch "
          f"{', '.join(f'{v:.6g}' for v in losses)} (error {loss_err:.1e})")
    print(f"{'PASS' if passed else 'FAIL'} {case.name}: max rel error {worst_param:.2e} (weights and statistics), "
          f"{worst:.2e} (with optimizer slots), update {worst_delta:.2e}"
          + (f"; within f32 noise against float64: {', '.join(noise)}" if noise else ""))
    return passed, worst_param, worst, worst_delta, bool(noise)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nnc", help="the nnc executable")
    ap.add_argument("--case", action="append", help="run only this case (repeatable)")
    ap.add_argument("--group", action="append", help="run the cases of this group (repeatable)")
    ap.add_argument("--list", action="store_true", help="print the case names and exit")
    ap.add_argument("--list-groups", action="store_true", help="print the group names (one ctest test each)")
    ap.add_argument("--backend", default="interpreter", choices=["interpreter", "jit"])
    ap.add_argument("--threads", type=int, default=1, help="nnc's --threads (default 1)")
    ap.add_argument("--vs-float64", action="store_true",
                    help="also print nnc's and torch-float32's distance (max and mean) from a float64 torch run")
    ap.add_argument("--seed", type=int, default=0, help="another draw of data and initial weights (default 0)")
    ap.add_argument("--workdir", help="keep the files of every case under this directory")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every tensor's errors, passing or not")
    args = ap.parse_args()

    cases = build_cases()
    if args.list:
        print("\n".join(cases))
        return 0
    groups = {}
    for c in cases.values():
        groups.setdefault(c.group, []).append(c.name)
    if args.list_groups:
        print("\n".join(groups))
        return 0
    if not args.nnc:
        ap.error("--nnc is required")
    unknown = [c for c in (args.case or []) if c not in cases] + [g for g in (args.group or []) if g not in groups]
    if unknown:
        ap.error(f"unknown case(s) or group(s) {', '.join(unknown)}; --list and --list-groups show them")
    names = list(args.case or []) + [c for g in (args.group or []) for c in groups[g]]
    nt.require_torch()  # exits 77 (skip) without torch

    selected = [cases[c] for c in (names or cases)]
    results = []
    for case in selected:
        workdir = os.path.join(args.workdir, case.name) if args.workdir else tempfile.mkdtemp(prefix=f"nnc-peer-{case.name}-")
        os.makedirs(workdir, exist_ok=True)
        try:
            passed, wp, w, wd, noise = run_case(case, args.nnc, args.backend, workdir, args.verbose, args.threads, args.seed,
                                                 args.vs_float64)
        except nt.NncError as e:
            print(f"FAIL {case.name}: nnc failed\n{e}")
            passed, wp, w, wd, noise = False, float("nan"), float("nan"), float("nan"), False
        results.append((case.name, passed, wp, w, wd, noise))
        if passed and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        elif not passed:
            print(f"   files kept in {workdir}")
    if len(results) > 1:
        print("\n| case | result | weights | with slots | update |\n| --- | --- | --- | --- | --- |")
        for name, passed, wp, w, wd, noise in results:
            result = ("pass (f32 noise)" if noise else "pass") if passed else "FAIL"
            print(f"| {name} | {result} | {wp:.1e} | {w:.1e} | {wd:.1e} |")
        print(f"\n{sum(r[1] for r in results)}/{len(results)} cases agree")
    return 0 if all(r[1] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
