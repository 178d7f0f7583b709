#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's LogSoftmax and Softmax modules and its NLLLoss.

Run:  /usr/bin/python3 scripts/make_nll_fixtures.py [--out DIR]

Uses the hand-written safetensors writer of make_torch_fixtures.py (F32 row-major, I64 class ids, metadata as
strings). Everything runs on the CPU in float32 with fixed seeds, so a rerun rewrites the same bytes. Writes
nll.safetensors and nll_edges.safetensors. nll.safetensors holds, for R in r2 (rank 2) and r3 (rank 3):

  R.x            the input: [4, 5] or [2, 3, 5], one row shifted by +40 (stability) and one spread ×10.
  R.g            the output gradient, shaped as R.x.
  R.log_softmax  nn.LogSoftmax(dim=-1)(R.x);  R.log_softmax.grad_x  d/dx of Σ g⊙log_softmax(x).
  R.softmax      nn.Softmax(dim=-1)(R.x);     R.softmax.grad_x      d/dx of Σ g⊙softmax(x).
  R.target       class ids [4] or [2, 3] (I64), one of them ignore_index (-100).
  R.nll.mean, R.nll.sum        nn.NLLLoss(reduction=...)(R.log_softmax, R.target), [] each; the mean is over the
                               targets that are not ignored.
  R.nll.none                   reduction="none": the per-row losses, 0 at the ignored row, shaped as R.target.
  R.nll.grad_mean, R.nll.grad_sum   their gradients with respect to the log-probabilities (that of "none" with an
                               output gradient of ones is grad_sum).

and for a model, Sequential(0: Linear(4, 8), 1: Tanh, 2: Linear(8, 5), 3: LogSoftmax(dim=-1)) with NLLLoss (mean) on
model.x [2, 3, 4] and model.target [2, 3] (I64, one ignored): model.<param> (the initial parameters, seed 21),
model.loss [] (the initial loss), and adam3.<param> after 3 steps of Adam(lr=0.01), each step zero_grad, forward,
loss, backward, step on the same batch.

nll_edges.safetensors holds inputs at the edges of float32:

  large.x                      logits [3, 4] whose log Σ is far from 0 next to a maximum of large magnitude: a row
                               near 1e4, one near 1e6 (float32's step there is 0.0625), and [3e38, 3e38, -3e38, 0].
  large.g                      the output gradient, shaped as large.x.
  large.log_softmax            nn.LogSoftmax(dim=-1)(large.x) (−inf where x − max overflows, as at −3e38).
  large.log_softmax.grad_x     d/dx of Σ g⊙log_softmax(x).
  ignored.x                    [4, 3]: rows [-inf, -0.1, -3], [-1, -0.5, -2], [nan, 0.5, 1], [inf, 0, 1].
  ignored.target               [4] (I64): [-100, 1, -100, -100], every row but one ignored, each holding a non-finite.
  ignored.nll.R, ignored.nll.grad_R      nn.NLLLoss(reduction=R)(ignored.x, ignored.target) and its gradient, for R
                               in mean and sum: each ignored row adds 0 and gets a zero gradient.
  ignored.nll.none             reduction="none": 0 at each ignored row.
  ignored.ce.R, ignored.ce.grad_R, ignored.ce.none   as the NLL's for nn.CrossEntropyLoss on ignored.x as logits:
                               the ignored rows' losses are 0, their gradient 0 − softmax·0 is 0 for the −inf row and
                               NaN for the nan and inf rows, whose softmax is NaN.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

IGNORE = -100


def make_functions(prefix, shape, targets, tensors):
    g = torch.Generator().manual_seed(31 + len(shape))
    x = torch.randn(*shape, generator=g)
    rows = x.view(-1, shape[-1])
    rows[0] += 40.0
    rows[1] *= 10.0
    upstream = torch.randn(*shape, generator=g)
    tensors[prefix + "x"] = x
    tensors[prefix + "g"] = upstream
    for name, module in (("log_softmax", nn.LogSoftmax(dim=-1)), ("softmax", nn.Softmax(dim=-1))):
        xg = x.clone().requires_grad_(True)
        y = module(xg)
        (y * upstream).sum().backward()
        tensors[prefix + name] = y.detach()
        tensors[prefix + name + ".grad_x"] = xg.grad.detach().clone()

    target = torch.tensor(targets, dtype=torch.int64).view(*shape[:-1])
    tensors[prefix + "target"] = target
    log_probabilities = nn.LogSoftmax(dim=-1)(x)
    for reduction in ("mean", "sum"):
        input = log_probabilities.clone().requires_grad_(True)
        loss = nn.NLLLoss(reduction=reduction, ignore_index=IGNORE)(input.view(-1, shape[-1]), target.view(-1))
        loss.backward()
        tensors[prefix + "nll." + reduction] = loss.detach()
        tensors[prefix + "nll.grad_" + reduction] = input.grad.detach().clone()
    none = nn.NLLLoss(reduction="none", ignore_index=IGNORE)(log_probabilities.view(-1, shape[-1]), target.view(-1))
    tensors[prefix + "nll.none"] = none.detach().view(*shape[:-1])


def model():
    torch.manual_seed(21)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 5), nn.LogSoftmax(dim=-1))


