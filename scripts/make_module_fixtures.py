#!/usr/bin/python3
"""PyTorch 1.13 reference fixtures for Tensorlet's modules, losses, optimizers and schedules.

Run:  /usr/bin/python3 scripts/make_module_fixtures.py [--out DIR]

Uses the hand-written safetensors reader/writer of make_torch_fixtures.py (same protocol: F32
row-major tensors, I64 indices, metadata as strings). Everything runs on the CPU in float32 with
fixed seeds, so a rerun rewrites the same bytes.

modules_classifier.safetensors -- a sequence classifier as Tensorlet's Sequential names it:
  0: Embedding(11, 4)  1: LSTM(4, 5, num_layers=2)  2: the last step (x[-1:])  3: Linear(5, 6)
  4: ReLU  5: Linear(6, 7); time-major input [T=4, B=3], targets [B] with one ignore_index (-100).
  Loss: CrossEntropyLoss(ignore_index=-100), mean. Tensors: inputs [4,3] I64, targets [3] I64,
  every parameter, logits [1,3,7], loss [], loss_sum [] (reduction="sum"), grad.<param>,
  sgd_nesterov3.<param>  after 3 steps of SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
  sgd_dampening3.<param> after 3 steps of SGD(lr=0.1, momentum=0.8, dampening=0.3)
  adamw3.<param>         after 3 steps of AdamW(lr=0.01, weight_decay=0.1)
  each from the initial parameters, each step: zero_grad, forward, loss, backward, step on the same batch.
modules_classifier_state.safetensors -- exactly model.state_dict() of that classifier, as
  safetensors.torch.save_file writes it (metadata {"format": "pt"}).
modules_regression.safetensors -- 0: Linear(3, 4) 1: Sigmoid 2: Linear(4, 4) 3: Tanh 4: Linear(4, 2)
  on x [5,3] against y [5,2], MSELoss (mean). Tensors: x, y, parameters, prediction [5,2], loss,
  loss_sum (reduction="sum"), grad.<param>, sgd3.<param> (SGD(lr=0.05, weight_decay=0.01), no momentum).
modules_no_bias.safetensors -- 0: Linear(3, 5, bias=False) 1: Tanh 2: Linear(5, 2, bias=False) on x [6,3]
  against y [6,2], MSELoss (mean). Tensors: x, y, parameters (weights only), prediction [6,2], loss, grad.<param>,
  adam3.<param> (Adam(lr=0.01)).
modules_gelu.safetensors -- nn.GELU(approximate="none") and nn.GELU(approximate="tanh") on x [3,5,7] (randn * 4, with
  0, -0, +-1e-3, +-5, +-10, +-30 and +-100 written over its first elements) and the output gradient dy [3,5,7] (randn).
  Tensors: x, dy, and for each approximate A in (none, tanh): A.y [3,5,7] the output, A.dx [3,5,7] the input gradient.
schedules.safetensors -- learning rates from base 0.1 over 12 epochs (index 0 = before any step):
  step_lr (StepLR(step_size=3, gamma=0.5)), exponential_lr (ExponentialLR(gamma=0.9)),
  warmup_cosine (LambdaLR, lr·e/3 for e < 3, then ½(1 + cos(π(e − 3)/(10 − 3))) floored at 0),
  plateau (ReduceLROnPlateau(factor=0.5, patience=1, cooldown=1) stepped with plateau_metric [12]),
  chained (StepLR(step_size=2, gamma=0.5) and ExponentialLR(gamma=0.9) on one optimizer, both stepped every epoch),
  step_lr_set_by_hand (StepLR(step_size=3, gamma=0.5), the optimizer's lr set to 0.02 before the fifth step).
"""
import math
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402


class LastStep(nn.Module):
    def forward(self, x):
        return x[-1:]


def classifier():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Embedding(11, 4), nn.LSTM(4, 5, 2), LastStep(), nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 7))
    return model


def run_classifier(model, x):
    h = model[0](x)
    h = model[1](h)[0]
    for m in list(model)[2:]:
        h = m(h)
    return h


def trajectory(make_model, state, forward_loss, make_optimizer):
    model = make_model()
    model.load_state_dict(state)
    opt = make_optimizer(model.parameters())
    for _ in range(3):
        opt.zero_grad()
        forward_loss(model).backward()
        opt.step()
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def make_classifier(out_dir):
    model = classifier()
    g = torch.Generator().manual_seed(2)
    inputs = torch.randint(0, 11, (4, 3), generator=g)
    targets = torch.tensor([3, -100, 6])
    ce = nn.CrossEntropyLoss()

    def forward_loss(m):
        return ce(run_classifier(m, inputs).reshape(-1, 7), targets)

    state = {k: v.clone() for k, v in model.state_dict().items()}
    logits = run_classifier(model, inputs)
    loss = ce(logits.reshape(-1, 7), targets)
    loss_sum = nn.CrossEntropyLoss(reduction="sum")(logits.reshape(-1, 7), targets)
    model.zero_grad()
    loss.backward()
    tensors = {"inputs": inputs, "targets": targets, "logits": logits.detach(), "loss": loss.detach(), "loss_sum": loss_sum.detach()}
    for name, p in model.named_parameters():
        tensors[name] = state[name]
        tensors["grad." + name] = p.grad.detach().clone()
    runs = {
        "sgd_nesterov3": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        "sgd_dampening3": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.8, dampening=0.3),
        "adamw3": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    }
    for key, make in runs.items():
        for name, value in trajectory(classifier, state, forward_loss, make).items():
            tensors[f"{key}.{name}"] = value
    meta = {"fixture": "modules_classifier", "torch": torch.__version__}
    save_and_verify(os.path.join(out_dir, "modules_classifier.safetensors"), tensors, meta)
    save_and_verify(os.path.join(out_dir, "modules_classifier_state.safetensors"), state, {"format": "pt"})


