"""The PyTorch twins of the models the agreement test trains: the examples in examples/ and the
small models in tests/peers/models/. Each class mirrors its .nn file line by line, with nnc's
layers from nnc_torch (torch-native weights, nnc names and layouts in `bindings()`).

`loss(batch, ctx)` takes the batch as {input name: torch tensor} (already normalised the way
nnc normalises it) and ctx = {"class_weights": array or None} from the train block.
Importing this module imports torch (the caller skips cleanly before that when it is absent).
"""

import nnc_torch as nt

torch = nt.require_torch()
nn = torch.nn
L = nt.make_layer_classes()
Dense, Maxout, Conv2d, BatchNorm = L["Dense"], L["Maxout"], L["Conv2d"], L["BatchNorm"]
LSTM, LSTMUnrolled, RNN, Param = L["LSTM"], L["LSTMUnrolled"], L["RNN"], L["Param"]
GRU = L["GRU"]
maxpool, avgpool, global_avgpool = L["maxpool"], L["avgpool"], L["global_avgpool"]
nchw, nhwc, flatten_nhwc = L["nchw"], L["nhwc"], L["flatten_nhwc"]


class Peer(nn.Module, nt.PeerModule):
    pass


# ---------------------------------------------------------------------------- examples/

class FashionMlp(Peer):  # examples/fashion_mlp.nn
    def __init__(self):
        super().__init__()
        self.h1 = Dense("h1", 784, 256, "relu")
        self.h2 = Dense("h2", 256, 128, "relu")
        self.logits = Dense("logits", 128, 10)

    def loss(self, b, ctx):
        flat = b["image"].reshape(b["image"].shape[0], -1)
        return nt.cross_entropy(self.logits(self.h2(self.h1(flat))), b["label"], ctx["class_weights"])


class FashionCnn(Peer):  # examples/fashion_cnn.nn
    def __init__(self):
        super().__init__()
        self.conv1 = Conv2d("conv1", 1, 32, 5, padding="same", act="relu")
        self.conv2 = Conv2d("conv2", 32, 64, 5, padding="same", act="relu")
        self.fc = Dense("fc", 7 * 7 * 64, 1024, "relu")
        self.logits = Dense("logits", 1024, 10)

    def loss(self, b, ctx):
        pixels = b["image"].reshape(-1, 28, 28, 1)
        pool1 = maxpool(self.conv1(nchw(pixels)), 2)
        pool2 = maxpool(self.conv2(pool1), 2)
        drop = nt.dropout(self.fc(flatten_nhwc(pool2)), 0.4, 0, ctx)
        return nt.cross_entropy(self.logits(drop), b["label"], ctx["class_weights"])


class SequenceLstm(Peer):  # examples/sequence_lstm.nn
    def __init__(self):
        super().__init__()
        self.state = LSTM("state", 8, 32)
        self.logits = Dense("logits", 32, 5)

    def loss(self, b, ctx):
        return nt.cross_entropy(self.logits(self.state(b["seq"])), b["label"], ctx["class_weights"])


class MaxoutBatchnorm(Peer):  # examples/maxout_batchnorm.nn
    def __init__(self):
        super().__init__()
        self.m1 = Maxout("m1", 784, 256, 2)
        self.bn1 = BatchNorm("bn1", 256)
        self.m2 = Maxout("m2", 256, 128, 2)
        self.bn2 = BatchNorm("bn2", 128, momentum=0.9)
        self.logits = Dense("logits", 128, 10)

    def loss(self, b, ctx):
        flat = b["image"].reshape(b["image"].shape[0], -1)
        drop = nt.dropout(self.bn2(self.m2(self.bn1(self.m1(flat)))), 0.2, 0, ctx)
        return nt.cross_entropy(self.logits(drop), b["label"], ctx["class_weights"])


class ExplicitParams(Peer):  # examples/explicit_params.nn
    def __init__(self):
        super().__init__()
        self.w1, self.b1 = Param("w1", 784, 256), Param("b1", 256)
        self.w2, self.b2 = Param("w2", 256, 10), Param("b2", 10)

    def loss(self, b, ctx):
        flat = b["image"].reshape(b["image"].shape[0], -1)
        h1 = torch.relu(flat @ self.w1() + self.b1())
        logits = h1 @ self.w2() + self.b2()
        return nt.cross_entropy(logits, b["label"], ctx["class_weights"]) + 1e-4 * (self.w1() ** 2).sum()


