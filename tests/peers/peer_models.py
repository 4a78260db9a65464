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
