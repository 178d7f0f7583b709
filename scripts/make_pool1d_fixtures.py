#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's MaxPool1d, AvgPool1d, AdaptiveMaxPool1d and AdaptiveAvgPool1d.

Run:  /usr/bin/python3 scripts/make_pool1d_fixtures.py [--out DIR]

Uses the hand-written safetensors writer of make_torch_fixtures.py (F32 row-major, metadata as strings) and the
record of a model's forward, loss, backward and three Adam steps of make_conv1d_fixtures.py. Everything runs on the CPU in float32 with fixed
seeds, so a rerun rewrites the same bytes. Writes only the file below.

pool1d.safetensors --
  Model variants: 0: nn.Conv1d(2, 3, 3, padding=1)  1: the pooling  2: Tanh  3: Flatten  4: Linear(3·L_pool, 2) on
  x [3, 2, L] against y [3, 2], MSELoss (mean); the convolution keeps L, so the pooling sees [3, 3, L]. Each under its
  prefix V:
    max_odd.           nn.MaxPool1d(2) on L = 11 (L_pool = 5: the last position is read by no window);
    max_strided.       nn.MaxPool1d(3, stride=2, padding=1, dilation=2) on L = 12 (L_pool = 5);
    avg_padded.        nn.AvgPool1d(3, stride=2, padding=1) on L = 10 (L_pool = 5, count_include_pad=True);
    avg_no_pad_count.  nn.AvgPool1d(4, stride=3, padding=2, count_include_pad=False) on L = 9 (L_pool = 4);
    adaptive_max.      nn.AdaptiveMaxPool1d(3) on L = 8 (overlapping windows [0, 3), [2, 6), [5, 8));
    adaptive_avg.      nn.AdaptiveAvgPool1d(3) on L = 10 ([0, 4), [3, 7), [6, 10));
    global_max.        nn.AdaptiveMaxPool1d(1) on L = 9;
    global_avg.        nn.AdaptiveAvgPool1d(1) on L = 7.
  Tensors, for each V: V.x, V.y, V.<param> (the parameters), V.output [3, 2], V.loss [], V.grad.<param>, V.grad.x
  (the input gradient), V.adam3.<param> after 3 steps of Adam(lr=0.01), each step zero_grad, forward, loss, backward,
  step on the same batch.
  NaN variants, the pooling alone on x [2, 2, 8] holding NaNs (one window two of them) and dy [2, 2, L_pool]:
    nan_max.           nn.MaxPool1d(3, stride=2, padding=1);
    nan_global.        nn.AdaptiveMaxPool1d(1).
  Tensors: V.x, V.dy, V.output, V.grad.x (x's gradient of sum(output·dy)).
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_conv1d_fixtures import record  # noqa: E402
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

# variant: (the pooling, L, L_pool)
VARIANTS = {
    "max_odd": (lambda: nn.MaxPool1d(2), 11, 5),
    "max_strided": (lambda: nn.MaxPool1d(3, stride=2, padding=1, dilation=2), 12, 5),
    "avg_padded": (lambda: nn.AvgPool1d(3, stride=2, padding=1), 10, 5),
    "avg_no_pad_count": (lambda: nn.AvgPool1d(4, stride=3, padding=2, count_include_pad=False), 9, 4),
    "adaptive_max": (lambda: nn.AdaptiveMaxPool1d(3), 8, 3),
    "adaptive_avg": (lambda: nn.AdaptiveAvgPool1d(3), 10, 3),
    "global_max": (lambda: nn.AdaptiveMaxPool1d(1), 9, 1),
    "global_avg": (lambda: nn.AdaptiveAvgPool1d(1), 7, 1),
}

NAN_VARIANTS = {
    "nan_max": lambda: nn.MaxPool1d(3, stride=2, padding=1),
    "nan_global": lambda: nn.AdaptiveMaxPool1d(1),
}


def model(variant):
    pool, _, pooled = VARIANTS[variant]
    torch.manual_seed(31)
    return nn.Sequential(nn.Conv1d(2, 3, 3, padding=1), pool(), nn.Tanh(), nn.Flatten(), nn.Linear(3 * pooled, 2))


def make_variant(variant, tensors):
    length = VARIANTS[variant][1]
    g = torch.Generator().manual_seed(32)
    x = torch.randn(3, 2, length, generator=g)
    y = torch.randn(3, 2, generator=g)
    record(lambda: model(variant), x, y, variant + ".", tensors)


def record_pooling(pool, x, g, prefix, tensors):
    """The pooling alone on x (requiring grad) and dy drawn from g: prefix + x, dy, output and grad.x (of sum(output·dy))."""
    xg = x.clone().requires_grad_(True)
    output = pool(xg)
    dy = torch.randn(output.shape, generator=g)
    (output * dy).sum().backward()
    tensors[prefix + "x"] = x
    tensors[prefix + "dy"] = dy
    tensors[prefix + "output"] = output.detach()
    tensors[prefix + "grad.x"] = xg.grad.detach().clone()
    return output


def make_nan_variant(variant, tensors):
    g = torch.Generator().manual_seed(33)
    x = torch.randn(2, 2, 8, generator=g)
    x[0, 0, 2] = float("nan")
    x[0, 0, 3] = float("nan")
    x[1, 1, 6] = float("nan")
    record_pooling(NAN_VARIANTS[variant](), x, g, variant + ".", tensors)


def main():
    out = fixture_out(__doc__)
    tensors = {}
    for variant in VARIANTS:
        make_variant(variant, tensors)
    for variant in NAN_VARIANTS:
        make_nan_variant(variant, tensors)
    save_and_verify(os.path.join(out, "pool1d.safetensors"), tensors, {"fixture": "pool1d", "torch": torch.__version__})


if __name__ == "__main__":
    main()