# ---------------------------------------------------------------------------- tests/peers/models/

class ConvPool(Peer):
    def __init__(self):
        super().__init__()
        self.c1 = Conv2d("c1", 2, 4, 3, act="relu")
        self.c2 = Conv2d("c2", 4, 5, 4, stride=2, padding="same", act="tanh")
        self.c3 = Conv2d("c3", 4, 3, [2, 3], stride=[1, 2], padding="valid")
        self.logits = Dense("logits", 3 * 3 * 5 + 4 * 2 * 3 + 4 * 2 * 3 + 4 * 3 * 4, 4)

    def loss(self, b, ctx):
        c1 = self.c1(nchw(b["image"]))
        p1 = maxpool(self.c2(c1), 2, padding="same")
        c3 = self.c3(c1)
        p2 = avgpool(c3, 3, stride=2, padding="same")
        p3 = maxpool(c3, 2)
        p4 = avgpool(c1, [2, 3], stride=[2, 3])
        flat = torch.cat([flatten_nhwc(p) for p in (p1, p2, p3, p4)], dim=-1)
        return nt.cross_entropy(self.logits(flat), b["label"], ctx["class_weights"])




class ConvBnGap(Peer):
    def __init__(self):
        super().__init__()
        self.c1 = Conv2d("c1", 3, 6, 3, stride=2, padding="valid", bias=False)
        self.bn = BatchNorm("bn", 6, momentum=0.9)
        self.c2 = Conv2d("c2", 6, 5, 2, act="elu")
        self.logits = Dense("logits", 5, 3, bias=False)

    def loss(self, b, ctx):
        c1 = nhwc(self.c1(nchw(b["image"])))
        r = torch.relu(self.bn(c1))  # batchnorm over the channels-last axis
        g = global_avgpool(self.c2(nchw(r)))
        return nt.cross_entropy(self.logits(g), b["label"], ctx["class_weights"])


class DenseMix(Peer):
    def __init__(self):
        super().__init__()
        self.h1 = Dense("h1", 10, 12, "gelu")
        self.m1 = Maxout("m1", 12, 6, 3)
        self.bn = BatchNorm("bn", 6, momentum=0.8, eps=1e-2)
        self.h2 = Dense("h2", 6, 8, "sigmoid")
        self.logits = Dense("logits", 8, 4)

    def loss(self, b, ctx):
        d1 = nt.dropout(self.h1(b["x"]), 0.0, 0, ctx)
        logits = self.logits(self.h2(self.bn(self.m1(d1))))
        return nt.cross_entropy(logits, b["label"], [0.5, 1, 2, 1.5])


class Activations(Peer):
    def __init__(self):
        super().__init__()
        self.h1 = Dense("h1", 6, 8, "relu6")
        self.h2 = Dense("h2", 8, 8, "silu")
        self.h3 = Dense("h3", 8, 8, "hard_swish")
        self.h4 = Dense("h4", 8, 8, "softsign")
        self.h5 = Dense("h5", 8, 8, "mish")
        self.h6 = Dense("h6", 8, 8, "hard_sigmoid")
        self.h7 = Dense("h7", 8, 8, "swish")
        self.logits = Dense("logits", 8, 3)

    def loss(self, b, ctx):
        h5 = self.h5(self.h4(self.h3(self.h2(self.h1(b["x"])))))
        s = torch.sin(self.h7(self.h6(h5))) + torch.cos(h5)
        return nt.cross_entropy(self.logits(s), b["label"], ctx["class_weights"])


class Recurrent(Peer):
    def __init__(self):
        super().__init__()
        self.r1 = RNN("r1", 5, 8, "tanh", sequences=True)
        self.l1 = LSTM("l1", 8, 7, sequences=True)
        self.bn = BatchNorm("bn", 7)
        self.l2 = LSTM("l2", 7, 6)
        self.logits = Dense("logits", 6, 3)

    def loss(self, b, ctx):
        l2 = self.l2(self.bn(self.l1(self.r1(b["seq"]))))
        return nt.cross_entropy(self.logits(l2), b["label"], ctx["class_weights"])


