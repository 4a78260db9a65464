"""Shared helpers for checking nnc against PyTorch (Debian's python3-torch).

What lives here:
  - safetensors read/write with json + numpy (no `safetensors` package on Debian);
  - running the `nnc` executable and reporting its failures;
  - torch building blocks that hold their weights in torch's native layouts and know how to
    move them to and from nnc's checkpoint layouts (dense [in, out], conv HWIO, lstm gate order
    i, f, g, o with one bias), one class per nnc layer;
  - nnc's numerics written with torch: TensorFlow-style `same` padding, batch normalisation with
    nnc's momentum rule and biased running variance, cross entropy with class weights divided
    by the batch size;
  - the optimizers: torch.optim with nnc's defaults passed explicitly and weight decay only on
    the parameters nnc decays (param groups);
  - the comparison rule: max |nnc - torch| <= 5e-4 * max |torch| per tensor.

torch is imported lazily (`require_torch`), so a machine without it can still list the cases
and report SKIPPED (exit code 77) instead of failing.
"""

import json
import os
import re
import struct
import subprocess
import sys

try:
    import numpy as np
except ImportError:  # listing the cases works without it; running them skips (require_torch)
    np = None

SKIP_EXIT_CODE = 77
RELATIVE_TOLERANCE = 5e-4

torch = None
F = None


def require_torch():
    """Imports torch into this module; exits with SKIP_EXIT_CODE when it is not installed."""
    global torch, F
    if torch is not None:
        return torch
    if np is None:
        print(f"SKIPPED: NumPy is not importable by {sys.executable}")
        sys.exit(SKIP_EXIT_CODE)
    try:
        import torch as _torch
        import torch.nn.functional as _F
    except Exception as e:  # ImportError, or a broken installation
        print(f"SKIPPED: PyTorch is not importable by {sys.executable}: {e}")
        sys.exit(SKIP_EXIT_CODE)
    torch, F = _torch, _F
    torch.set_num_threads(1)  # deterministic summation order; the models are tiny
    return torch


# ----------------------------------------------------------------------------------------------
# safetensors

_NP_OF_ST = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8", "F16": "<f2", "I8": "i1", "U8": "u1",
             "I16": "<i2", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "?"}
_ST_OF_NP = {np.dtype(v).str: k for k, v in _NP_OF_ST.items()} if np is not None else {}


