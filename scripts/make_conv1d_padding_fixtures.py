#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's Conv1d with padding='same'.

Run:  /usr/bin/python3 scripts/make_conv1d_padding_fixtures.py [--out DIR]

The record of make_conv1d_fixtures.py (its record(): the forward, MSE loss and backward, and 3 Adam steps) for
Sequential(Conv1d, activation, Flatten, Linear(C_out·L_out, 2)) on x [3, C_in, L] against y [3, 2]. Everything runs
on the CPU in float32 with fixed seeds, so a rerun rewrites the same bytes. Writes only conv1d_padding.safetensors,
each variant under its prefix V:
    same_odd.            nn.Conv1d(3, 4, 3, padding='same'), Tanh, on L = 10: one position on each side;
    same_even.           nn.Conv1d(3, 4, 4, padding='same'), ReLU, on L = 9: one before, two after;
    same_dilated_groups. nn.Conv1d(4, 6, 2, padding='same', dilation=3, bias=False, groups=2), Tanh, on L = 8: a
                         reach of 3, one before and two after, in two groups.
  Tensors, for each V: V.x, V.y, V.<param>, V.output [3, 2], V.loss [], V.grad.<param>, V.grad.x, V.adam3.<param>.
"""
import argparse
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_conv1d_fixtures import record  # noqa: E402
from make_torch_fixtures import DEFAULT_OUT, save_and_verify  # noqa: E402

# variant: (C_in, C_out, k, stride, padding, dilation, bias, groups, padding_mode, activation, L)
VARIANTS = {
    "same_odd": (3, 4, 3, 1, "same", 1, True, 1, "zeros", nn.Tanh, 10),
    "same_even": (3, 4, 4, 1, "same", 1, True, 1, "zeros", nn.ReLU, 9),
    "same_dilated_groups": (4, 6, 2, 1, "same", 3, False, 2, "zeros", nn.Tanh, 8),
}


def model(variant):
    c_in, c_out, k, stride, padding, dilation, bias, groups, mode, activation, length = VARIANTS[variant]
    conv = nn.Conv1d(c_in, c_out, k, stride=stride, padding=padding, dilation=dilation, bias=bias, groups=groups, padding_mode=mode)
    out_length = conv(torch.zeros(1, c_in, length)).shape[2]
    torch.manual_seed(23)
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, k, stride=stride, padding=padding, dilation=dilation, bias=bias, groups=groups, padding_mode=mode),
        activation(),
        nn.Flatten(),
        nn.Linear(c_out * out_length, 2),
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tensors = {}
    for variant in VARIANTS:
        c_in, length = VARIANTS[variant][0], VARIANTS[variant][-1]
        g = torch.Generator().manual_seed(24)
        x = torch.randn(3, c_in, length, generator=g)
        y = torch.randn(3, 2, generator=g)
        record(lambda: model(variant), x, y, variant + ".", tensors)
    save_and_verify(os.path.join(args.out, "conv1d_padding.safetensors"), tensors, {"fixture": "conv1d_padding", "torch": torch.__version__})


if __name__ == "__main__":
    main()