class RnnTagger(Peer):  # the hand-unrolled LSTM here cross-checks the one built on nn.LSTM
    def __init__(self):
        super().__init__()
        self.r = RNN("r", 4, 6, "sigmoid", sequences=True)
        self.l = LSTMUnrolled("l", 6, 5, sequences=True)
        self.logits = Dense("logits", 5, 3)

    def loss(self, b, ctx):
        return nt.cross_entropy(self.logits(self.l(self.r(b["seq"]))), b["tags"], ctx["class_weights"])


class GruSeq(Peer):
    def __init__(self):
        super().__init__()
        self.g1 = GRU("g1", 5, 7, sequences=True)
        self.g2 = GRU("g2", 7, 6)
        self.logits = Dense("logits", 6, 3)

    def loss(self, b, ctx):
        return nt.cross_entropy(self.logits(self.g2(self.g1(b["seq"]))), b["label"], ctx["class_weights"])


class Bidirectional(Peer):
    def __init__(self):
        super().__init__()
        self.l1 = LSTM("l1", 4, 6, sequences=True, bidirectional=True)
        self.g1 = GRU("g1", 12, 5, sequences=True, bidirectional=True)
        self.l2 = LSTM("l2", 10, 4, bidirectional=True)
        self.g2 = GRU("g2", 10, 3, bidirectional=True)
        self.logits = Dense("logits", 14, 3)

    def loss(self, b, ctx):
        g1 = self.g1(self.l1(b["seq"]))
        both = torch.cat([self.l2(g1), self.g2(g1)], dim=-1)
        return nt.cross_entropy(self.logits(both), b["label"], ctx["class_weights"])


class DropoutPair(Peer):  # two dropout layers: salts 0 and 1; masks change with the step
    def __init__(self):
        super().__init__()
        self.h = Dense("h", 6, 8, "relu")
        self.logits = Dense("logits", 32, 3)

    def loss(self, b, ctx):
        d1 = nt.dropout(self.h(b["x"]), 0.3, 0, ctx)
        d2 = nt.dropout(d1.reshape(d1.shape[0], -1), 0.5, 1, ctx)
        return nt.cross_entropy(self.logits(d2), b["label"], ctx["class_weights"])


class AugmentPair(Peer):  # flips and a translation on the images, and a flip mid-network
    def __init__(self):
        super().__init__()
        self.c = Conv2d("c", 2, 3, 3, act="relu")
        self.logits = Dense("logits", 6 * 5 * 3, 3)

    def loss(self, b, ctx):
        f = nt.random_flip(b["image"], "both", 0, ctx)
        t = nt.random_translation(f, 0.34, 0.5, 1, ctx)
        c = nhwc(self.c(nchw(t)))
        m = nt.random_flip(c, "horizontal", 2, ctx)
        return nt.cross_entropy(self.logits(m.reshape(m.shape[0], -1)), b["label"], ctx["class_weights"])


class Binary(Peer):
    def __init__(self):
        super().__init__()
        self.h = Dense("h", 6, 8, "leaky_relu")
        self.logits = Dense("logits", 8, 2)

    def loss(self, b, ctx):
        return nt.binary_cross_entropy(self.logits(self.h(b["x"])), b["target"])


class Regress(Peer):
    def __init__(self):
        super().__init__()
        self.w, self.b = Param("w", 5, 2), Param("b", 2)
        self.h = Dense("h", 4, 5, "softplus")

    def loss(self, b, ctx):
        pred = self.h(b["x"]) @ self.w() + self.b()
        return nt.mse(pred, b["y"]) + 0.01 * (self.w() ** 2).mean()


