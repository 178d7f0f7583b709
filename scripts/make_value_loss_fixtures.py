#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's losses over values: L1Loss, SmoothL1Loss, HuberLoss, BCEWithLogitsLoss.

Run:  /usr/bin/python3 scripts/make_value_loss_fixtures.py [--out DIR]

Uses the hand-written safetensors writer of make_torch_fixtures.py. Every value is written out by hand in float32, so
a rerun rewrites the same bytes. Writes value_losses.safetensors:

  reg.x, reg.y        prediction and target [4, 3], y in [0, 1]; d = x - y is exact and takes 0, ±0.25, ±0.5, ±1,
                      1.5, ±2 and -3: the kinks of the L1 loss (0) and of the smooth L1 and Huber losses at β = δ = 0.5
                      and 1 (±β, ±δ), and either side of them.
  C.mean, C.sum       the loss (reduction mean or sum) of reg.x against reg.y, [] each, for each case C:
                      l1 (nn.L1Loss), smooth_l1 (beta 1, the default), smooth_l1.beta0.5, smooth_l1.beta0,
                      huber (delta 1, the default), huber.delta0.5.
  C.grad_mean, C.grad_sum   their gradients with respect to the prediction, [4, 3].
  bce.x               logits [4, 3]: ±1e30, ±100, ±88, 0, and moderate values.
  bce.y               targets [4, 3] in [0, 1]: 0, 1, and probabilities between.
  bce.pos_weight      [3], one weight per class of the last dimension.
  C.mean, C.sum, C.grad_mean, C.grad_sum   as above for C = bce (nn.BCEWithLogitsLoss()) and bce.pos_weight
                      (nn.BCEWithLogitsLoss(pos_weight=bce.pos_weight)).
  bce.pos_weight1     [1], one weight for every class; C.mean, ... for C = bce.pos_weight1
                      (nn.BCEWithLogitsLoss(pos_weight=bce.pos_weight1)).
  bce_rows.x, bce_rows.y   rows 1 to 3 of bce.x and bce.y [3, 3], without the ±1e30 that outweigh every other term
                      of a sum; C.mean, ... for C = bce_rows and bce_rows.pos_weight (with bce.pos_weight).
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

REG_Y = [[0.25, 0.5, 0.75], [1.0, 0.0, 0.125], [0.375, 0.625, 0.875], [0.5, 0.25, 1.0]]
REG_D = [[0.0, 0.5, -0.5], [1.0, -1.0, 0.25], [-0.25, 2.0, -2.0], [1.5, -3.0, 0.0]]

BCE_X = [[1e30, -1e30, 0.0], [100.0, -100.0, 88.0], [-88.0, 2.5, -0.75], [0.3, -4.0, 12.0]]
BCE_Y = [[0.0, 1.0, 0.5], [1.0, 0.0, 0.3], [1.0, 0.25, 0.0], [0.7, 1.0, 0.9]]
BCE_POS_WEIGHT = [0.5, 2.0, 3.0]
BCE_POS_WEIGHT_ALL = 2.5


def record(tensors, case, make_loss, x, y):
    for reduction in ("mean", "sum"):
        xg = x.clone().requires_grad_(True)
        value = make_loss(reduction)(xg, y)
        value.backward()
        tensors[case + "." + reduction] = value.detach()
        tensors[case + ".grad_" + reduction] = xg.grad.detach().clone()


def main():
    out = fixture_out(__doc__)
    tensors = {}
    y = torch.tensor(REG_Y, dtype=torch.float32)
    x = y + torch.tensor(REG_D, dtype=torch.float32)
    tensors["reg.x"] = x
    tensors["reg.y"] = y
    record(tensors, "l1", lambda r: nn.L1Loss(reduction=r), x, y)
    record(tensors, "smooth_l1", lambda r: nn.SmoothL1Loss(reduction=r), x, y)
    record(tensors, "smooth_l1.beta0.5", lambda r: nn.SmoothL1Loss(reduction=r, beta=0.5), x, y)
    record(tensors, "smooth_l1.beta0", lambda r: nn.SmoothL1Loss(reduction=r, beta=0.0), x, y)
    record(tensors, "huber", lambda r: nn.HuberLoss(reduction=r), x, y)
    record(tensors, "huber.delta0.5", lambda r: nn.HuberLoss(reduction=r, delta=0.5), x, y)

    logits = torch.tensor(BCE_X, dtype=torch.float32)
    targets = torch.tensor(BCE_Y, dtype=torch.float32)
    pos_weight = torch.tensor(BCE_POS_WEIGHT, dtype=torch.float32)
    tensors["bce.x"] = logits
    tensors["bce.y"] = targets
    tensors["bce.pos_weight"] = pos_weight
    record(tensors, "bce", lambda r: nn.BCEWithLogitsLoss(reduction=r), logits, targets)
    record(tensors, "bce.pos_weight", lambda r: nn.BCEWithLogitsLoss(reduction=r, pos_weight=pos_weight), logits, targets)
    pos_weight1 = torch.tensor([BCE_POS_WEIGHT_ALL], dtype=torch.float32)
    tensors["bce.pos_weight1"] = pos_weight1
    record(tensors, "bce.pos_weight1", lambda r: nn.BCEWithLogitsLoss(reduction=r, pos_weight=pos_weight1), logits, targets)
    tensors["bce_rows.x"] = logits[1:].clone()
    tensors["bce_rows.y"] = targets[1:].clone()
    record(tensors, "bce_rows", lambda r: nn.BCEWithLogitsLoss(reduction=r), logits[1:], targets[1:])
    record(tensors, "bce_rows.pos_weight", lambda r: nn.BCEWithLogitsLoss(reduction=r, pos_weight=pos_weight), logits[1:], targets[1:])
    save_and_verify(os.path.join(out, "value_losses.safetensors"), tensors, {"fixture": "value_losses", "torch": torch.__version__})


if __name__ == "__main__":
    main()
