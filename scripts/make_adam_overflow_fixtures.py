#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's Adam and AdamW where a gradient's square overflows float.

Run:  /usr/bin/python3 scripts/make_adam_overflow_fixtures.py [--out DIR]

Same protocol as make_torch_fixtures.py (F32 tensors, metadata as strings, CPU float32, a rerun rewrites the same
bytes); it writes only its own file. Three parameters from [1, -0.5, 0.25] and four steps of torch.optim.Adam and
torch.optim.AdamW (lr=0.1, the other settings torch's defaults), one gradient a step, where g*g overflows float but
(1 - beta2)*g*g, rounded in that order as torch's addcmul_ does, does not: step 1's g = 1e21 sends exp_avg_sq to +inf,
step 2's g = 1e20 gives 1.0000001e37.

adam_overflow.safetensors:
  p0 [3], grad [4, 3]                    the parameters before the first step, and row t - 1 the gradient of step t
  <case>.p<t>, <case>.exp_avg_sq<t>      the parameters and torch's second moment after step t = 1, 2, 3, 4
cases:
  adam    torch.optim.Adam(lr=0.1)
  adamw   torch.optim.AdamW(lr=0.1), weight decay 0.01
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

CASES = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


def make_overflow(out_dir):
    p0 = torch.tensor([1.0, -0.5, 0.25], dtype=torch.float32)
    grad = torch.tensor([[1e21, 1.0, -2.0], [1.9e19, 0.5, 1e20], [0.3, -0.1, 2.0], [0.7, 0.2, -1.0]], dtype=torch.float32)
    tensors = {"p0": p0, "grad": grad}
    for case, make in CASES.items():
        p = p0.clone().requires_grad_(True)
        opt = make([p], lr=0.1)
        for t in range(1, 5):
            p.grad = grad[t - 1].clone()
            opt.step()
            tensors[f"{case}.p{t}"] = p.detach().clone()
            tensors[f"{case}.exp_avg_sq{t}"] = opt.state[p]["exp_avg_sq"].clone()
        assert torch.isinf(tensors[f"{case}.exp_avg_sq2"][0]) and torch.isfinite(tensors[f"{case}.exp_avg_sq2"][2]), case
    meta = {"fixture": "adam_overflow", "torch": torch.__version__}
    save_and_verify(os.path.join(out_dir, "adam_overflow.safetensors"), tensors, meta)


if __name__ == "__main__":
    make_overflow(fixture_out(__doc__))