def read_safetensors(path):
    """Returns (tensors: {name: np.ndarray}, metadata: {str: str})."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=np.dtype(_NP_OF_ST[info["dtype"]]))
        tensors[name] = arr.reshape(info["shape"]).copy()
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: array} (stored as given: pass float32 arrays for nnc) and string metadata."""
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        le = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        raw = le.tobytes()
        header[name] = {"dtype": _ST_OF_NP[le.dtype.str], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # data 8-byte aligned, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


# ----------------------------------------------------------------------------------------------
# running nnc

class NncError(RuntimeError):
    pass


def run_nnc(nnc, args, timeout=600):
    """Runs `nnc ARGS`; returns its stdout. Raises NncError with the command and stderr when the
    exit status is not 0 (a signal included)."""
    cmd = [nnc] + [str(a) for a in args]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        raise NncError(f"`{' '.join(cmd)}` exited with {p.returncode}\n--- stderr ---\n{p.stderr}"
                       f"--- stdout (tail) ---\n{p.stdout[-2000:]}")
    return p.stdout


def nnc_has_command(nnc, command):
    """Whether `nnc FILE COMMAND --help` is accepted (CLI11 answers --help before any work)."""
    p = subprocess.run([nnc, "/dev/null", command, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode == 0


def save_npy(path, array):
    np.save(path, np.ascontiguousarray(array))
    return path


def npy_source(files):
    """{input name: path} -> the `npy:NAME=FILE,...` data source."""
    return "npy:" + ",".join(f"{k}={v}" for k, v in files.items())


# ----------------------------------------------------------------------------------------------
# reading the train block of a .nn file (the torch side derives its settings from the model)

def _number(text):
    """Evaluates a constant like `1e-3`, `1 / 255` or `-0.5` (digits, operators, parentheses)."""
    text = text.strip()
    if not re.fullmatch(r"[0-9eE.+\-*/() ]+", text):
        raise ValueError(f"not a constant expression: {text!r}")
    return float(eval(text, {"__builtins__": {}}, {}))


def _split_top_level(text, sep=","):
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts]


def strip_comments(text):
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def train_block(text):
    """{key: raw value text} of the model's train block (one `key = value` per line)."""
    m = re.search(r"\btrain\s*\{(.*)\}", strip_comments(text), re.S)
    if not m:
        return {}
    out = {}
    for line in m.group(1).splitlines():
        kv = re.match(r"\s*(\w+)\s*=\s*(.+?)\s*$", line)
        if kv:
            out[kv.group(1)] = kv.group(2)
    return out


# LANGUAGE.md's defaults for every optimizer.
OPTIMIZER_DEFAULTS = {
    "sgd": {"lr": 0.01, "momentum": 0.0, "nesterov": False},
    "adam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7},
    "adadelta": {"lr": 1.0, "rho": 0.95, "eps": 1e-7},
    "rmsprop": {"lr": 1e-3, "rho": 0.9, "momentum": 0.0, "eps": 1e-7},
    "adagrad": {"lr": 1e-3, "initial": 0.1, "eps": 1e-7},
}


def parse_call(text):
    """`adam(lr = 1e-3)` -> ("adam", {"lr": 0.001}); a bare name is a call without arguments."""
    m = re.fullmatch(r"\s*(\w+)\s*(?:\((.*)\))?\s*", text, re.S)
    if not m:
        raise ValueError(f"not a call: {text!r}")
    kwargs = {}
    for part in _split_top_level(m.group(2) or ""):
        k, v = [s.strip() for s in part.split("=", 1)]
        kwargs[k] = (v == "true") if v in ("true", "false") else _number(v)
    return m.group(1), kwargs


def optimizer_spec(text):
    """The optimizer of a model's train block with LANGUAGE.md's defaults filled in."""
    tb = train_block(text)
    kind, kwargs = parse_call(tb.get("optimizer", "sgd()"))
    spec = dict(OPTIMIZER_DEFAULTS[kind])
    spec.update(kwargs)
    spec["kind"] = kind
    spec["weight_decay"] = _number(tb["weight_decay"]) if "weight_decay" in tb else 0.0
    return spec


def weight_decay_applies(name, rank):
    """nnc's rule: every `<layer>.weight`, and every explicit `param` (no '.') of rank >= 2."""
    if "." in name:
        return name.endswith(".weight")
    return rank >= 2


# ----------------------------------------------------------------------------------------------
# data preparation as nnc does it

def validation_train_count(n, fraction):
    """Samples trained on: the validation part is taken from the end (C++: int64(n * (1 - v)))."""
    return max(0, min(n, int(float(n) * (1.0 - fraction))))


def normalization(text, arrays, train_count):
    """nnc's `normalize` for every f32 input: {name: (shift, multiplier)} (doubles, like nnc)."""
    spec = train_block(text).get("normalize", "none").strip()
    out = {}
    if spec == "none":
        return out
    for name, a in arrays.items():
        if a.dtype != np.float32:
            continue
        if spec.startswith("scale"):
            out[name] = (0.0, _number(re.fullmatch(r"scale\((.*)\)", spec).group(1)))
        elif spec == "standardize":
            v = a[:train_count].astype(np.float64).ravel()
            mean = float(v.sum() / v.size) if v.size else 0.0
            std = float(np.sqrt(((v - mean) ** 2).sum() / v.size)) if v.size else 0.0
            out[name] = (mean, 1.0 / std if std > 0 else 1.0)
        else:
            raise ValueError(f"unknown normalize {spec!r}")
    return out


def apply_normalization(norms, arrays):
    """(x - shift) * multiplier in float32, as nnc applies it."""
    out = dict(arrays)
    for name, (shift, mult) in norms.items():
        out[name] = ((arrays[name] - np.float32(shift)) * np.float32(mult)).astype(np.float32)
    return out


def balanced_class_weights(labels, classes):
    """n / (classes * count[c]); 1 for a class that never occurs."""
    w = np.ones(classes, dtype=np.float64)
    for c in range(classes):
        count = int((labels == c).sum())
        if count:
            w[c] = labels.size / (classes * count)
    return w


def class_weights_of(text, labels, classes):
    """The train block's `class_weights` (a list or `balanced`), or None."""
    spec = train_block(text).get("class_weights")
    if spec is None:
        return None
    if spec.strip() == "balanced":
        return balanced_class_weights(labels, classes)
    return np.array([_number(v) for v in _split_top_level(spec.strip()[1:-1])], dtype=np.float64)


# ----------------------------------------------------------------------------------------------
# nnc's layers in torch. Each holds torch-native parameters and lists its `bindings`: for every
# nnc checkpoint tensor, the torch tensor that plays its part and the two layout conversions.

class Binding:
    """One nnc checkpoint tensor <-> one torch tensor. `state` marks non-trainable state."""

    def __init__(self, name, tensor, to_nnc=lambda t: t, to_torch=lambda a: a, state=False):
        self.name, self.tensor, self.to_nnc, self.to_torch, self.state = name, tensor, to_nnc, to_torch, state
        self.nnc_shape = tuple(self.to_nnc(tensor.detach()).shape)

    def nnc_value(self, t=None, dtype="float32"):
        t = self.tensor if t is None else t
        return self.to_nnc(t.detach()).contiguous().numpy().astype(dtype)

    def load(self, array):
        with torch.no_grad():
            self.tensor.copy_(self.to_torch(torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))))  # casts


def _transpose(t):
    return t.t()


def activation(name, x):
    if name in (None, "none"):
        return x
    table = {
        "relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "selu": F.selu, "softplus": F.softplus,
        "gelu": F.gelu, "elu": F.elu, "leaky_relu": lambda v: F.leaky_relu(v, 0.01),
        "relu6": F.relu6, "silu": F.silu, "swish": F.silu, "hard_sigmoid": F.hardsigmoid, "hard_swish": F.hardswish,
        "softsign": F.softsign, "mish": F.mish,
    }
    return table[name](x)


class PeerModule:
    """Mixin giving a torch.nn.Module the list of nnc bindings of its layers, in order."""

    def bindings(self):
        out = []
        for m in self.modules():
            if m is not self and hasattr(m, "layer_bindings"):
                out.extend(m.layer_bindings())
        return out


