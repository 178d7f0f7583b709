#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's Permute module.

Run:  /usr/bin/python3 scripts/make_permute_fixtures.py [--out DIR]

Same protocol as make_module_fixtures.py (whose trajectory it uses): F32 row-major tensors, I64 indices, metadata as
strings, everything on the CPU in float32 with fixed seeds, so a rerun rewrites the same bytes. It writes only its own
file.

permute.safetensors --
  x.permute(dims) for the cases of CASES, each under its name V: V.x, V.w (a weight per output element),
  V.output = x.permute(dims) (contiguous), V.grad.x = d(Σ w·x.permute(dims))/dx. Metadata V.dims = "d0,d1,...",
  as given (negative dims included).
  model. -- 0: Embedding(7, 4)  1: Permute(0, 2, 1)  2: Conv1d(4, 3, 2)  3: Permute(0, 2, 1)  4: Linear(3, 2) on
  ids [2, 5] against y [2, 4, 2], MSELoss (mean): model.ids (I64), model.y, model.<param>, model.output [2, 4, 2],
  model.loss [], model.grad.<param>, model.adam3.<param> after 3 steps of Adam(lr=0.01), each step zero_grad,
  forward, loss, backward, step on the same batch.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_module_fixtures import trajectory  # noqa: E402
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

# name: (shape, dims)
CASES = {
    "rank2": ((4, 6), (1, 0)),
    "rank3": ((3, 5, 4), (0, 2, 1)),
    "rank3_negative": ((3, 5, 4), (-1, 0, -2)),
    "rank4": ((2, 3, 4, 5), (0, 3, 1, 2)),
    "rank4_negative": ((2, 3, 4, 5), (2, -4, -1, 1)),
}


class Permute(nn.Module):
    """torchvision.ops.Permute, which torchvision adds beside torch 1.13; written out so that torch alone runs this."""

    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return torch.permute(x, self.dims)


def model():
    torch.manual_seed(31)
    return nn.Sequential(nn.Embedding(7, 4), Permute([0, 2, 1]), nn.Conv1d(4, 3, 2), Permute([0, 2, 1]), nn.Linear(3, 2))


def make_cases(tensors, meta):
    g = torch.Generator().manual_seed(32)
    for name, (shape, dims) in CASES.items():
        x = torch.randn(*shape, generator=g)
        output = x.permute(dims).contiguous()
        w = torch.randn(*output.shape, generator=g)
        xg = x.clone().requires_grad_(True)
        (w * xg.permute(dims)).sum().backward()
        v = name + "."
        tensors[v + "x"] = x
        tensors[v + "w"] = w
        tensors[v + "output"] = output
        tensors[v + "grad.x"] = xg.grad.detach().clone()
        meta[v + "dims"] = ",".join(str(d) for d in dims)


def make_model(tensors):
    g = torch.Generator().manual_seed(33)
    ids = torch.randint(0, 7, (2, 5), generator=g)
    y = torch.randn(2, 4, 2, generator=g)
    mse = nn.MSELoss()

    def forward_loss(m):
        return mse(m(ids), y)

    state = {k: v.clone() for k, v in model().state_dict().items()}
    m = model()
    output = m(ids)
    loss = mse(output, y)
    loss.backward()
    tensors["model.ids"] = ids
    tensors["model.y"] = y
    tensors["model.output"] = output.detach()
    tensors["model.loss"] = loss.detach()
    for name, p in m.named_parameters():
        tensors["model." + name] = state[name]
        tensors["model.grad." + name] = p.grad.detach().clone()
    for name, value in trajectory(model, state, forward_loss, lambda ps: torch.optim.Adam(ps, lr=0.01)).items():
        tensors["model.adam3." + name] = value


if __name__ == "__main__":
    out = fixture_out(__doc__)
    tensors, meta = {}, {"fixture": "permute", "torch": torch.__version__}
    make_cases(tensors, meta)
    make_model(tensors)
    save_and_verify(os.path.join(out, "permute.safetensors"), tensors, meta)