def regression():
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))


def make_regression(out_dir):
    model = regression()
    g = torch.Generator().manual_seed(4)
    x = torch.randn(5, 3, generator=g)
    y = torch.randn(5, 2, generator=g)
    mse = nn.MSELoss()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    prediction = model(x)
    loss = mse(prediction, y)
    loss_sum = nn.MSELoss(reduction="sum")(prediction, y)
    model.zero_grad()
    loss.backward()
    tensors = {"x": x, "y": y, "prediction": prediction.detach(), "loss": loss.detach(), "loss_sum": loss_sum.detach()}
    for name, p in model.named_parameters():
        tensors[name] = state[name]
        tensors["grad." + name] = p.grad.detach().clone()
    for name, value in trajectory(regression, state, lambda m: mse(m(x), y), lambda ps: torch.optim.SGD(ps, lr=0.05, weight_decay=0.01)).items():
        tensors["sgd3." + name] = value
    save_and_verify(os.path.join(out_dir, "modules_regression.safetensors"), tensors, {"fixture": "modules_regression", "torch": torch.__version__})


def no_bias():
    torch.manual_seed(5)
    return nn.Sequential(nn.Linear(3, 5, bias=False), nn.Tanh(), nn.Linear(5, 2, bias=False))


def make_no_bias(out_dir):
    model = no_bias()
    g = torch.Generator().manual_seed(6)
    x = torch.randn(6, 3, generator=g)
    y = torch.randn(6, 2, generator=g)
    mse = nn.MSELoss()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    prediction = model(x)
    loss = mse(prediction, y)
    model.zero_grad()
    loss.backward()
    tensors = {"x": x, "y": y, "prediction": prediction.detach(), "loss": loss.detach()}
    for name, p in model.named_parameters():
        tensors[name] = state[name]
        tensors["grad." + name] = p.grad.detach().clone()
    for name, value in trajectory(no_bias, state, lambda m: mse(m(x), y), lambda ps: torch.optim.Adam(ps, lr=0.01)).items():
        tensors["adam3." + name] = value
    save_and_verify(os.path.join(out_dir, "modules_no_bias.safetensors"), tensors, {"fixture": "modules_no_bias", "torch": torch.__version__})


def make_gelu(out_dir):
    g = torch.Generator().manual_seed(7)
    x = torch.randn(3, 5, 7, generator=g) * 4
    special = torch.tensor([0.0, -0.0, 1e-3, -1e-3, 5.0, -5.0, 10.0, -10.0, 30.0, -30.0, 100.0, -100.0])
    x.view(-1)[: len(special)] = special
    dy = torch.randn(3, 5, 7, generator=g)
    tensors = {"x": x, "dy": dy}
    for approximate in ("none", "tanh"):
        xr = x.clone().requires_grad_()
        y = nn.GELU(approximate=approximate)(xr)
        y.backward(dy)
        tensors[f"{approximate}.y"] = y.detach()
        tensors[f"{approximate}.dx"] = xr.grad.detach().clone()
    save_and_verify(os.path.join(out_dir, "modules_gelu.safetensors"), tensors, {"fixture": "modules_gelu", "torch": torch.__version__})


def lr_sequence(make_schedulers, epochs=12, metrics=None, set_lr=None):
    """The lr before any step, then after each of epochs - 1 steps of every scheduler that make_schedulers(opt) gives
    (one, or a list stepped in order); set_lr = (e, lr) sets the optimizer's lr by hand before step e."""
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    made = make_schedulers(opt)
    schedulers = made if isinstance(made, list) else [made]
    lrs = [opt.param_groups[0]["lr"]]
    for e in range(epochs - 1):
        opt.step()
        if set_lr is not None and e == set_lr[0]:
            opt.param_groups[0]["lr"] = set_lr[1]
        for sched in schedulers:
            if metrics is None:
                sched.step()
            else:
                sched.step(float(metrics[e]))
        lrs.append(opt.param_groups[0]["lr"])
    return torch.tensor(lrs, dtype=torch.float64)


def make_schedules(out_dir):
    warmup, total = 3, 10

    def cosine(e):
        if e < warmup:
            return e / max(1, warmup)
        progress = (e - warmup) / max(1, total - warmup)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))

    metric = torch.tensor([1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9], dtype=torch.float64)
    tensors = {
        "step_lr": lr_sequence(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
        "exponential_lr": lr_sequence(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
        "warmup_cosine": lr_sequence(lambda o: torch.optim.lr_scheduler.LambdaLR(o, cosine)),
        "plateau": lr_sequence(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=1, cooldown=1), metrics=metric),
        "plateau_metric": metric,
        "chained": lr_sequence(lambda o: [torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5), torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)]),
        "step_lr_set_by_hand": lr_sequence(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), set_lr=(4, 0.02)),
    }
    save_and_verify(os.path.join(out_dir, "schedules.safetensors"), tensors, {"fixture": "schedules", "torch": torch.__version__})


def main():
    out = fixture_out(__doc__)
    make_classifier(out)
    make_regression(out)
    make_no_bias(out)
    make_gelu(out)
    make_schedules(out)


if __name__ == "__main__":
    main()