def make_layer_classes():
    """Defines the layer classes once torch is imported (they subclass torch.nn.Module)."""
    nn = torch.nn

    class Dense(nn.Module):
        """dense(x, units): y = x @ W + b with W [in, out] in nnc, torch Linear weight = W.T."""

        def __init__(self, name, fan_in, units, act=None, bias=True):
            super().__init__()
            self.name, self.act = name, act
            self.linear = nn.Linear(fan_in, units, bias=bias)

        def forward(self, x):
            return activation(self.act, self.linear(x))

        def layer_bindings(self):
            b = [Binding(self.name + ".weight", self.linear.weight, _transpose, _transpose)]
            if self.linear.bias is not None:
                b.append(Binding(self.name + ".bias", self.linear.bias))
            return b

    class Maxout(nn.Module):
        """maxout(x, units, pieces = k): dense to units*k, max over runs of k consecutive features."""

        def __init__(self, name, fan_in, units, pieces):
            super().__init__()
            self.name, self.units, self.pieces = name, units, pieces
            self.linear = nn.Linear(fan_in, units * pieces)

        def forward(self, x):
            y = self.linear(x)
            return y.reshape(*y.shape[:-1], self.units, self.pieces).amax(dim=-1)

        def layer_bindings(self):
            return [Binding(self.name + ".weight", self.linear.weight, _transpose, _transpose),
                    Binding(self.name + ".bias", self.linear.bias)]

    def same_pads(size, kernel, stride):
        """TensorFlow's `same`: ceil(in / stride) outputs, the odd extra cell at the end."""
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        return total // 2, total - total // 2

    def pad_nchw(x, kernel, stride, value=0.0):
        top, bottom = same_pads(x.shape[2], kernel[0], stride[0])
        left, right = same_pads(x.shape[3], kernel[1], stride[1])
        return F.pad(x, (left, right, top, bottom), value=value)

    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    class Conv2d(nn.Module):
        """conv2d on NCHW torch tensors. nnc's weight is HWIO [kh, kw, in, out], torch's OIHW
        [out, in, kh, kw]. `same` pads with F.pad first (asymmetric: the extra at bottom/right)."""

        def __init__(self, name, cin, filters, kernel, stride=1, padding="same", act=None, bias=True):
            super().__init__()
            self.name, self.act, self.padding = name, act, padding
            self.kernel, self.stride = pair(kernel), pair(stride)
            self.conv = nn.Conv2d(cin, filters, self.kernel, stride=self.stride, padding=0, bias=bias)

        def forward(self, x):
            if self.padding == "same":
                x = pad_nchw(x, self.kernel, self.stride)
            return activation(self.act, self.conv(x))

        def layer_bindings(self):
            hwio = lambda t: t.permute(2, 3, 1, 0)   # [out, in, kh, kw] -> [kh, kw, in, out]
            oihw = lambda a: a.permute(3, 2, 0, 1)   # [kh, kw, in, out] -> [out, in, kh, kw]
            b = [Binding(self.name + ".weight", self.conv.weight, hwio, oihw)]
            if self.conv.bias is not None:
                b.append(Binding(self.name + ".bias", self.conv.bias))
            return b

    def maxpool(x, size, stride=None, padding="valid"):
        """NCHW; `same` pads with -inf so padding never wins (TensorFlow)."""
        size = pair(size)
        stride = pair(stride) if stride is not None else size
        if padding == "same":
            x = pad_nchw(x, size, stride, value=float("-inf"))
        return F.max_pool2d(x, size, stride)

    def avgpool(x, size, stride=None, padding="valid"):
        """NCHW; `same` averages over the real cells only (TensorFlow): sum / count, each from
        avg_pool2d over a zero-padded tensor and over a zero-padded mask of ones."""
        size = pair(size)
        stride = pair(stride) if stride is not None else size
        if padding != "same":
            return F.avg_pool2d(x, size, stride)
        total = F.avg_pool2d(pad_nchw(x, size, stride), size, stride)
        ones = torch.ones(1, 1, x.shape[2], x.shape[3], dtype=x.dtype)
        count = F.avg_pool2d(pad_nchw(ones, size, stride), size, stride)
        return total / count

    def global_avgpool(x):
        return x.mean(dim=(2, 3))

    def nhwc(x):
        return x.permute(0, 2, 3, 1)

    def nchw(x):
        return x.permute(0, 3, 1, 2)

    def flatten_nhwc(x):
        """nnc flattens channels-last; a torch NCHW tensor goes back to NHWC first."""
        return nhwc(x).reshape(x.shape[0], -1)

    class BatchNorm(nn.Module):
        """batchnorm over the LAST axis, nnc's rule: normalise with the batch's biased variance;
        running = momentum * running + (1 - momentum) * batch_stat, the biased variance too
        (torch's own module uses the unbiased one and momentum = 1 - nnc's)."""

        def __init__(self, name, channels, momentum=0.99, eps=1e-3):
            super().__init__()
            self.name, self.momentum, self.eps = name, momentum, eps
            self.gamma = nn.Parameter(torch.ones(channels))
            self.beta = nn.Parameter(torch.zeros(channels))
            self.register_buffer("running_mean", torch.zeros(channels))
            self.register_buffer("running_var", torch.ones(channels))

        def forward(self, x):
            if not self.training:
                return (x - self.running_mean) / torch.sqrt(self.running_var + self.eps) * self.gamma + self.beta
            axes = tuple(range(x.dim() - 1))
            mean = x.mean(dim=axes)
            var = ((x - mean) ** 2).mean(dim=axes)  # biased
            with torch.no_grad():
                self.running_mean.mul_(self.momentum).add_((1 - self.momentum) * mean)
                self.running_var.mul_(self.momentum).add_((1 - self.momentum) * var)
            return (x - mean) / torch.sqrt(var + self.eps) * self.gamma + self.beta

        def layer_bindings(self):
            return [Binding(self.name + ".gamma", self.gamma), Binding(self.name + ".beta", self.beta),
                    Binding(self.name + ".running_mean", self.running_mean, state=True),
                    Binding(self.name + ".running_var", self.running_var, state=True)]

    def _last_states(y, units, directions):
        """nnc's `sequences = false`: the forward state after the last step and, bidirectional,
        the backward state after its last step (the first time step), concatenated."""
        if directions == 1:
            return y[:, -1, :]
        return torch.cat([y[:, -1, :units], y[:, 0, units:]], dim=-1)

    class LSTM(nn.Module):
        """lstm(x, units) with torch's own nn.LSTM (same gate order i, f, g, o). nnc has one bias:
        torch's bias_ih carries it, bias_hh is frozen at 0 (the gradient of either is that of
        their sum). w_input [F, 4u] = weight_ih_l0.T, w_recurrent [u, 4u] = weight_hh_l0.T."""

        def __init__(self, name, features, units, sequences=False, bidirectional=False):
            super().__init__()
            self.name, self.sequences, self.units = name, sequences, units
            self.directions = ["", "_reverse"] if bidirectional else [""]
            self.lstm = nn.LSTM(features, units, batch_first=True, bidirectional=bidirectional)
            for d in self.directions:
                bias_hh = getattr(self.lstm, "bias_hh_l0" + d)
                with torch.no_grad():
                    bias_hh.zero_()
                bias_hh.requires_grad_(False)

        def forward(self, x):
            y, _ = self.lstm(x)
            return y if self.sequences else _last_states(y, self.units, len(self.directions))

        def layer_bindings(self):
            out = []
            for d in self.directions:
                out += [Binding(self.name + ".w_input" + d, getattr(self.lstm, "weight_ih_l0" + d), _transpose, _transpose),
                        Binding(self.name + ".w_recurrent" + d, getattr(self.lstm, "weight_hh_l0" + d), _transpose, _transpose),
                        Binding(self.name + ".bias" + d, getattr(self.lstm, "bias_ih_l0" + d))]
            return out

    class GRU(nn.Module):
        """gru(x, units) with torch's own nn.GRU (gates r, z, n; both biases, as nnc's .bias and
        .recurrent_bias). w_input [F, 3u] = weight_ih_l0.T, w_recurrent [u, 3u] = weight_hh_l0.T;
        bidirectional adds the _reverse set."""

        def __init__(self, name, features, units, sequences=False, bidirectional=False):
            super().__init__()
            self.name, self.sequences, self.units = name, sequences, units
            self.directions = ["", "_reverse"] if bidirectional else [""]
            self.gru = nn.GRU(features, units, batch_first=True, bidirectional=bidirectional)

        def forward(self, x):
            y, _ = self.gru(x)
            return y if self.sequences else _last_states(y, self.units, len(self.directions))

        def layer_bindings(self):
            out = []
            for d in self.directions:
                out += [Binding(self.name + ".w_input" + d, getattr(self.gru, "weight_ih_l0" + d), _transpose, _transpose),
                        Binding(self.name + ".w_recurrent" + d, getattr(self.gru, "weight_hh_l0" + d), _transpose, _transpose),
                        Binding(self.name + ".bias" + d, getattr(self.gru, "bias_ih_l0" + d)),
                        Binding(self.name + ".recurrent_bias" + d, getattr(self.gru, "bias_hh_l0" + d))]
            return out

    class LSTMUnrolled(nn.Module):
        """The same LSTM unrolled by hand with nnc's layouts (a second, independent spelling)."""

        def __init__(self, name, features, units, sequences=False):
            super().__init__()
            self.name, self.units, self.sequences = name, units, sequences
            self.w_input = nn.Parameter(torch.zeros(features, 4 * units))
            self.w_recurrent = nn.Parameter(torch.zeros(units, 4 * units))
            self.bias = nn.Parameter(torch.zeros(4 * units))

        def forward(self, x):
            n = self.units
            h = torch.zeros(x.shape[0], n)
            c = torch.zeros(x.shape[0], n)
            states = []
            for t in range(x.shape[1]):
                z = x[:, t, :] @ self.w_input + self.bias + h @ self.w_recurrent
                i, f, g, o = (z[:, k * n:(k + 1) * n] for k in range(4))
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                states.append(h)
            return torch.stack(states, dim=1) if self.sequences else h

        def layer_bindings(self):
            return [Binding(self.name + ".w_input", self.w_input), Binding(self.name + ".w_recurrent", self.w_recurrent),
                    Binding(self.name + ".bias", self.bias)]

    class RNN(nn.Module):
        """rnn(x, units, activation): h_t = act(x_t @ w_input + h_{t-1} @ w_recurrent + bias), h_0 = 0.
        torch's nn.RNN for tanh and relu (bias_hh frozen at 0), unrolled by hand otherwise."""

        def __init__(self, name, features, units, act="tanh", sequences=False):
            super().__init__()
            self.name, self.act, self.sequences = name, act, sequences
            self.native = act in ("tanh", "relu")
            if self.native:
                self.rnn = nn.RNN(features, units, nonlinearity=act, batch_first=True)
                with torch.no_grad():
                    self.rnn.bias_hh_l0.zero_()
                self.rnn.bias_hh_l0.requires_grad_(False)
            else:
                self.w_input = nn.Parameter(torch.zeros(features, units))
                self.w_recurrent = nn.Parameter(torch.zeros(units, units))
                self.bias = nn.Parameter(torch.zeros(units))

        def forward(self, x):
            if self.native:
                y, _ = self.rnn(x)
            else:
                h = torch.zeros(x.shape[0], self.w_recurrent.shape[0])
                states = []
                for t in range(x.shape[1]):
                    h = activation(self.act, x[:, t, :] @ self.w_input + h @ self.w_recurrent + self.bias)
                    states.append(h)
                y = torch.stack(states, dim=1)
            return y if self.sequences else y[:, -1, :]

        def layer_bindings(self):
            if self.native:
                return [Binding(self.name + ".w_input", self.rnn.weight_ih_l0, _transpose, _transpose),
                        Binding(self.name + ".w_recurrent", self.rnn.weight_hh_l0, _transpose, _transpose),
                        Binding(self.name + ".bias", self.rnn.bias_ih_l0)]
            return [Binding(self.name + ".w_input", self.w_input), Binding(self.name + ".w_recurrent", self.w_recurrent),
                    Binding(self.name + ".bias", self.bias)]

    class Param(nn.Module):
        """An explicit `param NAME: f32[...]`, in nnc's layout."""

        def __init__(self, name, *shape):
            super().__init__()
            self.name = name
            self.value = nn.Parameter(torch.zeros(*shape))

        def forward(self):
            return self.value

        def layer_bindings(self):
            return [Binding(self.name, self.value)]

    return dict(Dense=Dense, Maxout=Maxout, Conv2d=Conv2d, BatchNorm=BatchNorm, LSTM=LSTM, LSTMUnrolled=LSTMUnrolled, GRU=GRU,
                RNN=RNN, Param=Param, maxpool=maxpool, avgpool=avgpool, global_avgpool=global_avgpool, nhwc=nhwc,
                nchw=nchw, flatten_nhwc=flatten_nhwc, same_pads=same_pads)


