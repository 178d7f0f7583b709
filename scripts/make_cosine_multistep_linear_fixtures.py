#!/usr/bin/python3
"""PyTorch 1.13 reference fixture for Tensorlet's CosineAnnealingLR, MultiStepLR and LinearLR.

Run:  /usr/bin/python3 scripts/make_cosine_multistep_linear_fixtures.py [--out DIR]

Same protocol as make_schedule_group_fixtures.py: F64 learning rates (torch computes them in Python floats), metadata
as strings, so a rerun rewrites the same bytes. It writes only its own file. Each schedule runs over an SGD of two
parameter groups whose rates are float32's 0.1 and 0.01 (0.10000000149011612 and 0.009999999776482582), so that
torch starts from the doubles Tensorlet's float rates are, and is stepped by torch's step(), the chainable get_lr.

cosine_multistep_linear.safetensors -- each tensor [E, 2]: row 0 each group's lr when the schedule is made, row e
after e steps:
  cosine              CosineAnnealingLR(T_max=10, eta_min=0.001), E = 46: down to eta_min at 10 and 30, back up to
                      the base at 20 and 40
  cosine_tmax1        CosineAnnealingLR(T_max=1), E = 8: 0 and the base in turn
  multistep           MultiStepLR(milestones=[12, 3, 7, 7], gamma=0.3), E = 16: unsorted, 7 twice (gamma ** 2)
  linear              LinearLR(start_factor=0.25, end_factor=0.9, total_iters=6), E = 12
  linear_default      LinearLR() (1/3, 1, 5), E = 10
  linear_after_exponential
                      ExponentialLR(gamma=0.9) made and stepped twice alone, then LinearLR(start_factor=0.5,
                      total_iters=4) made (row 0: it scales the lr the optimizer has then, 0.081, not the initial 0.1)
                      and both stepped each epoch, the ExponentialLR first, E = 9
"""
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

BASES = tuple(float(torch.tensor(r, dtype=torch.float32)) for r in (0.1, 0.01))
S = torch.optim.lr_scheduler


def two_groups():
    """An SGD over two groups, at the float32 rates BASES."""
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in BASES], lr=BASES[0])


def rows(opt, schedulers, epochs):
    """Each group's lr now, then after each of epochs - 1 steps of every scheduler in order."""
    table = [[g["lr"] for g in opt.param_groups]]
    for _ in range(epochs - 1):
        opt.step()
        for schedule in schedulers:
            schedule.step()
        table.append([g["lr"] for g in opt.param_groups])
    return torch.tensor(table, dtype=torch.float64)


def single(make, epochs):
    opt = two_groups()
    return rows(opt, [make(opt)], epochs)


def linear_after_exponential():
    opt = two_groups()
    exponential = S.ExponentialLR(opt, gamma=0.9)
    rows(opt, [exponential], 3)
    return rows(opt, [exponential, S.LinearLR(opt, start_factor=0.5, total_iters=4)], 9)


def main():
    out = fixture_out(__doc__)
    warnings.filterwarnings("ignore", message="Detected call of")
    tensors = {
        "cosine": single(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 46),
        "cosine_tmax1": single(lambda o: S.CosineAnnealingLR(o, T_max=1), 8),
        "multistep": single(lambda o: S.MultiStepLR(o, milestones=[12, 3, 7, 7], gamma=0.3), 16),
        "linear": single(lambda o: S.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=6), 12),
        "linear_default": single(lambda o: S.LinearLR(o), 10),
        "linear_after_exponential": linear_after_exponential(),
    }
    cosine = tensors["cosine"][:, 0]
    assert cosine[10] < cosine[9] and cosine[11] > cosine[10] and abs(cosine[20] - BASES[0]) < 1e-12, "down to eta_min at T_max, up again past it"
    assert tensors["multistep"][7, 0] == tensors["multistep"][6, 0] * 0.3 ** 2, "a repeated milestone decays twice"
    assert tensors["linear_after_exponential"][0, 0] == BASES[0] * 0.9 * 0.9 * 0.5, "epoch 0 scales the rate the optimizer has"
    save_and_verify(os.path.join(out, "cosine_multistep_linear.safetensors"), tensors, {"fixture": "cosine_multistep_linear", "torch": torch.__version__})


if __name__ == "__main__":
    main()
