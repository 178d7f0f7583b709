#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's MaxPool2d, AvgPool2d, AdaptiveMaxPool2d, AdaptiveAvgPool2d and
BatchNorm2d.

Run:  /usr/bin/python3 scripts/make_pool2d_fixtures.py [--out DIR]

Uses the hand-written safetensors writer of make_torch_fixtures.py (F32 row-major, metadata as strings) and the
pooling record of make_pool1d_fixtures.py. Everything runs on the CPU in float32 with fixed seeds, so a rerun rewrites
the same bytes. Writes only the file below.

pool2d.safetensors --
  Poolings, each alone on x [2, 3, H, W] and dy [2, 3, H_out, W_out] drawn after it, under its prefix V:
    max_square.        nn.MaxPool2d(3, stride=2, padding=1) on 9 × 8;
    max_rect.          nn.MaxPool2d((2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1)) on 7 × 9;
    max_ceil.          nn.MaxPool2d((3, 2), stride=2, ceil_mode=True) on 8 × 7 (last windows past the end);
    avg_square.        nn.AvgPool2d(3, stride=2, padding=1) on 9 × 8;
    avg_rect_no_count. nn.AvgPool2d((2, 4), stride=(2, 3), padding=(1, 2), count_include_pad=False) on 7 × 10;
    avg_ceil.          nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True) on 8 × 10 (a divisor below 9);
    avg_ceil_no_count. nn.AvgPool2d((3, 2), stride=(2, 3), padding=1, ceil_mode=True, count_include_pad=False) on 8 × 10;
    adaptive_max.      nn.AdaptiveMaxPool2d((3, 4)) on 8 × 10 (overlapping windows along both axes);
    adaptive_avg.      nn.AdaptiveAvgPool2d((4, 3)) on 7 × 11;
    global_max.        nn.AdaptiveMaxPool2d(1) on 5 × 6;
    global_avg.        nn.AdaptiveAvgPool2d(1) on 5 × 6;
    nan_max.           nn.MaxPool2d(2, stride=1) on 4 × 5 holding NaNs (one window two of them).
  Tensors, for each V: V.x, V.dy, V.output, V.grad.x (x's gradient of sum(output·dy)).
  BatchNorm2d(3) on x [4, 3, 5, 6] (×2 + 1) and dy of its shape, its weight and bias drawn from U(0.5, 1.5) and
  U(-0.5, 0.5), its running_mean from N(0, 1) and running_var from U(0.5, 2), num_batches_tracked set to 2:
    bn.x, bn.dy, bn.<name> for every entry of its state_dict (the start);
    bn.train.output, bn.train.grad.x, bn.train.grad.weight, bn.train.grad.bias: one forward of x and backward of
      sum(output·dy) in training mode from the start; bn.train.running_mean, bn.train.running_var after it;
    bn.eval.output, bn.eval.grad.x, bn.eval.grad.weight, bn.eval.grad.bias: the same from the start in eval mode;
    bn.cma.x2, bn.cma.running_mean, bn.cma.running_var, bn.cma.output, bn.cma.grad.x: BatchNorm2d(3, momentum=None,
      affine=False) in training mode on x then on x2 [2, 3, 4, 4] (the cumulative average), output and dx (for dy =
      x2 reversed) of the second;
    bn.untracked.output: BatchNorm2d(3, track_running_stats=False) in eval mode on x (the batch's statistics).
  Metadata "bn_keys": the BatchNorm2d's state_dict keys in order.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_pool1d_fixtures import record_pooling  # noqa: E402
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

# variant: (the pooling, H, W)
VARIANTS = {
    "max_square": (lambda: nn.MaxPool2d(3, stride=2, padding=1), 9, 8),
    "max_rect": (lambda: nn.MaxPool2d((2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1)), 7, 9),
    "max_ceil": (lambda: nn.MaxPool2d((3, 2), stride=2, ceil_mode=True), 8, 7),
    "avg_square": (lambda: nn.AvgPool2d(3, stride=2, padding=1), 9, 8),
    "avg_rect_no_count": (lambda: nn.AvgPool2d((2, 4), stride=(2, 3), padding=(1, 2), count_include_pad=False), 7, 10),
    "avg_ceil": (lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), 8, 10),
    "avg_ceil_no_count": (lambda: nn.AvgPool2d((3, 2), stride=(2, 3), padding=1, ceil_mode=True, count_include_pad=False), 8, 10),
    "adaptive_max": (lambda: nn.AdaptiveMaxPool2d((3, 4)), 8, 10),
    "adaptive_avg": (lambda: nn.AdaptiveAvgPool2d((4, 3)), 7, 11),
    "global_max": (lambda: nn.AdaptiveMaxPool2d(1), 5, 6),
    "global_avg": (lambda: nn.AdaptiveAvgPool2d(1), 5, 6),
}


def make_variant(variant, tensors):
    pool, height, width = VARIANTS[variant]
    g = torch.Generator().manual_seed(41)
    x = torch.randn(2, 3, height, width, generator=g)
    record_pooling(pool(), x, g, variant + ".", tensors)


def make_nan(tensors):
    g = torch.Generator().manual_seed(42)
    x = torch.randn(2, 3, 4, 5, generator=g)
    x[0, 0, 1, 1] = float("nan")
    x[0, 0, 1, 2] = float("nan")
    x[1, 2, 3, 4] = float("nan")
    output = record_pooling(nn.MaxPool2d(2, stride=1), x, g, "nan_max.", tensors)
    assert torch.isnan(output).any()


def batch_norm():
    bn = nn.BatchNorm2d(3)
    g = torch.Generator().manual_seed(43)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(3, generator=g) + 0.5)
        bn.bias.copy_(torch.rand(3, generator=g) - 0.5)
        bn.running_mean.copy_(torch.randn(3, generator=g))
        bn.running_var.copy_(torch.rand(3, generator=g) * 1.5 + 0.5)
        bn.num_batches_tracked.fill_(2)
    return bn


