#!/usr/bin/python3
"""PyTorch 1.13 reference fixture for Tensorlet's optimizers over parameter groups (torch's param_groups).

Run:  /usr/bin/python3 scripts/make_param_group_fixtures.py [--out DIR]

Same protocol as make_module_fixtures.py (whose regression MLP it trains): F32 row-major tensors, metadata as
strings, everything on the CPU in float32 with fixed seeds, so a rerun rewrites the same bytes. It writes only its
own file.

modules_param_groups.safetensors -- 0: Linear(3, 4) 1: Sigmoid 2: Linear(4, 4) 3: Tanh 4: Linear(4, 2) on x [5,3]
  against y [5,2], MSELoss (mean). Two groups, the weights (group 0) and the biases (group 1), which alternate in the
  parameter order. Tensors: x, y, every parameter as initialised, and after 3 steps from it:
  adamw_groups3.<param>  AdamW([weights, biases with lr=0.03, weight_decay=0], lr=0.01, weight_decay=0.1)
  sgd_groups3.<param>    SGD([weights with weight_decay=0.01, biases with lr=0.2, momentum=0.5], lr=0.05, momentum=0.9)
  adam_steplr3.<param>   Adam([weights, biases with lr=0.03], lr=0.01) under StepLR(step_size=1, gamma=0.5), stepped
                         after every optimizer step; adam_steplr_lrs [2] the groups' learning rates after the 3 steps
  each step: zero_grad, forward, loss, backward, step on the same batch.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_module_fixtures import regression  # noqa: E402
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402


def groups(model, weights=None, biases=None):
    """The weights, then the biases, each group a dict of torch's param_groups with its overrides."""
    named = list(model.named_parameters())
    return [
        {"params": [p for n, p in named if n.endswith("weight")], **(weights or {})},
        {"params": [p for n, p in named if n.endswith("bias")], **(biases or {})},
    ]


def grouped_trajectory(state, x, y, make_optimizer, make_schedule=None, before_step=None):
    model = regression()
    model.load_state_dict(state)
    opt = make_optimizer(model)
    schedule = make_schedule(opt) if make_schedule else None
    mse = nn.MSELoss()
    for _ in range(3):
        opt.zero_grad()
        mse(model(x), y).backward()
        if before_step:
            before_step(model)
        opt.step()
        if schedule:
            schedule.step()
    return {name: p.detach().clone() for name, p in model.named_parameters()}, [g["lr"] for g in opt.param_groups]


def make_param_groups(out_dir):
    model = regression()
    g = torch.Generator().manual_seed(4)
    x = torch.randn(5, 3, generator=g)
    y = torch.randn(5, 2, generator=g)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    tensors = {"x": x, "y": y, **state}
    runs = {
        "adamw_groups3": (lambda m: torch.optim.AdamW(groups(m, biases={"lr": 0.03, "weight_decay": 0.0}), lr=0.01, weight_decay=0.1), None),
        "sgd_groups3": (lambda m: torch.optim.SGD(groups(m, weights={"weight_decay": 0.01}, biases={"lr": 0.2, "momentum": 0.5}), lr=0.05, momentum=0.9), None),
        "adam_steplr3": (lambda m: torch.optim.Adam(groups(m, biases={"lr": 0.03}), lr=0.01),
                         lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)),
    }
    for key, (make_optimizer, make_schedule) in runs.items():
        params, lrs = grouped_trajectory(state, x, y, make_optimizer, make_schedule)
        for name, value in params.items():
            tensors[f"{key}.{name}"] = value
        if make_schedule:
            tensors["adam_steplr_lrs"] = torch.tensor(lrs, dtype=torch.float32)
    assert torch.allclose(tensors["adam_steplr_lrs"], torch.tensor([0.01 / 8, 0.03 / 8])), "each group from its own base"

    meta = {"fixture": "modules_param_groups", "torch": torch.__version__}
    save_and_verify(os.path.join(out_dir, "modules_param_groups.safetensors"), tensors, meta)


if __name__ == "__main__":
    out = fixture_out(__doc__)
    make_param_groups(out)