# ----------------------------------------------------------------------------------------------
# dropout masks, bit for bit: nnc's masks are Philox-4x32-10 (support/Philox.h), a pure
# function of (seed, salt, step, element index), so torch can apply the very same mask.

_PHILOX_M0, _PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
_PHILOX_W0, _PHILOX_W1 = 0x9E3779B9, 0xBB67AE85
_U32 = 0xFFFFFFFF


def philox4x32(counter, key):
    """Philox-4x32-10 over arrays: counter = 4 uint64 arrays holding 32-bit words, key = 2 ints.
    Returns the 4 output words (uint64 arrays holding 32-bit values)."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) for c in counter)
    k0, k1 = int(key[0]) & _U32, int(key[1]) & _U32
    m0, m1, mask = np.uint64(_PHILOX_M0), np.uint64(_PHILOX_M1), np.uint64(_U32)
    for r in range(10):
        if r > 0:
            k0, k1 = (k0 + _PHILOX_W0) & _U32, (k1 + _PHILOX_W1) & _U32
        p0, p1 = m0 * c0, m1 * c2  # 32 x 32 -> 64 bits: no overflow in uint64
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0), p1 & mask,
                          (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1), p0 & mask)
    return c0, c1, c2, c3


def dropout_keep(seed, salt, step, count):
    """nnc's DropoutMask decision for elements 0..count-1 (row-major) at optimizer step `step`:
    the top 24 bits of Philox's first word, as an integer in [0, 2^24)."""
    index = np.arange(count, dtype=np.uint64)
    zeros = np.zeros(count, dtype=np.uint64)
    counter = (index & np.uint64(_U32), index >> np.uint64(32), zeros + np.uint64(step & _U32),
               zeros + np.uint64(step >> 32))
    return philox4x32(counter, (seed & _U32, salt & _U32))[0] >> np.uint64(8)


