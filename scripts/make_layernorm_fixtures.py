#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's LayerNorm module.

Run:  /usr/bin/python3 scripts/make_layernorm_fixtures.py [--out DIR]

Uses the hand-written safetensors writer of make_torch_fixtures.py (F32 row-major, metadata as strings). Everything
runs on the CPU in float32 with fixed seeds, so a rerun rewrites the same bytes. Writes only the two files below.

layernorm.safetensors -- 0: Linear(4, 6)  1: LayerNorm(6)  2: Tanh  3: Linear(6, 3) on x [2, 5, 4] (rank 3, each
  row shifted by its own offset so the means are not 0) against y [2, 5, 3], MSELoss (mean). Three variants, each
  under its prefix V:
    affine.     nn.LayerNorm(6), its weight and bias drawn from U(0.5, 1.5) and U(-0.5, 0.5) (not the ones and zeros
                they start at, so their gradients show);
    no_bias.    the same with the bias set to zero and frozen (requires_grad False): PyTorch 1.13 has no bias=False,
                and a zero bias that never moves is exactly a LayerNorm without one, so its "1.bias" is left out of
                every tensor below, as Tensorlet's LayerNorm(6, bias: false) has none;
    no_affine.  nn.LayerNorm(6, elementwise_affine=False).
  Tensors, for each V: V.x [2,5,4], V.y [2,5,3], V.<param> (the parameters), V.output [2,5,3], V.loss [],
  V.grad.<param>, V.grad.x [2,5,4] (the input gradient), V.adam3.<param> after 3 steps of Adam(lr=0.01), each step
  zero_grad, forward, loss, backward, step on the same batch. Also default.weight [6] and default.bias [6]: a fresh
  nn.LayerNorm(6)'s parameters.
layernorm_state.safetensors -- exactly the affine model's state_dict(), as safetensors.torch.save_file writes it
  (metadata {"format": "pt"}).
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402


def model(variant):
    torch.manual_seed(11)
    m = nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6, elementwise_affine=variant != "no_affine"), nn.Tanh(), nn.Linear(6, 3))
    with torch.no_grad():
        if variant != "no_affine":
            m[1].weight.uniform_(0.5, 1.5)
            m[1].bias.uniform_(-0.5, 0.5)
        if variant == "no_bias":
            m[1].bias.zero_()
    if variant == "no_bias":
        m[1].bias.requires_grad_(False)
    return m


def trained(m):
    return {name: p for name, p in m.named_parameters() if p.requires_grad}


def make_variant(variant, tensors):
    g = torch.Generator().manual_seed(12)
    x = torch.randn(2, 5, 4, generator=g) + 3 * torch.randn(2, 5, 1, generator=g)
    y = torch.randn(2, 5, 3, generator=g)
    mse = nn.MSELoss()
    m = model(variant)
    initial = {name: p.detach().clone() for name, p in trained(m).items()}
    xg = x.clone().requires_grad_(True)
    output = m(xg)
    loss = mse(output, y)
    loss.backward()
    v = variant + "."
    tensors[v + "x"] = x
    tensors[v + "y"] = y
    tensors[v + "output"] = output.detach()
    tensors[v + "loss"] = loss.detach()
    tensors[v + "grad.x"] = xg.grad.detach().clone()
    for name, p in trained(m).items():
        tensors[v + name] = initial[name]
        tensors[v + "grad." + name] = p.grad.detach().clone()

    m = model(variant)
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        mse(m(x), y).backward()
        opt.step()
    if variant == "no_bias":
        assert torch.count_nonzero(m[1].bias) == 0, "the frozen bias stays zero"
    for name, p in trained(m).items():
        tensors[v + "adam3." + name] = p.detach().clone()


def main():
    out = fixture_out(__doc__)
    tensors = {}
    for variant in ("affine", "no_bias", "no_affine"):
        make_variant(variant, tensors)
    fresh = nn.LayerNorm(6)
    tensors["default.weight"] = fresh.weight.detach().clone()
    tensors["default.bias"] = fresh.bias.detach().clone()
    save_and_verify(os.path.join(out, "layernorm.safetensors"), tensors, {"fixture": "layernorm", "torch": torch.__version__})
    state = {k: v.clone() for k, v in model("affine").state_dict().items()}
    save_and_verify(os.path.join(out, "layernorm_state.safetensors"), state, {"format": "pt"})


if __name__ == "__main__":
    main()
