#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's Conv2d module.

Run:  /usr/bin/python3 scripts/make_conv2d_fixtures.py [--out DIR]

Records as make_conv1d_fixtures.py does (its record: forward, MSE loss, backward, then 3 Adam steps), in float32 on
the CPU with fixed seeds, so a rerun rewrites the same bytes. Writes only the two files below.

conv2d.safetensors -- models on x [3, C_in, H, W] against y [3, 2], MSELoss (mean), each under its prefix V:
  single variants, 0: Conv2d  1: activation  2: Flatten  3: Linear(C_out·H_out·W_out, 2):
    plain.    nn.Conv2d(3, 4, 3), ReLU, on 6×7 (out 4×5);
    strided.  nn.Conv2d(3, 4, (3, 2), stride=2, padding=(1, 2), dilation=2), Tanh, on 9×8 (out 4×6): a non-square
              kernel, a different padding on each axis;
    mixed.    nn.Conv2d(2, 3, (2, 3), stride=(3, 1), padding=(2, 0), dilation=(1, 2), bias=False), ReLU, on 7×8
              (out 4×4): a stride past the kernel on the height, so some rows are read by no tap;
    groups2.  nn.Conv2d(4, 6, (2, 3), stride=(2, 1), padding=1, dilation=(1, 2), groups=2), Tanh, on 6×7 (out 4×5);
    same.     nn.Conv2d(3, 4, (4, 3), padding='same', dilation=(1, 2)), Tanh, on 5×6 (out 5×6): an even kernel on
              the height, padded one row more below than above;
  and the stack
    cnn.      0: nn.Conv2d(2, 4, 3, padding=1)  1: ReLU  2: nn.Conv2d(4, 3, (2, 3), stride=2)  3: ReLU  4: Flatten
              5: Linear(3·3·3, 2), on 6×7 (out 6×7, then 3×3).
  Tensors, for each V: V.x, V.y, V.<param> (the parameters), V.output [3, 2], V.loss [], V.grad.<param>, V.grad.x
  (the input gradient), V.adam3.<param> after 3 Adam(lr=0.01) steps on the same batch.
conv2d_state.safetensors -- exactly the strided model's state_dict(), as safetensors.torch.save_file writes it
  (metadata {"format": "pt"}).
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_conv1d_fixtures import record  # noqa: E402
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

# variant: (C_in, C_out, kernel_size, stride, padding, dilation, bias, groups, activation, (H, W))
VARIANTS = {
    "plain": (3, 4, 3, 1, 0, 1, True, 1, nn.ReLU, (6, 7)),
    "strided": (3, 4, (3, 2), 2, (1, 2), 2, True, 1, nn.Tanh, (9, 8)),
    "mixed": (2, 3, (2, 3), (3, 1), (2, 0), (1, 2), False, 1, nn.ReLU, (7, 8)),
    "groups2": (4, 6, (2, 3), (2, 1), 1, (1, 2), True, 2, nn.Tanh, (6, 7)),
    "same": (3, 4, (4, 3), 1, "same", (1, 2), True, 1, nn.Tanh, (5, 6)),
}


def convolutions(variant):
    """The modules before Flatten, and the input's (C_in, H, W)."""
    if variant == "cnn":
        return [nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, (2, 3), stride=2), nn.ReLU()], (2, 6, 7)
    c_in, c_out, k, stride, padding, dilation, bias, groups, activation, (h, w) = VARIANTS[variant]
    conv = nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, dilation=dilation, bias=bias, groups=groups)
    return [conv, activation()], (c_in, h, w)


def model(variant):
    torch.manual_seed(21)
    layers, shape = convolutions(variant)
    with torch.no_grad():
        flat = nn.Sequential(*layers)(torch.zeros(1, *shape)).numel()
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(flat, 2))


def make_variant(variant, tensors):
    _, shape = convolutions(variant)
    g = torch.Generator().manual_seed(22)
    x = torch.randn(3, *shape, generator=g)
    y = torch.randn(3, 2, generator=g)
    record(lambda: model(variant), x, y, variant + ".", tensors)


def main():
    out = fixture_out(__doc__)
    tensors = {}
    for variant in [*VARIANTS, "cnn"]:
        make_variant(variant, tensors)
    save_and_verify(os.path.join(out, "conv2d.safetensors"), tensors, {"fixture": "conv2d", "torch": torch.__version__})
    state = {k: v.clone() for k, v in model("strided").state_dict().items()}
    save_and_verify(os.path.join(out, "conv2d_state.safetensors"), state, {"format": "pt"})


if __name__ == "__main__":
    main()