def dropout_threshold(rate):
    """The smallest 24-bit b with b * 2^-24 >= rate (nnc keeps an element when bits >= b)."""
    if not rate > 0:
        return 0
    if rate >= 1:
        return 1 << 24
    scaled = rate * 16777216.0
    return int(scaled) if float(int(scaled)) == scaled else int(scaled) + 1


def dropout_mask(shape, rate, seed, salt, step):
    """The f32 mask nnc multiplies by: 1 / (1 - rate) where kept, else 0."""
    count = int(np.prod(shape))
    keep = dropout_keep(seed, salt, step, count) >= np.uint64(dropout_threshold(rate))
    return np.where(keep, np.float32(1.0 / (1.0 - rate)), np.float32(0)).reshape(shape)


def dropout(x, rate, salt, ctx, training=True):
    """nnc's dropout: `salt` is the layer's position among the model's dropout calls (from 0);
    ctx carries the train block's seed and the optimizer step counted from 0."""
    if not training or rate == 0:
        return x
    mask = dropout_mask(tuple(x.shape), rate, ctx["seed"], salt, ctx["step"])
    return x * torch.from_numpy(mask).to(x.dtype)


# ----------------------------------------------------------------------------------------------
# augmentation, bit for bit (compiler/ir/Augment.h): sample n draws Philox bits 2n (height axis)
# and 2n + 1 (width axis), with salt AUGMENT_SALT_BASE + k for the model's k-th augmentation.
# Written with torch's own flips, pads and slices, so autograd (not nnc's rule) gives the
# gradient that nnc's must match.