def run(bn, x, dy, prefix, tensors):
    xg = x.clone().requires_grad_(True)
    output = bn(xg)
    output.backward(dy)
    tensors[prefix + "output"] = output.detach()
    tensors[prefix + "grad.x"] = xg.grad.detach().clone()
    for name, p in bn.named_parameters():
        tensors[prefix + "grad." + name] = p.grad.detach().clone()


def make_batch_norm(tensors):
    g = torch.Generator().manual_seed(44)
    x = torch.randn(4, 3, 5, 6, generator=g) * 2 + 1
    dy = torch.randn(4, 3, 5, 6, generator=g)
    tensors["bn.x"], tensors["bn.dy"] = x, dy
    for name, t in batch_norm().state_dict().items():
        tensors["bn." + name] = t.clone()

    bn = batch_norm().train()
    run(bn, x, dy, "bn.train.", tensors)
    tensors["bn.train.running_mean"] = bn.running_mean.clone()
    tensors["bn.train.running_var"] = bn.running_var.clone()
    run(batch_norm().eval(), x, dy, "bn.eval.", tensors)

    x2 = torch.randn(2, 3, 4, 4, generator=g) * 3 - 2
    tensors["bn.cma.x2"] = x2
    cma = nn.BatchNorm2d(3, momentum=None, affine=False).train()
    with torch.no_grad():
        cma(x)
    run(cma, x2, x2.flip(-1), "bn.cma.", tensors)
    tensors["bn.cma.running_mean"] = cma.running_mean.clone()
    tensors["bn.cma.running_var"] = cma.running_var.clone()

    untracked = nn.BatchNorm2d(3, track_running_stats=False).eval()
    with torch.no_grad():
        tensors["bn.untracked.output"] = untracked(x)
    return ",".join(batch_norm().state_dict())


def main():
    out = fixture_out(__doc__)
    tensors = {}
    for variant in VARIANTS:
        make_variant(variant, tensors)
    make_nan(tensors)
    keys = make_batch_norm(tensors)
    save_and_verify(os.path.join(out, "pool2d.safetensors"), tensors, {"fixture": "pool2d", "torch": torch.__version__, "bn_keys": keys})


if __name__ == "__main__":
    main()
