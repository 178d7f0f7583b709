#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's Silu and LeakyRelu modules.

Run:  /usr/bin/python3 scripts/make_activation_fixtures.py [--out DIR]

Uses the hand-written safetensors writer of make_torch_fixtures.py (F32 row-major, metadata as strings). Everything
runs on the CPU in float32 with a fixed seed, so a rerun rewrites the same bytes. Writes silu_leaky_relu.safetensors:

  x                 the input [3, 5, 7]: randn * 4, with 0, -0, +-1e-3, +-5, +-10, +-30, +-88, +-89, +-100, +-1e30,
                    +inf, -inf and NaN written over its first elements.
  dy                the output gradient [3, 5, 7] (randn).
  silu.y            nn.SiLU()(x);  silu.dx  its input gradient for dy.
  leaky_relu.slopes the slopes [5]: 0.01 (nn.LeakyReLU's default), -0.5, 0, 1.5 and +inf.
  leaky_relu.y      nn.LeakyReLU(negative_slope=s)(x) for each slope s, stacked [5, 3, 5, 7];
  leaky_relu.dx     its input gradient for dy, stacked the same way.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

SLOPES = [0.01, -0.5, 0.0, 1.5, float("inf")]


def forward_and_gradient(module, x, dy):
    xr = x.clone().requires_grad_()
    y = module(xr)
    y.backward(dy)
    return y.detach(), xr.grad.detach().clone()


def make_activations(out_dir):
    g = torch.Generator().manual_seed(11)
    x = torch.randn(3, 5, 7, generator=g) * 4
    special = torch.tensor([0.0, -0.0, 1e-3, -1e-3, 5.0, -5.0, 10.0, -10.0, 30.0, -30.0, 88.0, -88.0, 89.0, -89.0,
                            100.0, -100.0, 1e30, -1e30, float("inf"), float("-inf"), float("nan")])
    x.view(-1)[: len(special)] = special
    dy = torch.randn(3, 5, 7, generator=g)
    tensors = {"x": x, "dy": dy}
    tensors["silu.y"], tensors["silu.dx"] = forward_and_gradient(nn.SiLU(), x, dy)
    leaky = [forward_and_gradient(nn.LeakyReLU(negative_slope=s), x, dy) for s in SLOPES]
    tensors["leaky_relu.slopes"] = torch.tensor(SLOPES, dtype=torch.float32)
    tensors["leaky_relu.y"] = torch.stack([y for y, _ in leaky])
    tensors["leaky_relu.dx"] = torch.stack([dx for _, dx in leaky])
    save_and_verify(os.path.join(out_dir, "silu_leaky_relu.safetensors"), tensors, {"fixture": "silu_leaky_relu", "torch": torch.__version__})


def main():
    make_activations(fixture_out(__doc__))


if __name__ == "__main__":
    main()
