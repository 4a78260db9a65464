#!/usr/bin/env python3
"""The onnx(...) layer of .nn files against PyTorch 1.13 (the numerical reference).

Models PyTorch exports with a dynamic batch (opset 14, training mode, so BatchNormalization
stays a node with its running statistics):
  - an MLP (Gemm, Relu) and a small CNN (Conv, BatchNormalization, Relu, MaxPool,
    x.view(x.size(0), -1), Gemm);
  - four SGD steps of `nnc MODEL.nn train` through `logits = onnx("m.onnx", x)` must give the
    parameters PyTorch's four steps give, to 5e-4 of each parameter's largest magnitude, under
    the names `logits.<initializer name>`; the BatchNorm running mean is state and follows
    PyTorch's (nnc's running variance is the biased one, as ONNX's training mode defines it);
  - `trainable = false` keeps every imported weight bit for bit, while the new head trains;
  - `predict` (inference) of the .nn model uses BatchNorm's running statistics: equal to
    PyTorch's eval() output on the exported weights.

    test_onnx_layer.py NNC_EXE     exit 0 on agreement, 1 otherwise, 77 without torch
"""
import os
import subprocess
import sys
import tempfile
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
import nnc_torch as nt  # noqa: E402

torch = nt.require_torch()
np = nt.np
warnings.filterwarnings("ignore")

STEPS, BATCH, LR = 4, 8, 0.1


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.f1, self.f2 = torch.nn.Linear(20, 32), torch.nn.Linear(32, 10)

    def forward(self, x):
        return self.f2(torch.relu(self.f1(x)))


class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.bn = torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4)
        self.c2, self.fc = torch.nn.Conv2d(4, 6, 3, stride=2), torch.nn.Linear(6 * 2 * 2, 10)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.bn(self.c1(x))), 2)
        x = torch.relu(self.c2(x))
        return self.fc(x.view(x.size(0), -1))


def export(model, sample, path):
    model.train()
    torch.onnx.export(model, torch.randn(2, *sample), path, opset_version=14, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)


def initializers(path):
    import onnx
    from onnx import numpy_helper
    return {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(path).graph.initializer}


def model_text(name, sample, extra=""):
    dims = ", ".join(str(d) for d in sample)
    return f"""model {name}
input x: f32[batch, {dims}]
input label: i32[batch]
{extra}
train {{
  loss      = cross_entropy(logits, label)
  optimizer = sgd(lr = {LR})
  batch     = {BATCH}
}}
"""


def torch_steps(model, x, labels):
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    for s in range(STEPS):
        xb, yb = x[s * BATCH:(s + 1) * BATCH], labels[s * BATCH:(s + 1) * BATCH]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()


def within(name, got, want, failures):
    scale = float(np.abs(want).max()) or 1.0
    err = float(np.abs(got - want).max()) if got.shape == want.shape else float("inf")
    ok = err <= nt.RELATIVE_TOLERANCE * scale
    print(f"  {name}: max |nnc - torch| = {err:.3g} (limit {nt.RELATIVE_TOLERANCE * scale:.3g})"
          f"{'' if ok else '  DIFFERS'}")
    failures += [] if ok else [name]


# Shared by test_export_image.py and test_export_recurrent.py: the checks of an exported file.
def check_predict_batches(nnc, name, model, path, make_input, d, failures):
    """`nnc FILE.onnx predict` at batch 1, 5 and 64 equals PyTorch's eval() output to rtol 1e-3;
    make_input(batch) gives the input (NumPy)."""
    model.eval()
    for batch in (1, 5, 64):
        x = make_input(batch)
        with torch.no_grad():
            want = model(torch.from_numpy(x)).numpy()
        xp, yp = nt.save_npy(os.path.join(d, "px.npy"), x), os.path.join(d, "py.npy")
        run = subprocess.run([nnc, path, "predict", "--data", "npy:x=" + xp, "--out", yp], capture_output=True, text=True)
        if run.returncode != 0:
            print(f"  predict batch {batch}: nnc failed: {run.stderr}")
            failures.append(f"{name} predict batch {batch}")
            continue
        got = np.load(yp)
        ok = got.shape == want.shape and np.allclose(got, want, rtol=1e-3, atol=1e-6)
        err = float(np.abs(got - want).max()) if got.shape == want.shape else float("nan")
        print(f"  predict batch {batch}: {'agrees' if ok else 'DIFFERS'} (max abs difference {err:.3g})")
        failures += [] if ok else [f"{name} predict batch {batch}"]


