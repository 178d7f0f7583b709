#!/usr/bin/python3
"""PyTorch 1.13 reference fixture for Tensorlet's learning-rate schedules over parameter groups.

Run:  /usr/bin/python3 scripts/make_schedule_group_fixtures.py [--out DIR]

Same protocol as make_module_fixtures.py: F64 learning rates (torch computes them in Python floats), metadata as
strings, so a rerun rewrites the same bytes. It writes only its own file.

schedule_groups.safetensors -- an Adam over two groups, of lr 0.1 and 0.01:
  lambda_groups [6, 2]  LambdaLR(f), f(e) = 0.5 * 0.9**e: each group's lr when made (row 0) and after each of 5 steps
  resume_* [2]          a run under LambdaLR(cosine to 0 over 10 steps) stopped after 5 steps, its optimizer's
                        state_dict loaded into a new Adam of the same groups, and a new LambdaLR made on it replaying
                        the 5 steps: each group's lr (resume_loaded_lr) and initial_lr (resume_loaded_initial_lr) after
                        the load, its lr after the replay (resume_replayed_lr), and the run's own lr (uninterrupted_lr)
"""
import math
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

BASES = (0.1, 0.01)


def two_groups():
    """An Adam over two groups of a Linear(2, 2), the weight at lr 0.1 and the bias at lr 0.01."""
    model = torch.nn.Linear(2, 2)
    return torch.optim.Adam([{"params": [model.weight], "lr": BASES[0]}, {"params": [model.bias], "lr": BASES[1]}])


def lrs(opt):
    return [g["lr"] for g in opt.param_groups]


def lambda_groups():
    opt = two_groups()
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.5 * 0.9 ** e)
    rows = [lrs(opt)]
    for _ in range(5):
        opt.step()
        schedule.step()
        rows.append(lrs(opt))
    return torch.tensor(rows, dtype=torch.float64)


def cosine(e):
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * e / 10)))


def resume():
    opt = two_groups()
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, cosine)
    for _ in range(5):
        opt.step()
        schedule.step()
    resumed = two_groups()
    resumed.load_state_dict(opt.state_dict())
    loaded, initial = lrs(resumed), [g["initial_lr"] for g in resumed.param_groups]
    replay = torch.optim.lr_scheduler.LambdaLR(resumed, cosine)
    for _ in range(5):
        replay.step()
    rates = {"resume_loaded_lr": loaded, "resume_loaded_initial_lr": initial, "resume_replayed_lr": lrs(resumed), "uninterrupted_lr": lrs(opt)}
    return {k: torch.tensor(v, dtype=torch.float64) for k, v in rates.items()}


def main():
    out = fixture_out(__doc__)
    warnings.filterwarnings("ignore", message="Detected call of")  # schedules stepped without optimizer steps
    tensors = {"lambda_groups": lambda_groups(), **resume()}
    assert torch.allclose(tensors["lambda_groups"][0], torch.tensor([0.05, 0.005], dtype=torch.float64)), "half of each base"
    assert torch.equal(tensors["resume_replayed_lr"], tensors["uninterrupted_lr"]), "the replay from initial_lr ends where the run did"
    save_and_verify(os.path.join(out, "schedule_groups.safetensors"), tensors, {"fixture": "schedule_groups", "torch": torch.__version__})


if __name__ == "__main__":
    main()