def make_model(tensors):
    g = torch.Generator().manual_seed(22)
    x = torch.randn(2, 3, 4, generator=g)
    target = torch.tensor([[1, IGNORE, 4], [0, 2, 2]], dtype=torch.int64)
    nll = nn.NLLLoss()
    m = model()
    tensors["model.x"] = x
    tensors["model.target"] = target
    for name, p in m.named_parameters():
        tensors["model." + name] = p.detach().clone()
    tensors["model.loss"] = nll(m(x).view(-1, 5), target.view(-1)).detach()
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        nll(m(x).view(-1, 5), target.view(-1)).backward()
        opt.step()
    for name, p in m.named_parameters():
        tensors["adam3." + name] = p.detach().clone()


def make_large(tensors):
    x = torch.tensor([
        [10000.0, 10000.5, 9999.25, 10001.0],
        [1e6 + 0.3, 1e6, 1e6 - 0.7, 1e6 + 0.1],
        [3e38, 3e38, -3e38, 0.0],
    ], dtype=torch.float32)
    g = torch.tensor([[0.5, -1.0, 0.25, 2.0], [-0.75, 1.5, 0.125, -1.0], [1.0, -0.5, 0.75, 0.25]], dtype=torch.float32)
    xg = x.clone().requires_grad_(True)
    y = nn.LogSoftmax(dim=-1)(xg)
    (y * g).sum().backward()
    tensors["large.x"] = x
    tensors["large.g"] = g
    tensors["large.log_softmax"] = y.detach()
    tensors["large.log_softmax.grad_x"] = xg.grad.detach().clone()


def make_ignored(tensors):
    inf, nan = float("inf"), float("nan")
    x = torch.tensor([[-inf, -0.1, -3.0], [-1.0, -0.5, -2.0], [nan, 0.5, 1.0], [inf, 0.0, 1.0]], dtype=torch.float32)
    target = torch.tensor([IGNORE, 1, IGNORE, IGNORE], dtype=torch.int64)
    tensors["ignored.x"] = x
    tensors["ignored.target"] = target
    for name, loss in (("nll", nn.NLLLoss), ("ce", nn.CrossEntropyLoss)):
        for reduction in ("mean", "sum"):
            input = x.clone().requires_grad_(True)
            value = loss(reduction=reduction, ignore_index=IGNORE)(input, target)
            value.backward()
            tensors["ignored." + name + "." + reduction] = value.detach()
            tensors["ignored." + name + ".grad_" + reduction] = input.grad.detach().clone()
        tensors["ignored." + name + ".none"] = loss(reduction="none", ignore_index=IGNORE)(x, target).detach()


def main():
    out = fixture_out(__doc__)
    tensors = {}
    make_functions("r2.", (4, 5), [3, IGNORE, 0, 4], tensors)
    make_functions("r3.", (2, 3, 5), [2, 4, IGNORE, 0, 1, 1], tensors)
    make_model(tensors)
    save_and_verify(os.path.join(out, "nll.safetensors"), tensors, {"fixture": "nll", "torch": torch.__version__, "ignore_index": str(IGNORE)})
    edges = {}
    make_large(edges)
    make_ignored(edges)
    save_and_verify(os.path.join(out, "nll_edges.safetensors"), edges, {"fixture": "nll_edges", "torch": torch.__version__})


if __name__ == "__main__":
    main()
