#!/usr/bin/env python3
"""Image and attention models PyTorch 1.13 exports with a dynamic batch, through nnc.

  - a small ResNet (BatchNorm, residual additions, a strided 1x1 shortcut, global pooling);
  - a depthwise-separable block (a dilated depthwise Conv, a pointwise Conv, BatchNorm, ReLU6,
    a grouped Conv with a channel multiplier);
  - a transposed-convolution autoencoder (strided Conv, ConvTranspose with output_padding,
    nearest Resize by 2);
  - a small transformer block (LayerNorm, multi-head self-attention written with reshapes,
    transposes, batched MatMul and Softmax, GELU, a mean over the sequence);
  - a resampler: Resize with align_corners and bicubic, a dilated MaxPool, a grouped and
    dilated ConvTranspose (the paths that are not nnc's upsample and pooling ops).

For each: the eval-mode export's `predict` at batch 1, 5 and 64 equals PyTorch to rtol 1e-3;
`summary` of the training-mode export counts PyTorch's parameters; `compile` writes the object
and the header; four SGD steps of a .nn model through `onnx(...)` give PyTorch's parameters to
5e-4 of each parameter's largest magnitude under the initializer names (and the BatchNorm
running means, which are state); `trainable = false` keeps every imported weight bit for bit
while a new head trains; the .nn model's `predict` (inference) equals PyTorch's eval().

    test_export_image.py NNC_EXE     exit 0 on agreement, 1 otherwise, 77 without torch
"""
import os
import re
import subprocess
import sys
import tempfile
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_onnx_layer as layer  # noqa: E402  (export, initializers, within; exits 77 without torch)

nt, torch, np = layer.nt, layer.torch, layer.np
F = torch.nn.functional
warnings.filterwarnings("ignore")

STEPS, BATCH = layer.STEPS, layer.BATCH




class ResBlock(torch.nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1, self.b1 = torch.nn.Conv2d(cin, cout, 3, stride, 1, bias=False), torch.nn.BatchNorm2d(cout)
        self.c2, self.b2 = torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False), torch.nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 1, stride, bias=False), torch.nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        return F.relu(y + (x if self.short is None else self.short(x)))


class ResNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem, self.bn = torch.nn.Conv2d(1, 8, 3, padding=1, bias=False), torch.nn.BatchNorm2d(8)
        self.l1, self.l2 = ResBlock(8, 8, 1), ResBlock(8, 16, 2)
        self.fc = torch.nn.Linear(16, 10)

    def forward(self, x):
        x = self.l2(self.l1(F.relu(self.bn(self.stem(x)))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Separable(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.dw, self.bn1 = torch.nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8, bias=False), torch.nn.BatchNorm2d(8)
        self.pw, self.bn2 = torch.nn.Conv2d(8, 16, 1, bias=False), torch.nn.BatchNorm2d(16)
        self.dw2 = torch.nn.Conv2d(16, 32, 3, stride=2, padding=1, groups=16)
        self.fc = torch.nn.Linear(32 * 4 * 4, 10)

    def forward(self, x):
        x = F.relu6(self.stem(x))
        x = F.relu6(self.bn1(self.dw(x)))
        x = F.relu(self.dw2(F.relu6(self.bn2(self.pw(x)))))
        return self.fc(x.view(x.size(0), -1))


class AutoEncoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.e1, self.e2 = torch.nn.Conv2d(1, 8, 3, stride=2, padding=1), torch.nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.d1 = torch.nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
        self.d2 = torch.nn.Conv2d(8, 4, 3, padding=1)
        self.d3 = torch.nn.ConvTranspose2d(4, 1, 3, padding=1)

    def forward(self, x):
        y = F.relu(self.d1(F.relu(self.e2(F.relu(self.e1(x))))))
        y = F.relu(self.d2(F.interpolate(y, scale_factor=2, mode="nearest")))
        return torch.sigmoid(self.d3(y))


class Transformer(torch.nn.Module):
    def __init__(self, t=6, d=16, heads=4):
        super().__init__()
        self.t, self.d, self.h = t, d, heads
        self.embed = torch.nn.Linear(8, d)
        self.ln1, self.qkv, self.proj = torch.nn.LayerNorm(d), torch.nn.Linear(d, 3 * d), torch.nn.Linear(d, d)
        self.ln2, self.ff1, self.ff2 = torch.nn.LayerNorm(d), torch.nn.Linear(d, 4 * d), torch.nn.Linear(4 * d, d)
        self.head = torch.nn.Linear(d, 10)

    def forward(self, x):
        b = x.size(0)
        x = self.embed(x)
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        q, k, v = (z.reshape(b, self.t, self.h, self.d // self.h).transpose(1, 2) for z in (q, k, v))
        att = torch.softmax(q @ k.transpose(-2, -1) / (self.d // self.h) ** 0.5, dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, self.t, self.d))
        x = x + self.ff2(F.gelu(self.ff1(self.ln2(x))))
        return self.head(x.mean(dim=1))


class Resampler(torch.nn.Module):
    """The resampling paths nnc's upsample op cannot take, trained: Resize with align_corners
    and bicubic (interpolation matrices), a dilated MaxPool, a grouped, dilated ConvTranspose
    with output_padding."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2 = torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.Conv2d(4, 1, 3, padding=1)
        self.ct = torch.nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, groups=2, dilation=2, output_padding=1)

    def forward(self, x):
        y = F.interpolate(F.relu(self.c1(x)), scale_factor=2, mode="bilinear", align_corners=True)
        y = F.relu(self.ct(F.max_pool2d(y, 3, stride=2, padding=1, dilation=2)))
        return torch.sigmoid(self.c2(F.interpolate(y, size=(12, 12), mode="bicubic", align_corners=False)))


# name, class, one sample's shape, whether the loss is mse against the input (else cross
# entropy), SGD's learning rate (mse over sigmoid pixels has small gradients: a larger rate
# moves every weight past its tolerance in four steps)
MODELS = [("resnet", ResNet, (1, 12, 12), False, layer.LR), ("separable", Separable, (3, 8, 8), False, layer.LR),
          ("autoencoder", AutoEncoder, (1, 12, 12), True, 2.0), ("transformer", Transformer, (6, 8), False, layer.LR),
          ("resampler", Resampler, (1, 12, 12), True, 20.0)]


def model_text(name, sample, body, reconstruct, lr):
    dims = ", ".join(str(d) for d in sample)
    target = f"input target: f32[batch, {dims}]" if reconstruct else "input label: i32[batch]"
    loss = "mse(logits, target)" if reconstruct else "cross_entropy(logits, label)"
    return (f"model {name}\ninput x: f32[batch, {dims}]\n{target}\n{body}\n"
            f"train {{\n  loss      = {loss}\n  optimizer = sgd(lr = {lr})\n  batch     = {BATCH}\n}}\n")


def torch_steps(model, x, target, reconstruct, lr):
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for s in range(STEPS):
        rows = slice(s * BATCH, (s + 1) * BATCH)
        opt.zero_grad()
        out = model(x[rows])
        (nt.mse(out, target[rows]) if reconstruct else F.cross_entropy(out, target[rows])).backward()
        opt.step()


def randomize_batchnorm(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)


def check_predict(nnc, name, model, sample, path, d, failures):
    model.eval()
    torch.onnx.export(model, torch.randn(2, *sample), path, opset_version=14, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    layer.check_predict_batches(nnc, name, model, path, lambda batch: torch.randn(batch, *sample).numpy(), d, failures)


def check_summary_and_compile(nnc, name, model, path, d, failures):
    # nnc counts BatchNorm's running statistics as non-trainable (as Keras does); PyTorch
    # calls them buffers.
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for k, b in model.named_buffers() if not k.endswith("num_batches_tracked"))
    summary = subprocess.run([nnc, path, "summary"], capture_output=True, text=True)
    counts = [re.search(kind + r" params: ([\d,]+)", summary.stdout) for kind in ("Trainable", "Non-trainable")]
    counted = [int(c.group(1).replace(",", "")) if c else None for c in counts]
    print(f"  summary: {counted[0]} trainable and {counted[1]} non-trainable parameters "
          f"(PyTorch {params} parameters, {buffers} in running statistics)")
    if summary.returncode != 0 or counted != [params, buffers]:
        failures.append(f"{name} summary {summary.stderr}")
    layer.check_compile(nnc, name, path, d, failures)


def check_training(nnc, name, model, sample, reconstruct, lr, d, sub, rng, failures):
    onnx_path = os.path.join(sub, name + ".onnx")
    layer.export(model, sample, onnx_path)
    # Tracing in training mode moved the running statistics: start from the file's values.
    model.load_state_dict(layer.initializers(onnx_path), strict=False)
    check_summary_and_compile(nnc, name, model, onnx_path, d, failures)
    start = {k: v.detach().clone() for k, v in model.state_dict().items()}
    x = rng.standard_normal((STEPS * BATCH, *sample)).astype(np.float32)
    if reconstruct:
        x = 1 / (1 + np.exp(-x)).astype(np.float32)
        target = x.copy()
    else:
        target = rng.integers(0, 10, STEPS * BATCH).astype(np.int32)
    data = nt.npy_source({"x": nt.save_npy(os.path.join(d, "x.npy"), x),
                          ("target" if reconstruct else "label"): nt.save_npy(os.path.join(d, "t.npy"), target)})

    nn_path = os.path.join(sub, name + ".nn")
    with open(nn_path, "w") as f:
        f.write(model_text(name, sample, f'logits = onnx("{name}.onnx", x)\noutput y = logits', reconstruct, lr))
    # Inference: BatchNorm uses the running statistics.
    weights0 = os.path.join(d, "w0.safetensors")
    nt.write_safetensors(weights0, {"logits." + k: v.numpy() for k, v in start.items()
                                    if not k.endswith("num_batches_tracked")})
    out = os.path.join(d, "y.npy")
    nt.run_nnc(nnc, [nn_path, "predict", "--weights", weights0, "--data", data, "--out", out])
    model.eval()
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    layer.within("predict (inference)", np.load(out), want, failures)

    # Four SGD steps, in file order.
    saved = os.path.join(d, name + ".safetensors")
    nt.run_nnc(nnc, [nn_path, "train", "--data", data, "--epochs", 1, "--no-shuffle", "--save", saved])
    got, _ = nt.read_safetensors(saved)
    torch_target = torch.from_numpy(target) if reconstruct else torch.from_numpy(target).long()
    torch_steps(model, torch.from_numpy(x), torch_target, reconstruct, lr)
    # Each parameter must move by more than its tolerance, or its comparison could not fail.
    for k, v in model.named_parameters():
        moved, limit = float((v.detach() - start[k]).abs().max()), nt.RELATIVE_TOLERANCE * float(v.detach().abs().max())
        if moved <= limit:
            print(f"  {k}: moved {moved:.3g}, within its tolerance {limit:.3g}")
            failures.append(f"{name}: the four steps barely move {k}: its comparison could not fail")
    for k, v in model.named_parameters():
        layer.within("logits." + k, got.get("logits." + k, np.zeros(0)), v.detach().numpy(), failures)
    for k, v in model.state_dict().items():
        if k.endswith("running_mean"):
            layer.within(f"logits.{k} (state)", got.get("logits." + k, np.zeros(0)), v.numpy(), failures)

    # Frozen backbone, new head: the imported weights stay bit for bit.
    frozen = os.path.join(sub, name + "_frozen.nn")
    head = "logits = dense(flatten(relu(features)), 10)" if not reconstruct else \
        f"logits = reshape(dense(flatten(features), {int(np.prod(sample))}, name = \"head\"), [{', '.join(map(str, sample))}])"
    with open(frozen, "w") as f:
        f.write(model_text(name + "_frozen", sample,
                           f'features = onnx("{name}.onnx", x, trainable = false)\n{head}', reconstruct, lr))
    saved = os.path.join(d, name + "_frozen.safetensors")
    nt.run_nnc(nnc, [frozen, "train", "--data", data, "--epochs", 1, "--no-shuffle", "--save", saved])
    got, _ = nt.read_safetensors(saved)
    changed = [k for k, v in start.items() if not k.endswith("num_batches_tracked") and "running" not in k
               and not (("features." + k) in got and np.array_equal(got["features." + k], v.numpy()))]
    print(f"  trainable = false: {len(start) - len(changed)} tensors checked, "
          f"{'all bit for bit' if not changed else 'CHANGED: ' + ', '.join(changed)}")
    failures += [f"{name} frozen {k}" for k in changed]
    if not any(k.startswith("logits.") or k.startswith("head.") for k in got):
        failures.append(f"{name}: the new head was not saved")


def main():
    nnc = sys.argv[1]
    only = set(sys.argv[2:])
    rng = np.random.default_rng(0)
    failures = []
    with tempfile.TemporaryDirectory() as d:
        sub = os.path.join(d, "nets")  # the .onnx beside the .nn: paths are relative to the .nn
        os.mkdir(sub)
        for name, cls, sample, reconstruct, lr in MODELS:
            if only and name not in only:
                continue
            print(name)
            torch.manual_seed(0)
            model = cls()
            randomize_batchnorm(model)
            check_predict(nnc, name, model, sample, os.path.join(d, name + "_eval.onnx"), d, failures)
            check_training(nnc, name, model, sample, reconstruct, lr, d, sub, rng, failures)
    print("FAILED: " + ", ".join(failures) if failures else "all agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
