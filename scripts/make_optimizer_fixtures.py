#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's RMSprop, Adam's amsgrad and its optimizers' per-group settings (amsgrad and centered among them).

Run:  /usr/bin/python3 scripts/make_optimizer_fixtures.py [--out DIR]

Same protocol and model as make_param_group_fixtures.py (the regression MLP of make_module_fixtures.py, its two
groups of weights (group 0) and biases (group 1), which alternate in the parameter order): F32 row-major tensors,
metadata as strings, everything on the CPU in float32 with fixed seeds, so a rerun rewrites the same bytes. It writes
only its own files. Each file holds x [5,3], y [5,2], every parameter as initialised, and after 3 steps from it
(zero_grad, forward, MSELoss, backward, step on the same batch):

modules_group_betas.safetensors -- Adam and AdamW with betas and eps per group:
  adam_betas3.<param>   Adam([weights, biases with betas=(0.5, 0.9), eps=1e-3], lr=0.01)
  adamw_betas3.<param>  AdamW([weights with eps=1e-4, biases with betas=(0.8, 0.99), weight_decay=0], lr=0.02,
                        betas=(0.85, 0.995), weight_decay=0.1)

modules_rmsprop.safetensors -- torch.optim.RMSprop, over every parameter unless it says groups:
  rmsprop3.<param>           RMSprop(lr=0.01)
  rmsprop_momentum3.<param>  RMSprop(lr=0.01, momentum=0.9)
  rmsprop_centered3.<param>  RMSprop(lr=0.01, centered=True)
  rmsprop_wd3.<param>        RMSprop(lr=0.01, weight_decay=0.1)
  rmsprop_all3.<param>       RMSprop(lr=0.005, alpha=0.95, eps=1e-6, weight_decay=0.05, momentum=0.8, centered=True)
  rmsprop_groups3.<param>    RMSprop([weights, biases with lr=0.03, momentum=0.5, alpha=0.9, eps=1e-4], lr=0.01)
  rmsprop_clip3.<param>      RMSprop(lr=0.01, momentum=0.9), the gradients clipped by clip_grad_norm_(max_norm=0.1)
                             before each step

modules_amsgrad.safetensors -- Adam and AdamW with amsgrad; β2 is low and lr high so that the second moment falls
below its running maximum within the 3 steps, and the maximum changes every parameter:
  adam_amsgrad3.<param>   Adam(lr=0.05, betas=(0.9, 0.6), weight_decay=0.05, amsgrad=True)
  adamw_amsgrad3.<param>  AdamW(lr=0.05, betas=(0.8, 0.7), weight_decay=0.1, amsgrad=True)

modules_group_flags.safetensors -- amsgrad and centered per group, with the settings of modules_amsgrad so that the
maximum matters within the 3 steps:
  adam_amsgrad_groups3.<param>      Adam([weights, biases with amsgrad=True], lr=0.05, betas=(0.9, 0.6),
                                    weight_decay=0.05)
  adamw_amsgrad_groups3.<param>     AdamW([weights, biases with amsgrad=False], lr=0.05, betas=(0.8, 0.7),
                                    weight_decay=0.1, amsgrad=True)
  rmsprop_centered_groups3.<param>  RMSprop([weights with centered=True, biases], lr=0.01, weight_decay=0.1,
                                    momentum=0.5)
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_module_fixtures import regression  # noqa: E402
from make_param_group_fixtures import grouped_trajectory, groups  # noqa: E402
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402


def write_runs(out_dir, fixture, runs):
    """x, y, the initial parameters and each run's parameters after 3 steps, to fixture.safetensors.

    runs maps a run's name to a function of the model that makes its optimizer, or to a pair of that function and a
    function of the model called between backward and step (gradient clipping)."""
    model = regression()
    g = torch.Generator().manual_seed(4)
    x = torch.randn(5, 3, generator=g)
    y = torch.randn(5, 2, generator=g)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    tensors = {"x": x, "y": y, **state}
    for key, run in runs.items():
        make_optimizer, before_step = run if isinstance(run, tuple) else (run, None)
        params, _ = grouped_trajectory(state, x, y, make_optimizer, before_step=before_step)
        for name, value in params.items():
            tensors[f"{key}.{name}"] = value
    meta = {"fixture": fixture, "torch": torch.__version__}
    save_and_verify(os.path.join(out_dir, fixture + ".safetensors"), tensors, meta)


def make_group_betas(out_dir):
    write_runs(out_dir, "modules_group_betas", {
        "adam_betas3": lambda m: torch.optim.Adam(groups(m, biases={"betas": (0.5, 0.9), "eps": 1e-3}), lr=0.01),
        "adamw_betas3": lambda m: torch.optim.AdamW(
            groups(m, weights={"eps": 1e-4}, biases={"betas": (0.8, 0.99), "weight_decay": 0.0}),
            lr=0.02, betas=(0.85, 0.995), weight_decay=0.1),
    })


def make_rmsprop(out_dir):
    rmsprop = torch.optim.RMSprop
    write_runs(out_dir, "modules_rmsprop", {
        "rmsprop3": lambda m: rmsprop(m.parameters(), lr=0.01),
        "rmsprop_momentum3": lambda m: rmsprop(m.parameters(), lr=0.01, momentum=0.9),
        "rmsprop_centered3": lambda m: rmsprop(m.parameters(), lr=0.01, centered=True),
        "rmsprop_wd3": lambda m: rmsprop(m.parameters(), lr=0.01, weight_decay=0.1),
        "rmsprop_all3": lambda m: rmsprop(m.parameters(), lr=0.005, alpha=0.95, eps=1e-6, weight_decay=0.05, momentum=0.8, centered=True),
        "rmsprop_groups3": lambda m: rmsprop(groups(m, biases={"lr": 0.03, "momentum": 0.5, "alpha": 0.9, "eps": 1e-4}), lr=0.01),
        "rmsprop_clip3": (lambda m: rmsprop(m.parameters(), lr=0.01, momentum=0.9),
                          lambda m: torch.nn.utils.clip_grad_norm_(m.parameters(), max_norm=0.1)),
    })


def make_amsgrad(out_dir):
    write_runs(out_dir, "modules_amsgrad", {
        "adam_amsgrad3": lambda m: torch.optim.Adam(m.parameters(), lr=0.05, betas=(0.9, 0.6), weight_decay=0.05, amsgrad=True),
        "adamw_amsgrad3": lambda m: torch.optim.AdamW(m.parameters(), lr=0.05, betas=(0.8, 0.7), weight_decay=0.1, amsgrad=True),
    })


def make_group_flags(out_dir):
    write_runs(out_dir, "modules_group_flags", {
        "adam_amsgrad_groups3": lambda m: torch.optim.Adam(groups(m, biases={"amsgrad": True}), lr=0.05, betas=(0.9, 0.6), weight_decay=0.05),
        "adamw_amsgrad_groups3": lambda m: torch.optim.AdamW(
            groups(m, biases={"amsgrad": False}), lr=0.05, betas=(0.8, 0.7), weight_decay=0.1, amsgrad=True),
        "rmsprop_centered_groups3": lambda m: torch.optim.RMSprop(
            groups(m, weights={"centered": True}), lr=0.01, weight_decay=0.1, momentum=0.5),
    })


if __name__ == "__main__":
    out = fixture_out(__doc__)
    make_group_betas(out)
    make_rmsprop(out)
    make_amsgrad(out)
    make_group_flags(out)
