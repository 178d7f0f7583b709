#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's BatchNorm1d module.

Run:  /usr/bin/python3 scripts/make_batchnorm_fixtures.py [--out DIR]

Uses the hand-written safetensors writer of make_torch_fixtures.py (row-major, metadata as strings). Everything runs on
the CPU in float32 with fixed seeds, so a rerun rewrites the same bytes. Writes only the two files below.

batchnorm.safetensors -- 0: Linear  1: BatchNorm1d(C)  2: ReLU  3: Linear, MSELoss (mean), in two variants V:
    2d.  x [6, 4] -> Linear(4, 5, bias=False) -> BatchNorm1d(5) on [N, C] -> ReLU -> Linear(5, 3) against y [6, 3]
         (a bias before the batch norm would be subtracted again with the channel's mean: its gradient is 0 but for
         rounding, which Adam's g/sqrt(v) would blow up to steps of lr in a direction that rounding picks);
    3d.  x [4, 3, 4] -> Linear(4, 6) -> BatchNorm1d(3) on [N, C, L] = [4, 3, 6] (the Linear's output features are L)
         -> ReLU -> Linear(6, 2) against y [4, 3, 2].
  The BatchNorm1d's weight and bias are drawn from U(0.5, 1.5) and U(-0.5, 0.5), its running_mean from N(0, 1) and its
  running_var from U(0.5, 2), num_batches_tracked set to 2, so that none is at its start value. Tensors, for each V:
    V.x, V.y, V.<name> for every entry of the state_dict (the start: parameters and buffers);
    V.train.output, V.train.loss, V.train.grad.<param>, V.train.grad.x: one forward and backward in training mode;
    V.train.1.running_mean, V.train.1.running_var: the running statistics after that forward (momentum 0.1);
    V.eval.output, V.eval.loss, V.eval.grad.<param>, V.eval.grad.x: the same from the start, in eval mode;
    V.adam3.<param>, V.adam3.1.running_mean, V.adam3.1.running_var: after 3 steps of Adam(lr=0.01) in training
      mode from the start, each step zero_grad, forward, loss, backward, step on the same batch
      (num_batches_tracked is then 5).
  And a lone BatchNorm1d(5) on three batches b1, b2, b3 [6, 5] (b2 and b3 scaled and shifted):
    cma.b1, cma.b2, cma.b3; cma.running_mean, cma.running_var: momentum=None (the cumulative average) after
      forwards of b1, b2, b3 in training mode;
    untracked.output: BatchNorm1d(5, track_running_stats=False) in eval mode on b1 (the batch's statistics);
    no_affine.output, no_affine.grad.x: BatchNorm1d(5, affine=False) in training mode on b1, and dx for dy = cma.b2.
batchnorm_state.safetensors -- exactly the 2d model's state_dict() after its 3 Adam steps, as
  safetensors.torch.save_file writes it (num_batches_tracked an I64 scalar; metadata {"format": "pt"}), with the model's
  eval-mode output on 2d.x as state.eval.output in batchnorm.safetensors.
batchnorm_state_no_count.safetensors -- that state_dict without 1.num_batches_tracked, which torch 1.13's
  load_state_dict (strict) takes from a dict without version metadata, setting the count to 0;
batchnorm_state_float_count.safetensors -- that state_dict with 1.num_batches_tracked as an F32 scalar (5.0), which
  load_state_dict takes as the count 5. Each holds, in its metadata's "loaded_num_batches_tracked", the count of a
  model (built by model("2d"), count 2) after load_state_dict of the file's tensors.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

SIZES = {"2d": ((6, 4), 4, 5, 5, 3, (6, 3)), "3d": ((4, 3, 4), 4, 6, 3, 2, (4, 3, 2))}


def model(variant):
    _, inputs, hidden, channels, outputs, _ = SIZES[variant]
    torch.manual_seed(21)
    m = nn.Sequential(nn.Linear(inputs, hidden, bias=variant != "2d"), nn.BatchNorm1d(channels), nn.ReLU(), nn.Linear(hidden, outputs))
    g = torch.Generator().manual_seed(22)
    with torch.no_grad():
        m[1].weight.copy_(torch.rand(channels, generator=g) + 0.5)
        m[1].bias.copy_(torch.rand(channels, generator=g) - 0.5)
        m[1].running_mean.copy_(torch.randn(channels, generator=g))
        m[1].running_var.copy_(torch.rand(channels, generator=g) * 1.5 + 0.5)
        m[1].num_batches_tracked.fill_(2)
    return m


def data(variant):
    x_shape, _, _, _, _, y_shape = SIZES[variant]
    g = torch.Generator().manual_seed(23)
    return torch.randn(*x_shape, generator=g) * 2 + 1, torch.randn(*y_shape, generator=g)


def run(m, x, y, prefix, tensors):
    xg = x.clone().requires_grad_(True)
    output = m(xg)
    loss = nn.MSELoss()(output, y)
    loss.backward()
    tensors[prefix + "output"] = output.detach()
    tensors[prefix + "loss"] = loss.detach()
    tensors[prefix + "grad.x"] = xg.grad.detach().clone()
    for name, p in m.named_parameters():
        tensors[prefix + "grad." + name] = p.grad.detach().clone()


def make_variant(variant, tensors):
    v = variant + "."
    x, y = data(variant)
    tensors[v + "x"] = x
    tensors[v + "y"] = y
    for name, t in model(variant).state_dict().items():
        tensors[v + name] = t.clone()

    m = model(variant).train()
    run(m, x, y, v + "train.", tensors)
    tensors[v + "train.1.running_mean"] = m[1].running_mean.clone()
    tensors[v + "train.1.running_var"] = m[1].running_var.clone()

    run(model(variant).eval(), x, y, v + "eval.", tensors)

    m = model(variant).train()
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        nn.MSELoss()(m(x), y).backward()
        opt.step()
    assert int(m[1].num_batches_tracked) == 5
    for name, p in m.named_parameters():
        tensors[v + "adam3." + name] = p.detach().clone()
    tensors[v + "adam3.1.running_mean"] = m[1].running_mean.clone()
    tensors[v + "adam3.1.running_var"] = m[1].running_var.clone()
    return m


def make_lone(tensors):
    g = torch.Generator().manual_seed(24)
    b1 = torch.randn(6, 5, generator=g)
    b2 = torch.randn(6, 5, generator=g) * 3 + 2
    b3 = torch.randn(6, 5, generator=g) * 0.5 - 1
    tensors["cma.b1"], tensors["cma.b2"], tensors["cma.b3"] = b1, b2, b3
    cma = nn.BatchNorm1d(5, momentum=None).train()
    with torch.no_grad():
        for b in (b1, b2, b3):
            cma(b)
    tensors["cma.running_mean"] = cma.running_mean.clone()
    tensors["cma.running_var"] = cma.running_var.clone()

    untracked = nn.BatchNorm1d(5, track_running_stats=False).eval()
    with torch.no_grad():
        tensors["untracked.output"] = untracked(b1)

    no_affine = nn.BatchNorm1d(5, affine=False).train()
    xg = b1.clone().requires_grad_(True)
    output = no_affine(xg)
    output.backward(b2)
    tensors["no_affine.output"] = output.detach()
    tensors["no_affine.grad.x"] = xg.grad.detach().clone()


def main():
    out = fixture_out(__doc__)
    tensors = {}
    trained = make_variant("2d", tensors)
    make_variant("3d", tensors)
    make_lone(tensors)
    state = {k: v.clone() for k, v in trained.state_dict().items()}
    assert state["1.num_batches_tracked"].dtype == torch.int64 and state["1.num_batches_tracked"].shape == ()
    with torch.no_grad():
        tensors["state.eval.output"] = trained.eval()(tensors["2d.x"])
    keys = ",".join(state)
    save_and_verify(os.path.join(out, "batchnorm.safetensors"), tensors, {"fixture": "batchnorm", "torch": torch.__version__, "keys": keys})
    save_and_verify(os.path.join(out, "batchnorm_state.safetensors"), state, {"format": "pt"})
    variants = {
        "no_count": {k: v for k, v in state.items() if k != "1.num_batches_tracked"},
        "float_count": {**state, "1.num_batches_tracked": state["1.num_batches_tracked"].float()},
    }
    for name, variant_state in variants.items():
        loaded = model("2d")
        loaded.load_state_dict(variant_state, strict=True)
        count = str(int(loaded[1].num_batches_tracked))
        save_and_verify(os.path.join(out, f"batchnorm_state_{name}.safetensors"), variant_state, {"format": "pt", "loaded_num_batches_tracked": count})


if __name__ == "__main__":
    main()