AUGMENT_SALT_BASE = 0x80000000


def augment_bits(x, k, ctx):
    """[batch, 2] int64: the 24 random bits of each sample's height and width draws."""
    n = x.shape[0]
    return dropout_keep(ctx["seed"], AUGMENT_SALT_BASE + k, ctx["step"], 2 * n).reshape(n, 2).astype(np.int64)


def random_flip(x, mode, k, ctx, training=True):
    """x is [batch, h, w, c] or [batch, h, w]; each axis flips when its bits are < 2^23."""
    if not training:
        return x
    bits = augment_bits(x, k, ctx)
    view = (-1,) + (1,) * (x.dim() - 1)
    if mode in ("vertical", "both"):
        x = torch.where(torch.from_numpy(bits[:, 0] < (1 << 23)).view(view), x.flip(1), x)
    if mode in ("horizontal", "both"):
        x = torch.where(torch.from_numpy(bits[:, 1] < (1 << 23)).view(view), x.flip(2), x)
    return x


def random_translation(x, height, width, k, ctx, training=True):
    """Shift sample n by (dy, dx) = floor(bits * (2m + 1) / 2^24) - m, m = floor(f * size):
    out[h, w] = x[h - dy, w - dx], 0 outside."""
    if not training:
        return x
    bits = augment_bits(x, k, ctx)
    H, W = x.shape[1], x.shape[2]
    my, mx = int(np.floor(height * H)), int(np.floor(width * W))
    dy = ((bits[:, 0] * (2 * my + 1)) >> 24) - my
    dx = ((bits[:, 1] * (2 * mx + 1)) >> 24) - mx
    pads = [0, 0] * (x.dim() - 3) + [mx, mx, my, my]  # F.pad lists the last axis first
    padded = F.pad(x, pads)
    rows = [padded[i, my - int(dy[i]):my - int(dy[i]) + H, mx - int(dx[i]):mx - int(dx[i]) + W]
            for i in range(x.shape[0])]
    return torch.stack(rows)


# ----------------------------------------------------------------------------------------------
# losses (means over the batch, as LANGUAGE.md defines them)

def cross_entropy(logits, labels, class_weights=None):
    """Softmax cross entropy over the last axis; labels may have extra axes ([batch, time]).
    With weights: sum(w[y_i] * l_i) / (number of labels), NOT torch's sum(w*l)/sum(w)."""
    classes = logits.shape[-1]
    per = F.cross_entropy(logits.reshape(-1, classes), labels.reshape(-1).long(), reduction="none")
    if class_weights is None:
        return per.mean()
    w = torch.as_tensor(np.asarray(class_weights), dtype=logits.dtype)
    return (per * w[labels.reshape(-1).long()]).sum() / per.numel()


def binary_cross_entropy(logits, targets):
    return F.binary_cross_entropy_with_logits(logits, targets)


def mse(prediction, target):
    return F.mse_loss(prediction, target)


# ----------------------------------------------------------------------------------------------
# optimizers: torch.optim with nnc's hyper-parameters; weight decay by nnc's rule

# nnc slot name -> torch optimizer state key
SLOT_KEYS = {
    "sgd": {"momentum": "momentum_buffer"},
    "adam": {"m": "exp_avg", "v": "exp_avg_sq"},
    "adadelta": {"square_avg": "square_avg", "acc_delta": "acc_delta"},
    "rmsprop": {"square_avg": "square_avg", "momentum": "momentum_buffer"},
    "adagrad": {"sum": "sum"},
}


