#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's Conv1d and Flatten modules.

Run:  /usr/bin/python3 scripts/make_conv1d_fixtures.py [--out DIR]

Uses the hand-written safetensors writer of make_torch_fixtures.py (F32 row-major, metadata as strings) and the
forward, loss and backward record of make_batchnorm_fixtures.py. Everything runs on the CPU in float32 with fixed
seeds, so a rerun rewrites the same bytes. Writes only the four files below.

conv1d.safetensors -- 0: Conv1d  1: activation  2: Flatten  3: Linear(C_out·L_out, 2) on x [3, C_in, L] against
  y [3, 2], MSELoss (mean). Three variants, each under its prefix V:
    plain.    nn.Conv1d(3, 4, 3), ReLU, on L = 10 (L_out = 8);
    strided.  nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=2), Tanh, on L = 11 (L_out = 5);
    no_bias.  nn.Conv1d(2, 3, 2, stride=3, padding=2, bias=False), ReLU, on L = 7 (L_out = 4): a stride past the
              kernel, so some positions are read by no tap.
  Tensors, for each V: V.x, V.y, V.<param> (the parameters), V.output [3, 2], V.loss [], V.grad.<param>, V.grad.x
  (the input gradient), V.adam3.<param> after 3 steps of Adam(lr=0.01), each step zero_grad, forward, loss, backward,
  step on the same batch.
conv1d_state.safetensors -- exactly the strided model's state_dict(), as safetensors.torch.save_file writes it
  (metadata {"format": "pt"}).
conv1d_groups.safetensors -- the same record for grouped convolutions (nn.Conv1d's groups), each on x [3, C_in, L]:
    groups2.    nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2), Tanh, on L = 11 (L_out = 5): two
                input channels and three output channels per group;
    groups4.    nn.Conv1d(8, 4, 2, stride=3, padding=2, bias=False, groups=4), ReLU, on L = 10 (L_out = 5): one output
                channel per group of two inputs;
    depthwise.  nn.Conv1d(5, 5, 3, padding=2, dilation=2, groups=5), Tanh, on L = 9 (L_out = 9): each channel filtered
                on its own.
conv1d_groups_state.safetensors -- exactly the groups2 model's state_dict(), as conv1d_state.safetensors.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_batchnorm_fixtures import run  # noqa: E402
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

# variant: (C_in, C_out, k, stride, padding, dilation, bias, activation, L)
VARIANTS = {
    "plain": (3, 4, 3, 1, 0, 1, True, nn.ReLU, 10),
    "strided": (3, 4, 3, 2, 1, 2, True, nn.Tanh, 11),
    "no_bias": (2, 3, 2, 3, 2, 1, False, nn.ReLU, 7),
}

# variant: groups, for the grouped variants, which are recorded as VARIANTS' are
GROUPS = {"groups2": 2, "groups4": 4, "depthwise": 5}
VARIANTS.update({
    "groups2": (4, 6, 3, 2, 1, 2, True, nn.Tanh, 11),
    "groups4": (8, 4, 2, 3, 2, 1, False, nn.ReLU, 10),
    "depthwise": (5, 5, 3, 1, 2, 2, True, nn.Tanh, 9),
})


def model(variant):
    c_in, c_out, k, stride, padding, dilation, bias, activation, length = VARIANTS[variant]
    out_length = (length + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    torch.manual_seed(21)
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, k, stride=stride, padding=padding, dilation=dilation, bias=bias, groups=GROUPS.get(variant, 1)),
        activation(),
        nn.Flatten(),
        nn.Linear(c_out * out_length, 2),
    )


def make_variant(variant, tensors):
    c_in, length = VARIANTS[variant][0], VARIANTS[variant][-1]
    g = torch.Generator().manual_seed(22)
    x = torch.randn(3, c_in, length, generator=g)
    y = torch.randn(3, 2, generator=g)
    record(lambda: model(variant), x, y, variant + ".", tensors)


def record(make_model, x, y, v, tensors):
    """V.x, V.y, V.<param>, the forward, loss and backward of make_model() on (x, y), and V.adam3.<param>."""
    tensors[v + "x"] = x
    tensors[v + "y"] = y
    for name, t in make_model().state_dict().items():
        tensors[v + name] = t.clone()
    run(make_model(), x, y, v, tensors)

    m = make_model()
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        nn.MSELoss()(m(x), y).backward()
        opt.step()
    for name, p in m.named_parameters():
        tensors[v + "adam3." + name] = p.detach().clone()


def main():
    out = fixture_out(__doc__)
    for name, variants, state_of in [("conv1d", [v for v in VARIANTS if v not in GROUPS], "strided"), ("conv1d_groups", list(GROUPS), "groups2")]:
        tensors = {}
        for variant in variants:
            make_variant(variant, tensors)
        save_and_verify(os.path.join(out, name + ".safetensors"), tensors, {"fixture": name, "torch": torch.__version__})
        state = {k: v.clone() for k, v in model(state_of).state_dict().items()}
        save_and_verify(os.path.join(out, name + "_state.safetensors"), state, {"format": "pt"})


if __name__ == "__main__":
    main()
