#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's Conv1d with padding='same' and its padding modes (padding_mode).

Run:  /usr/bin/python3 scripts/make_conv1d_padding_fixtures.py [--out DIR]

The record of make_conv1d_fixtures.py (its record(): the forward, MSE loss and backward, and 3 Adam steps) for
Sequential(Conv1d, activation, Flatten, Linear(C_out·L_out, 2)) on x [3, C_in, L] against y [3, 2]. Everything runs
on the CPU in float32 with fixed seeds, so a rerun rewrites the same bytes. Writes only conv1d_padding.safetensors,
each variant under its prefix V:
    same_odd.            nn.Conv1d(3, 4, 3, padding='same'), Tanh, on L = 10: one position on each side;
    same_even.           nn.Conv1d(3, 4, 4, padding='same'), ReLU, on L = 9: one before, two after;
    same_dilated_groups. nn.Conv1d(4, 6, 2, padding='same', dilation=3, bias=False, groups=2), Tanh, on L = 8: a
                         reach of 3, one before and two after, in two groups;
    reflect.             nn.Conv1d(3, 4, 3, padding=2, padding_mode='reflect'), Tanh, on L = 7;
    reflect_groups.      nn.Conv1d(4, 6, 3, stride=2, padding=3, dilation=2, groups=2, padding_mode='reflect'), Tanh,
                         on L = 4: the widest reflection, padding L − 1;
    replicate.           nn.Conv1d(3, 4, 3, padding=4, bias=False, padding_mode='replicate'), ReLU, on L = 5: padding
                         wider than the kernel, so the end positions take many gradients;
    replicate_depthwise. nn.Conv1d(5, 5, 3, padding=2, groups=5, padding_mode='replicate'), Tanh, on L = 1: one position,
                         which is every padded one;
    circular.            nn.Conv1d(3, 4, 3, padding=5, padding_mode='circular'), Tanh, on L = 5: padding L, the input
                         wrapped once on each side;
    circular_same_groups. nn.Conv1d(4, 4, 2, padding='same', dilation=3, groups=2, padding_mode='circular'), Tanh, on
                         L = 6: one position before, two after;
    reflect_same_even.   nn.Conv1d(3, 4, 4, padding='same', padding_mode='reflect'), ReLU, on L = 6.
  Tensors, for each V: V.x, V.y, V.<param>, V.output [3, 2], V.loss [], V.grad.<param>, V.grad.x, V.adam3.<param>.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_conv1d_fixtures import record  # noqa: E402
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

# variant: (C_in, C_out, k, stride, padding, dilation, bias, groups, padding_mode, activation, L)
VARIANTS = {
    "same_odd": (3, 4, 3, 1, "same", 1, True, 1, "zeros", nn.Tanh, 10),
    "same_even": (3, 4, 4, 1, "same", 1, True, 1, "zeros", nn.ReLU, 9),
    "same_dilated_groups": (4, 6, 2, 1, "same", 3, False, 2, "zeros", nn.Tanh, 8),
    "reflect": (3, 4, 3, 1, 2, 1, True, 1, "reflect", nn.Tanh, 7),
    "reflect_groups": (4, 6, 3, 2, 3, 2, True, 2, "reflect", nn.Tanh, 4),
    "replicate": (3, 4, 3, 1, 4, 1, False, 1, "replicate", nn.ReLU, 5),
    "replicate_depthwise": (5, 5, 3, 1, 2, 1, True, 5, "replicate", nn.Tanh, 1),
    "circular": (3, 4, 3, 1, 5, 1, True, 1, "circular", nn.Tanh, 5),
    "circular_same_groups": (4, 4, 2, 1, "same", 3, True, 2, "circular", nn.Tanh, 6),
    "reflect_same_even": (3, 4, 4, 1, "same", 1, True, 1, "reflect", nn.ReLU, 6),
}


def model(variant, variants=VARIANTS):
    c_in, c_out, k, stride, padding, dilation, bias, groups, mode, activation, length = variants[variant]
    conv = nn.Conv1d(c_in, c_out, k, stride=stride, padding=padding, dilation=dilation, bias=bias, groups=groups, padding_mode=mode)
    out_length = conv(torch.zeros(1, c_in, length)).shape[2]
    torch.manual_seed(23)
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, k, stride=stride, padding=padding, dilation=dilation, bias=bias, groups=groups, padding_mode=mode),
        activation(),
        nn.Flatten(),
        nn.Linear(c_out * out_length, 2),
    )


def write(out, name, variants):
    """Records each of variants (as VARIANTS) under its prefix into out/name.safetensors."""
    tensors = {}
    for variant in variants:
        c_in, length = variants[variant][0], variants[variant][-1]
        g = torch.Generator().manual_seed(24)
        x = torch.randn(3, c_in, length, generator=g)
        y = torch.randn(3, 2, generator=g)
        record(lambda: model(variant, variants), x, y, variant + ".", tensors)
    save_and_verify(os.path.join(out, name + ".safetensors"), tensors, {"fixture": name, "torch": torch.__version__})


def main():
    write(fixture_out(__doc__), "conv1d_padding", VARIANTS)


if __name__ == "__main__":
    main()