def make_optimizer(spec, bindings):
    """torch.optim for the trainable bindings, with two param groups: the tensors nnc decays
    (`.weight` and explicit params of rank >= 2) get spec's weight_decay, the rest none."""
    trainable = [b for b in bindings if not b.state and b.tensor.requires_grad]
    decayed = [b.tensor for b in trainable if weight_decay_applies(b.name, len(b.nnc_shape))]
    plain = [b.tensor for b in trainable if not weight_decay_applies(b.name, len(b.nnc_shape))]
    wd = spec["weight_decay"]
    groups = [g for g in ({"params": decayed, "weight_decay": wd}, {"params": plain, "weight_decay": 0.0})
              if g["params"]]
    kind, s = spec["kind"], spec
    o = torch.optim
    if kind == "sgd":
        return o.SGD(groups, lr=s["lr"], momentum=s["momentum"], nesterov=bool(s["nesterov"]), dampening=0)
    if kind == "adam":
        return o.Adam(groups, lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"], amsgrad=False)
    if kind == "adadelta":
        return o.Adadelta(groups, lr=s["lr"], rho=s["rho"], eps=s["eps"])
    if kind == "rmsprop":
        return o.RMSprop(groups, lr=s["lr"], alpha=s["rho"], eps=s["eps"], momentum=s["momentum"], centered=False)
    if kind == "adagrad":
        return o.Adagrad(groups, lr=s["lr"], lr_decay=0, initial_accumulator_value=s["initial"], eps=s["eps"])
    raise ValueError(f"unknown optimizer {kind}")


def optimizer_slots(spec, optimizer, bindings, dtype="float32"):
    """{nnc slot name: nnc-layout array} of torch's optimizer state, for the slots nnc keeps."""
    kind = spec["kind"]
    out = {}
    for b in bindings:
        if b.state or not b.tensor.requires_grad:
            continue
        st = optimizer.state.get(b.tensor, {})
        for slot, key in SLOT_KEYS[kind].items():
            if kind in ("sgd", "rmsprop") and slot == "momentum" and not spec["momentum"] > 0:
                continue
            if key in st and st[key] is not None:
                out[f"{b.name}/{kind}.{slot}"] = b.nnc_value(st[key], dtype)
    return out


# ----------------------------------------------------------------------------------------------
# comparison
#
# A tensor agrees when max |nnc - torch| <= 5e-4 * max |torch| (torch in float32), and its update
# (trained - initial) agrees to 2e-2 of the largest update (a tensor that barely moves must still
# move the right way). Adam divides by sqrt(v) + 1e-7, so an element whose gradient is a near
# cancellation (|g| ~ eps) turns f32 rounding noise into a visible share of a step: in a big layer
# PyTorch's own float32 run can then differ from the exact (float64) result by about as much as
# the tolerance. For a tensor that fails, a float64 PyTorch run decides: it still agrees "to f32
# rounding" when nnc is no further from the exact result than twice PyTorch-float32's distance
# from it. Such a pass is reported as `f32-noise`, never silently.

DELTA_TOLERANCE = 2e-2


def _max_abs(a):
    return float(np.abs(a).max(initial=0))


def _within(err, scale, tolerance):
    return err <= tolerance * scale


class Row:
    def __init__(self, name, shape):
        self.name, self.shape = name, tuple(shape)
        self.err = self.scale = self.rel = float("nan")
        self.delta_rel = float("nan")
        self.delta_scale = 0.0
        self.status = "FAIL"   # ok | f32-noise | FAIL
        self.detail = ""

    @property
    def passed(self):
        return self.status != "FAIL"


def compare_checkpoints(nnc, ref32, start, ref64_of=None, tolerance=RELATIVE_TOLERANCE,
                        delta_tolerance=DELTA_TOLERANCE):
    """Compares every tensor of `ref32` (torch, float32) with nnc's. `start` holds the initial
    values of the tensors whose update is checked too (parameters and statistics). `ref64_of()`
    returns torch's float64 tensors, asked for only when a tensor fails. Returns the rows."""
    rows, ref64 = [], None
    for name in sorted(ref32):
        want = ref32[name].astype(np.float64)
        row = Row(name, want.shape)
        rows.append(row)
        if name not in nnc:
            row.detail = "missing from nnc's checkpoint"
            continue
        got = nnc[name].astype(np.float64)
        if got.shape != want.shape:
            row.detail = f"nnc's shape is {list(got.shape)}"
            continue
        if not np.isfinite(got).all():
            row.detail = "nnc's values are not finite"
            continue
        row.err, row.scale = _max_abs(got - want), _max_abs(want)
        row.rel = row.err / row.scale if row.scale > 0 else (0.0 if row.err == 0 else float("inf"))
        value_ok = _within(row.err, row.scale, tolerance)
        delta_ok = True
        if name in start:
            s = start[name].astype(np.float64)
            row.delta_scale = _max_abs(want - s)
            derr = _max_abs((got - s) - (want - s))
            row.delta_rel = derr / row.delta_scale if row.delta_scale > 0 else (0.0 if derr == 0 else float("inf"))
            delta_ok = _within(derr, row.delta_scale, delta_tolerance)
        if value_ok and delta_ok:
            row.status = "ok"
            continue
        if ref64_of is None:
            continue
        if ref64 is None:
            ref64 = ref64_of()
        exact = ref64[name].astype(np.float64)
        nnc_off, torch_off = _max_abs(got - exact), _max_abs(want - exact)
        row.detail = (f"vs float64 torch: nnc {nnc_off / max(row.scale, 1e-30):.2e}, "
                      f"torch float32 {torch_off / max(row.scale, 1e-30):.2e} (relative)")
        if nnc_off <= max(tolerance * row.scale, 2 * torch_off):
            row.status = "f32-noise"
    return rows


def format_precision(nnc, ref32, ref64):
    """Per tensor, max and mean |x - float64 torch| / max |float64 torch| for nnc and for torch
    in float32: whether nnc is about as close to the exact result as PyTorch itself."""
    lines = [f"  {'distance from float64 torch':<36} {'nnc max':>9} {'torch max':>9} {'nnc mean':>9} {'torch mean':>10}"]
    for name in sorted(ref64):
        if name not in nnc or nnc[name].shape != ref64[name].shape:
            continue
        exact = ref64[name].astype(np.float64)
        scale = max(_max_abs(exact), 1e-30)
        dn = np.abs(nnc[name].astype(np.float64) - exact) / scale
        dt = np.abs(ref32[name].astype(np.float64) - exact) / scale
        lines.append(f"  {name:<36} {dn.max(initial=0):9.2e} {dt.max(initial=0):9.2e} {dn.mean():9.2e} {dt.mean():10.2e}")
    return "\n".join(lines)


def format_rows(rows, everything=True):
    shown = [r for r in rows if everything or r.status != "ok"]
    if not shown:
        return ""
    lines = [f"  {'tensor':<36} {'shape':<17} {'max|d|':>9} {'max|ref|':>9} {'rel':>9} {'update rel':>10}"]
    for r in shown:
        delta = f"{r.delta_rel:10.2e}" if r.delta_rel == r.delta_rel else f"{'':10}"
        flag = "" if r.status == "ok" else f"  {r.status}"
        lines.append(f"  {r.name:<36} {str(list(r.shape)):<17} {r.err:9.2e} {r.scale:9.2e} {r.rel:9.2e} {delta}{flag}"
                     + (f"  [{r.detail}]" if r.detail else ""))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Fashion-MNIST, from the Debian package dataset-fashion-mnist

FASHION_DIRS = ["/usr/share/datasets/fashion-mnist", "/usr/share/dataset-fashion-mnist"]


def _read_idx(path):
    import gzip
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        blob = f.read()
    magic = struct.unpack(">I", blob[:4])[0]
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, blob[4:4 + 4 * rank])
    return np.frombuffer(blob[4 + 4 * rank:], dtype=np.uint8).reshape(dims)