class OptimMix(Peer):
    def __init__(self):
        super().__init__()
        self.w, self.s = Param("w", 12, 16), Param("s", 16)
        self.h1 = Dense("h1", 16, 16, "relu")
        self.bn = BatchNorm("bn", 16)
        self.logits = Dense("logits", 16, 4)

    def loss(self, b, ctx):
        h0 = torch.tanh(b["x"] @ self.w() * self.s())
        return nt.cross_entropy(self.logits(self.bn(self.h1(h0))), b["label"], ctx["class_weights"])


# ---------------------------------------------------------------------------- convolution variants
# (dilated, grouped, depthwise, separable, conv1d). nnc's filters are [kh, kw, in/groups, out],
# torch's [out, in/groups, kh, kw]; a depthwise filter [kh, kw, in, multiplier] is torch's
# grouped filter [in * multiplier, 1, kh, kw] (output channel c * multiplier + m in both).
# `same` pads as TensorFlow does, for the dilated window (k - 1) * d + 1.

def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _same_pad(x, kernel, stride, dilation):
    spans = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    pads = []
    for size, span, s in zip(x.shape[2:], spans, stride):
        out = -(-size // s)
        total = max((out - 1) * s + span - size, 0)
        pads.append((total // 2, total - total // 2))
    return torch.nn.functional.pad(x, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))


class GroupedConv2d(nn.Module):
    """conv2d with dilation and groups (NCHW), or depthwise (groups = in, weight as nnc's
    [kh, kw, in, multiplier] under `suffix`)."""

    def __init__(self, name, cin, filters, kernel, stride=1, padding="same", dilation=1, groups=1, act=None,
                 bias=True, depthwise=False, suffix="weight", bias_name="bias"):
        super().__init__()
        self.name, self.act, self.padding, self.depthwise = name, act, padding, depthwise
        self.suffix, self.bias_name = suffix, bias_name
        self.kernel, self.stride, self.dilation = _pair(kernel), _pair(stride), _pair(dilation)
        self.conv = nn.Conv2d(cin, filters, self.kernel, stride=self.stride, dilation=self.dilation, groups=groups,
                              padding=0, bias=bias)

    def forward(self, x):
        if self.padding == "same":
            x = _same_pad(x, self.kernel, self.stride, self.dilation)
        return nt.activation(self.act, self.conv(x))

    def layer_bindings(self):
        w = self.conv.weight  # [out, in/groups, kh, kw]
        kh, kw, out = w.shape[2], w.shape[3], w.shape[0]
        if self.depthwise:
            cin = self.conv.in_channels
            to_nnc = lambda t: t.permute(2, 3, 1, 0).reshape(kh, kw, cin, out // cin)
            to_torch = lambda a: a.reshape(kh, kw, 1, out).permute(3, 2, 0, 1)
        else:
            to_nnc = lambda t: t.permute(2, 3, 1, 0)
            to_torch = lambda a: a.permute(3, 2, 0, 1)
        b = [nt.Binding(self.name + "." + self.suffix, w, to_nnc, to_torch)]
        if self.conv.bias is not None and self.bias_name:
            b.append(nt.Binding(self.name + "." + self.bias_name, self.conv.bias))
        return b


class SeparableConv2d(nn.Module):
    def __init__(self, name, cin, filters, kernel, stride=1, padding="same", act=None):
        super().__init__()
        self.act = act
        self.dw = GroupedConv2d(name, cin, cin, kernel, stride, padding, groups=cin, bias=False, depthwise=True,
                                suffix="depthwise")
        self.pw = GroupedConv2d(name, cin, filters, 1, suffix="pointwise", padding="valid")

    def forward(self, x):
        return nt.activation(self.act, self.pw(self.dw(x)))


class Conv1d(nn.Module):
    """conv1d over [batch, time, channels]; nnc's weight [k, in, out], torch's [out, in, k]."""

    def __init__(self, name, cin, filters, kernel, stride=1, padding="same", dilation=1, act=None, bias=True):
        super().__init__()
        self.name, self.act, self.padding = name, act, padding
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        self.conv = nn.Conv1d(cin, filters, kernel, stride=stride, dilation=dilation, bias=bias)

    def forward(self, x):  # [batch, time, channels]
        x = x.permute(0, 2, 1)
        if self.padding == "same":
            size, span = x.shape[2], (self.kernel - 1) * self.dilation + 1
            out = -(-size // self.stride)
            total = max((out - 1) * self.stride + span - size, 0)
            x = torch.nn.functional.pad(x, (total // 2, total - total // 2))
        return nt.activation(self.act, self.conv(x)).permute(0, 2, 1)

    def layer_bindings(self):
        b = [nt.Binding(self.name + ".weight", self.conv.weight, lambda t: t.permute(2, 1, 0),
                        lambda a: a.permute(2, 1, 0))]
        if self.conv.bias is not None:
            b.append(nt.Binding(self.name + ".bias", self.conv.bias))
        return b


class ConvVariants(Peer):  # tests/peers/models/conv_variants.nn
    def __init__(self):
        super().__init__()
        self.d1 = GroupedConv2d("d1", 4, 8, 3, dilation=2, act="relu")
        self.g1 = GroupedConv2d("g1", 8, 12, 3, groups=4, act="tanh")
        self.g2 = GroupedConv2d("g2", 12, 6, [3, 2], stride=2, groups=2, padding="valid")
        self.dw1 = GroupedConv2d("dw1", 12, 12, 3, groups=12, act="elu", depthwise=True)
        self.dw2 = GroupedConv2d("dw2", 12, 24, 3, stride=2, dilation=[1, 2], groups=12, depthwise=True)
        self.s1 = SeparableConv2d("s1", 8, 5, 3, stride=2, act="elu")
        self.v1 = GroupedConv2d("v1", 4, 3, 2, dilation=3, padding="valid")
        self.logits = Dense("logits", 4 * 4 * 6 + 5 * 5 * 24 + 5 * 5 * 5 + 6 * 6 * 3, 4)

    def loss(self, b, ctx):
        x = nchw(b["image"])
        d1 = self.d1(x)
        g1 = self.g1(d1)
        parts = (self.g2(g1), self.dw2(self.dw1(g1)), self.s1(d1), self.v1(x))
        flat = torch.cat([flatten_nhwc(p) for p in parts], dim=-1)
        return nt.cross_entropy(self.logits(flat), b["label"], ctx["class_weights"])




class Conv1dSeq(Peer):  # tests/peers/models/conv1d_seq.nn
    def __init__(self):
        super().__init__()
        self.c1 = Conv1d("c1", 3, 6, 3, dilation=2, act="relu")
        self.c2 = Conv1d("c2", 6, 5, 4, stride=2, act="tanh")
        self.c3 = Conv1d("c3", 6, 4, 3, stride=2, padding="valid", bias=False)
        self.logits = Dense("logits", 6 * 5 + 5 * 4, 3)

    def loss(self, b, ctx):
        c1 = self.c1(b["seq"])
        flat = torch.cat([self.c2(c1).reshape(c1.shape[0], -1), self.c3(c1).reshape(c1.shape[0], -1)], dim=-1)
        return nt.cross_entropy(self.logits(flat), b["label"], ctx["class_weights"])


# ---------------------------------------------------------------------------- image operations

IL = nt.make_image_layer_classes()
ConvTranspose2d, upsample, pad, global_maxpool, as_image = (
    IL["ConvTranspose2d"], IL["upsample"], IL["pad"], IL["global_maxpool"], IL["as_image"])


def sequence_view(x_nchw, time, channels):
    """nnc's reshape of an NHWC image to [batch, time, channels], as an NCHW [b, c, 1, t] image."""
    return as_image(nhwc(x_nchw).reshape(x_nchw.shape[0], time, channels))


class ConvTransposeAe(Peer):  # tests/peers/models/conv_transpose_ae.nn
    def __init__(self):
        super().__init__()
        self.e1 = Conv2d("e1", 2, 4, 3, stride=2, act="relu")
        self.t1 = ConvTranspose2d("t1", 4, 3, 4, stride=2, act="tanh")
        self.t2 = ConvTranspose2d("t2", 3, 2, 3, stride=2, padding="valid")
        self.t3 = ConvTranspose2d("t3", 4, 2, 3, stride=2)
        self.logits = Dense("logits", 2 + 10 * 14 * 4 + 16 + 16 + 38 * 16, 4)

    def loss(self, b, ctx):
        e1 = self.e1(nchw(b["image"]))
        t2 = self.t2(pad(self.t1(e1), [[1, 2], [2, 1]], mode="reflect"))
        t3 = self.t3(upsample(e1, 2))
        p2 = pad(upsample(e1, [2, 3], mode="bilinear"), [[1, 1], [1, 1]], value=0.5)
        seq = sequence_view(t3, 32, 16)
        s1 = maxpool(seq, (1, 2))
        s2 = avgpool(seq, (1, 3), stride=(1, 2), padding="same")
        s3 = upsample(pad(s2, [[0, 0], [2, 1]], mode="reflect"), (1, 2), mode="bilinear")
        flat = torch.cat([global_maxpool(t2), flatten_nhwc(p2), global_avgpool(s1), global_maxpool(s3),
                          flatten_nhwc(s3)], dim=-1)
        return nt.cross_entropy(self.logits(flat), b["label"], ctx["class_weights"])


class Attention(Peer):  # tests/peers/models/attention.nn
    def __init__(self):
        super().__init__()
        import attention_layers as A
        self.ln1 = A.LayerNorm("ln1", 8)
        self.self_ = A.MultiHeadAttention("self", 8, 8, heads=2, key_dim=3, causal=True)
        self.cross = A.MultiHeadAttention("cross", 8, 5, heads=3, key_dim=2)
        self.ln2 = A.LayerNorm("ln2", 8, eps=1e-3)
        self.logits = Dense("logits", 8, 3)

    def loss(self, b, ctx):
        ln1 = self.ln1(b["seq"])
        h = b["seq"] + self.self_(ln1, ln1)
        ln2 = self.ln2(h + self.cross(h, b["mem"]))
        return nt.cross_entropy(self.logits(ln2.mean(dim=1)), b["label"], ctx["class_weights"])


# ---------------------------------------------------------------------------- issue 13: embedding, huber, pow, where,
# label smoothing and probability targets

F = torch.nn.functional


class EmbedDense(Peer):  # the table as a plain parameter and F.embedding (nn.Embedding's own op)
    def __init__(self):
        super().__init__()
        self.emb = Param("emb.weight", 30, 8)
        self.h = Dense("h", 8, 10, "relu")
        self.logits = Dense("logits", 10, 4)

    def loss(self, b, ctx):
        pooled = F.embedding(b["ids"].long(), self.emb()).mean(dim=1)
        return nt.cross_entropy(self.logits(self.h(pooled)), b["label"], ctx["class_weights"])


class HuberReg(Peer):
    def __init__(self):
        super().__init__()
        self.h = Dense("h", 4, 6, "tanh")
        self.pred = Dense("pred", 6, 2)

    def loss(self, b, ctx):
        h = self.h(b["x"])
        g = torch.where(h - 0.2 != 0, torch.pow(h + 1.5, 1.5), h * 2)
        return F.huber_loss(self.pred(g), b["y"], delta=0.5)


class Smoothing(Peer):
    def __init__(self):
        super().__init__()
        self.h = Dense("h", 5, 8, "relu")
        self.logits = Dense("logits", 8, 4)

    def loss(self, b, ctx):
        return F.cross_entropy(self.logits(self.h(b["x"])), b["label"].long(), label_smoothing=0.2)


class SmoothingWeighted(Smoothing):  # nnc divides by the batch size: torch's "sum" over N
    def loss(self, b, ctx):
        logits = self.logits(self.h(b["x"]))
        w = torch.tensor([0.5, 1, 2, 1.5], dtype=logits.dtype)
        total = F.cross_entropy(logits, b["label"].long(), weight=w, label_smoothing=0.15, reduction="sum")
        return total / logits.shape[0]


class ProbTargets(Peer):
    def __init__(self):
        super().__init__()
        self.h = Dense("h", 5, 8, "tanh")
        self.logits = Dense("logits", 8, 3)

    def loss(self, b, ctx):
        return F.cross_entropy(self.logits(self.h(b["x"])), b["target"], label_smoothing=0.1)