def check_compile(nnc, name, path, d, failures):
    """`nnc FILE.onnx compile` writes a non-empty object and header."""
    out = os.path.join(d, name + "_aot")
    run = subprocess.run([nnc, path, "compile", "-o", out], capture_output=True, text=True)
    files = sorted(os.listdir(out)) if os.path.isdir(out) else []
    print(f"  compile: {files}")
    if run.returncode != 0 or not any(f.endswith(".o") for f in files) or not any(f.endswith(".h") for f in files) \
            or min(os.path.getsize(os.path.join(out, f)) for f in files) == 0:
        failures.append(f"{name} compile {run.stderr}")


def main():
    nnc = sys.argv[1]
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    failures = []
    with tempfile.TemporaryDirectory() as d:
        sub = os.path.join(d, "nets")  # the .onnx beside the .nn: paths are relative to the .nn
        os.mkdir(sub)
        for name, model, sample in [("mlp", MLP(), (20,)), ("cnn", CNN(), (1, 12, 12))]:
            print(name)
            if name == "cnn":
                with torch.no_grad():
                    model.bn.running_mean.uniform_(-0.5, 0.5)
                    model.bn.running_var.uniform_(0.5, 2)
                    model.bn.weight.uniform_(0.5, 1.5)
                    model.bn.bias.uniform_(-0.5, 0.5)
            onnx_path = os.path.join(sub, name + ".onnx")
            export(model, sample, onnx_path)
            # Tracing in training mode moved the running statistics: start from the file's values.
            model.load_state_dict(initializers(onnx_path), strict=False)
            start = {k: v.detach().clone() for k, v in model.state_dict().items()}
            x = rng.standard_normal((STEPS * BATCH, *sample)).astype(np.float32)
            labels = rng.integers(0, 10, STEPS * BATCH).astype(np.int32)
            xs = nt.save_npy(os.path.join(d, "x.npy"), x)
            ls = nt.save_npy(os.path.join(d, "label.npy"), labels)
            data = nt.npy_source({"x": xs, "label": ls})

            # Inference: BatchNorm uses the running statistics.
            nn_path = os.path.join(sub, name + ".nn")
            with open(nn_path, "w") as f:
                f.write(model_text(name, sample, f'logits = onnx("{name}.onnx", x)\noutput y = logits'))
            weights0 = os.path.join(d, "w0.safetensors")
            nt.write_safetensors(weights0, {"logits." + k: v.numpy() for k, v in start.items()
                                            if k != "bn.num_batches_tracked"})
            out = os.path.join(d, "y.npy")
            nt.run_nnc(nnc, [nn_path, "predict", "--weights", weights0, "--data", data, "--out", out])
            model.eval()
            with torch.no_grad():
                want = model(torch.from_numpy(x)).numpy()
            within("predict (inference)", np.load(out), want, failures)

            # Four SGD steps, in file order.
            saved = os.path.join(d, name + ".safetensors")
            nt.run_nnc(nnc, [nn_path, "train", "--data", data, "--epochs", 1, "--no-shuffle", "--save", saved])
            got, _ = nt.read_safetensors(saved)
            torch_steps(model, torch.from_numpy(x), torch.from_numpy(labels).long())
            moved = max(float((v.detach() - start[k]).abs().max()) for k, v in model.named_parameters())
            if moved < 1e-3:
                failures.append("the four steps barely move the weights: the comparison could not fail")
            for k, v in model.named_parameters():
                within("logits." + k, got.get("logits." + k, np.zeros(0)), v.detach().numpy(), failures)
            if name == "cnn":
                within("logits.bn.running_mean (state)", got.get("logits.bn.running_mean", np.zeros(0)),
                       model.bn.running_mean.numpy(), failures)

            # Frozen backbone, new head: the imported weights stay bit for bit.
            frozen = os.path.join(sub, name + "_frozen.nn")
            with open(frozen, "w") as f:
                f.write(model_text(name + "_frozen", sample,
                                   f'features = onnx("{name}.onnx", x, trainable = false)\n'
                                   f'logits = dense(relu(features), 10)'))
            saved = os.path.join(d, name + "_frozen.safetensors")
            nt.run_nnc(nnc, [frozen, "train", "--data", data, "--epochs", 1, "--no-shuffle", "--save", saved])
            got, _ = nt.read_safetensors(saved)
            for k, v in start.items():
                if k.endswith("num_batches_tracked") or "running" in k:
                    continue
                same = ("features." + k) in got and np.array_equal(got["features." + k], v.numpy())
                print(f"  features.{k} frozen: {'bit for bit' if same else 'CHANGED'}")
                failures += [] if same else ["frozen " + k]
            if "logits.weight" not in got:
                failures.append("the new head was not saved")
    print("FAILED: " + ", ".join(failures) if failures else "all agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