def load_fashion(count, split="train"):
    """The first `count` samples: images float32 [count, 28, 28] in 0..255, labels int32; None
    when the package is not installed."""
    prefix = "train" if split == "train" else "t10k"
    for d in FASHION_DIRS:
        images = os.path.join(d, f"{prefix}-images-idx3-ubyte.gz")
        labels = os.path.join(d, f"{prefix}-labels-idx1-ubyte.gz")
        if os.path.exists(images) and os.path.exists(labels):
            return (_read_idx(images)[:count].astype(np.float32), _read_idx(labels)[:count].astype(np.int32))
    return None


# ----------------------------------------------------------------------------------------------
# image layers and operations: conv2d_transpose, upsample, pad, global_maxpool (on NCHW tensors)

def make_image_layer_classes():
    nn = torch.nn
    L = make_layer_classes()
    pair, same_pads = (lambda v: (v, v) if isinstance(v, int) else tuple(v)), L["same_pads"]

    class ConvTranspose2d(nn.Module):
        """conv2d_transpose: torch's ConvTranspose2d without padding (the full (in - 1) * s + k
        output), then cropped as nnc's `same` does: the `same` conv2d's pads from in * s back to
        in (the odd extra at the bottom/right), zeros where a kernel smaller than the stride
        leaves the end uncovered. nnc's weight is [kh, kw, filters, in], torch's
        [in, filters, kh, kw]; the bias is added after the crop."""

        def __init__(self, name, cin, filters, kernel, stride=1, padding="same", act=None, bias=True):
            super().__init__()
            self.name, self.act, self.padding = name, act, padding
            self.kernel, self.stride = pair(kernel), pair(stride)
            self.conv = nn.ConvTranspose2d(cin, filters, self.kernel, stride=self.stride, padding=0, bias=False)
            self.bias = nn.Parameter(torch.zeros(filters)) if bias else None

        def forward(self, x):
            y = self.conv(x)
            crops = []
            for axis in (0, 1):
                size, k, s = x.shape[2 + axis], self.kernel[axis], self.stride[axis]
                if self.padding == "same":
                    out, start = size * s, same_pads(size * s, k, s)[0]
                else:
                    out, start = (size - 1) * s + k, 0
                crops.append((start, out))
            (t, oh), (l, ow) = crops
            y = F.pad(y, (0, max(0, l + ow - y.shape[3]), 0, max(0, t + oh - y.shape[2])))
            y = y[:, :, t:t + oh, l:l + ow]
            if self.bias is not None:
                y = y + self.bias.view(1, -1, 1, 1)
            return activation(self.act, y)

        def layer_bindings(self):
            to_nnc = lambda t: t.permute(2, 3, 1, 0)    # [in, filters, kh, kw] -> [kh, kw, filters, in]
            to_torch = lambda a: a.permute(3, 2, 0, 1)  # and back
            b = [Binding(self.name + ".weight", self.conv.weight, to_nnc, to_torch)]
            if self.bias is not None:
                b.append(Binding(self.name + ".bias", self.bias))
            return b

    def upsample(x, size=2, mode="nearest"):
        """NCHW; bilinear as interpolate(align_corners=False)."""
        kw = {} if mode == "nearest" else {"align_corners": False}
        return F.interpolate(x, scale_factor=pair(size), mode=mode, **kw)

    def pad(x, pads, mode="constant", value=0.0):
        """NCHW; pads [[top, bottom], [left, right]]."""
        (t, b), (l, r) = pads
        if mode == "reflect":
            return F.pad(x, (l, r, t, b), mode="reflect")
        return F.pad(x, (l, r, t, b), value=value)

    def global_maxpool(x):
        return x.amax(dim=(2, 3))

    def as_image(seq):
        """[batch, time, channels] -> NCHW [batch, channels, 1, time], as nnc runs sequences."""
        return seq.permute(0, 2, 1).unsqueeze(2)

    return dict(ConvTranspose2d=ConvTranspose2d, upsample=upsample, pad=pad, global_maxpool=global_maxpool,
                as_image=as_image)
