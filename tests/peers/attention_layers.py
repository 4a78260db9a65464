"""nnc's transformer layers in torch, in nnc's layout (imported by peer_models after torch):

- layernorm(x, eps): torch.nn.functional.layer_norm over the last axis (biased variance),
  `.gamma` and `.beta`;
- multi_head_attention(query, value, heads, key_dim, causal): Keras' MultiHeadAttention written
  with torch ops: keys are the values, per head softmax(Q K^T / sqrt(d)) V with keys j > i
  masked for query i when causal, heads concatenated, then the output projection. Weights are
  nnc's [in, heads*d] matrices; head i uses columns i*d .. i*d+d-1.
"""

import math

import nnc_torch as nt

torch = nt.require_torch()
nn = torch.nn


def _param(*shape):
    return nn.Parameter(torch.zeros(*shape))


class LayerNorm(nn.Module):
    def __init__(self, name, features, eps=1e-5):
        super().__init__()
        self.name, self.features, self.eps = name, features, eps
        self.gamma, self.beta = nn.Parameter(torch.ones(features)), _param(features)

    def forward(self, x):
        return torch.nn.functional.layer_norm(x, (self.features,), self.gamma, self.beta, self.eps)

    def layer_bindings(self):
        return [nt.Binding(self.name + ".gamma", self.gamma), nt.Binding(self.name + ".beta", self.beta)]


class MultiHeadAttention(nn.Module):
    def __init__(self, name, query_features, value_features, heads, key_dim, causal=False):
        super().__init__()
        self.name, self.heads, self.key_dim, self.causal = name, heads, key_dim, causal
        width = heads * key_dim
        self.query, self.query_bias = _param(query_features, width), _param(width)
        self.key, self.key_bias = _param(value_features, width), _param(width)
        self.value, self.value_bias = _param(value_features, width), _param(width)
        self.output, self.output_bias = _param(width, query_features), _param(query_features)

    def _heads(self, x, w, b):  # [batch, time, F] -> [batch, heads, time, d]
        n, t = x.shape[0], x.shape[1]
        return (x @ w + b).reshape(n, t, self.heads, self.key_dim).transpose(1, 2)

    def forward(self, query, value):
        n, tq = query.shape[0], query.shape[1]
        q = self._heads(query, self.query, self.query_bias)
        k = self._heads(value, self.key, self.key_bias)
        v = self._heads(value, self.value, self.value_bias)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.key_dim)
        if self.causal:
            visible = torch.ones(tq, value.shape[1], dtype=torch.bool).tril()
            scores = scores.masked_fill(~visible, float("-inf"))
        mixed = torch.softmax(scores, dim=-1) @ v
        merged = mixed.transpose(1, 2).reshape(n, tq, self.heads * self.key_dim)
        return merged @ self.output + self.output_bias

    def layer_bindings(self):
        names = ["query", "query_bias", "key", "key_bias", "value", "value_bias", "output", "output_bias"]
        return [nt.Binding(f"{self.name}.{p}", getattr(self, p)) for p in names]
