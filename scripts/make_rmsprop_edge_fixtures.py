#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's RMSprop kernel where float's subnormals decide the result.

Run:  /usr/bin/python3 scripts/make_rmsprop_edge_fixtures.py [--out DIR]

Same protocol as make_torch_fixtures.py (F32 tensors, metadata as strings, CPU float32, a rerun rewrites the same
bytes); it writes only its own file. One parameter tensor of 37 elements (every CPU register width and a tail) and one
gradient of sizes 1e-20 to 7e-20, so that (1 - alpha)*g*g is subnormal; three steps of torch.optim.RMSprop(lr=0.01,
alpha=0.99) on the same gradient.

rmsprop_edges.safetensors:
  p0, grad                                 the parameters before the first step, and the gradient of every step
  <case>.p<t>, <case>.square_avg<t>,       the parameters and torch's states after step t = 1, 2, 3 (grad_avg only
  <case>.grad_avg<t>,                      when centered, momentum_buffer only with momentum)
  <case>.momentum_buffer<t>
cases:
  centered_momentum  eps=1e-8, momentum=0.9, centered=True: the mean gradient's square stays normal beside a
                     subnormal mean square
  plain_eps0         eps=0: the subnormal mean square's root is the whole denominator
  centered_eps0      eps=0, centered=True
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

CASES = {
    "centered_momentum": dict(eps=1e-8, momentum=0.9, centered=True),
    "plain_eps0": dict(eps=0.0, momentum=0.0, centered=False),
    "centered_eps0": dict(eps=0.0, momentum=0.0, centered=True),
}


def make_edges(out_dir):
    n = 37
    i = torch.arange(n, dtype=torch.float32)
    p0 = torch.linspace(-1.0, 1.0, n, dtype=torch.float32)
    sign = torch.where(i % 2 == 0, 1.0, -1.0)
    grad = (sign * (1 + i % 7) * 1e-20).to(torch.float32)
    tensors = {"p0": p0, "grad": grad}
    for case, settings in CASES.items():
        p = p0.clone().requires_grad_(True)
        opt = torch.optim.RMSprop([p], lr=0.01, alpha=0.99, **settings)
        for t in range(1, 4):
            p.grad = grad.clone()
            opt.step()
            tensors[f"{case}.p{t}"] = p.detach().clone()
            for name, value in opt.state[p].items():
                if name != "step":
                    tensors[f"{case}.{name}{t}"] = value.clone()
        assert torch.isfinite(p).all(), case
    meta = {"fixture": "rmsprop_edges", "torch": torch.__version__}
    save_and_verify(os.path.join(out_dir, "rmsprop_edges.safetensors"), tensors, meta)


if __name__ == "__main__":
    make_edges(fixture_out(__doc__))
