#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's MaxPool1d and AvgPool1d with ceil_mode=True.

Run:  /usr/bin/python3 scripts/make_pool1d_ceil_fixtures.py [--out DIR]

Same protocol as make_pool1d_fixtures.py's NaN variants, recorded by its record_pooling (F32 tensors, metadata as
strings, CPU float32, fixed seeds, so a rerun rewrites the same bytes); it writes only its own file. Each variant is
the pooling alone on x [2, 3, L] and dy [2, 3, L_out], x requiring grad (so max pooling runs max_pool1d_with_indices,
as training does).

pool1d_ceil.safetensors -- variant: the pooling, L (L_out with ceil_mode; without it):
  max_partial.          nn.MaxPool1d(3, stride=2, ceil_mode=True), L = 10 (5; 4): the last window [8, 11) runs past x;
  max_padded_dilated.   nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True), L = 12 (6; 5);
  max_dropped.          nn.MaxPool1d(2, stride=3, padding=1, ceil_mode=True), L = 10 (4; 4): rounding up gives 5, but
                        the fifth window would start in the right padding, so PyTorch drops it;
  avg_count_pad.        nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True), L = 10 (6; 5): the last window [9, 12)
                        divides by 2, the padded position 10 counted and position 11, past the padding, not;
  avg_no_pad_count.     nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), L = 10 (6; 5);
  avg_dropped.          nn.AvgPool1d(2, stride=3, padding=1, ceil_mode=True), L = 10 (4; 4), dropped as max_dropped;
  avg_dropped_no_count. nn.AvgPool1d(4, stride=3, padding=2, ceil_mode=True, count_include_pad=False), L = 10 (4; 4);
  avg_short.            nn.AvgPool1d(4, stride=3, ceil_mode=True), L = 3 (1; none): one window longer than x.
  Tensors, for each V: V.x, V.dy, V.output, V.grad.x (x's gradient of sum(output·dy)).
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_pool1d_fixtures import record_pooling  # noqa: E402
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

# variant: (the pooling, L, L_out)
VARIANTS = {
    "max_partial": (lambda: nn.MaxPool1d(3, stride=2, ceil_mode=True), 10, 5),
    "max_padded_dilated": (lambda: nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True), 12, 6),
    "max_dropped": (lambda: nn.MaxPool1d(2, stride=3, padding=1, ceil_mode=True), 10, 4),
    "avg_count_pad": (lambda: nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True), 10, 6),
    "avg_no_pad_count": (lambda: nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), 10, 6),
    "avg_dropped": (lambda: nn.AvgPool1d(2, stride=3, padding=1, ceil_mode=True), 10, 4),
    "avg_dropped_no_count": (lambda: nn.AvgPool1d(4, stride=3, padding=2, ceil_mode=True, count_include_pad=False), 10, 4),
    "avg_short": (lambda: nn.AvgPool1d(4, stride=3, ceil_mode=True), 3, 1),
}


def make_variant(variant, tensors):
    pool, length, pooled = VARIANTS[variant]
    g = torch.Generator().manual_seed(34)
    x = torch.randn(2, 3, length, generator=g)
    output = record_pooling(pool(), x, g, variant + ".", tensors)
    assert output.shape == (2, 3, pooled), f"{variant}: {tuple(output.shape)}"


def main():
    out = fixture_out(__doc__)
    tensors = {}
    for variant in VARIANTS:
        make_variant(variant, tensors)
    save_and_verify(os.path.join(out, "pool1d_ceil.safetensors"), tensors, {"fixture": "pool1d_ceil", "torch": torch.__version__})


if __name__ == "__main__":
    main()
