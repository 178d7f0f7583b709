#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's depthwise Conv1d (groups = C_in), which runs a direct kernel.

Run:  /usr/bin/python3 scripts/make_conv1d_depthwise_fixtures.py [--out DIR]

The record of make_conv1d_padding_fixtures.py (its write(): the forward, MSE loss and backward, and 3 Adam steps of
Sequential(Conv1d, activation, Flatten, Linear(C_out·L_out, 2)) on x [3, C_in, L] against y [3, 2]) for depthwise
layers with more than one output channel per input channel (the depth multiplier m = C_out/C_in), a stride past the
kernel, a kernel wider than the input, and padding modes. Everything runs on the CPU in float32 with fixed seeds, so a
rerun rewrites the same bytes. Writes only conv1d_depthwise.safetensors, each variant under its prefix V:
    multiplier2.       nn.Conv1d(4, 8, 3, stride=2, padding=1, dilation=2, groups=4), Tanh, on L = 11 (L_out = 5);
    multiplier3.       nn.Conv1d(3, 9, 2, stride=3, padding=2, bias=False, groups=3), ReLU, on L = 10 (L_out = 5):
                       a stride past the kernel, so some positions are read by no tap;
    wide_kernel.       nn.Conv1d(3, 3, 7, padding=3, groups=3), Tanh, on L = 4 (L_out = 4): every output has taps in
                       the padding;
    same_reflect.      nn.Conv1d(4, 8, 4, padding='same', groups=4, padding_mode='reflect'), Tanh, on L = 9: one
                       position before, two after, reflected;
    circular_dilated.  nn.Conv1d(2, 2, 5, padding=3, dilation=2, groups=2, padding_mode='circular'), Tanh, on L = 4
                       (L_out = 2): a reach of 8, past L, wrapped around.
  Tensors, for each V: V.x, V.y, V.<param>, V.output [3, 2], V.loss [], V.grad.<param>, V.grad.x, V.adam3.<param>.
"""
import os
import sys

from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_conv1d_padding_fixtures import write  # noqa: E402
from make_torch_fixtures import fixture_out  # noqa: E402

# variant: (C_in, C_out, k, stride, padding, dilation, bias, groups, padding_mode, activation, L)
VARIANTS = {
    "multiplier2": (4, 8, 3, 2, 1, 2, True, 4, "zeros", nn.Tanh, 11),
    "multiplier3": (3, 9, 2, 3, 2, 1, False, 3, "zeros", nn.ReLU, 10),
    "wide_kernel": (3, 3, 7, 1, 3, 1, True, 3, "zeros", nn.Tanh, 4),
    "same_reflect": (4, 8, 4, 1, "same", 1, True, 4, "reflect", nn.Tanh, 9),
    "circular_dilated": (2, 2, 5, 1, 3, 2, True, 2, "circular", nn.Tanh, 4),
}


if __name__ == "__main__":
    write(fixture_out(__doc__), "conv1d_depthwise", VARIANTS)
