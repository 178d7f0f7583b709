#!/usr/bin/python3
"""PyTorch 1.13 reference fixture for a batch-first recurrent classifier made of Tensorlet's modules.

Run:  /usr/bin/python3 scripts/make_batch_first_fixtures.py [--out DIR]

Writes one new file and touches no other fixture. Follows the FIXTURE PROTOCOL of make_torch_fixtures.py (whose
safetensors writer and Adam protocol it uses): F32 and I64 little-endian, state_dict names unchanged, `grad.<param>`
at the initial parameters, `adam3.<param>` after 3 torch.optim.Adam(lr=0.01) steps on the same batch,
`adam_losses` [3]. Everything runs on the CPU in float32 with fixed seeds, so a rerun rewrites the same bytes.

modules_batch_first.safetensors -- as Tensorlet's Sequential names it:
  0: LSTM(3, 5, num_layers=2, batch_first=True)  1: the last step (x.narrow(1, T - 1, 1))  2: Linear(5, 4)
  on dense input x [B=3, T=4, In=3] from a nonzero initial state, targets [3] I64, CrossEntropyLoss (mean).
  Tensors: x [3,4,3], h0 and c0 [2,3,5] (the states are [layers, B, H] under batch_first too), targets [3],
  every parameter, logits [3,1,4], loss [], h_n and c_n [2,3,5], grad.<param>, grad.x [3,4,3] (dL/dx, batch-first),
  adam3.<param>, adam_losses [3].
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import adam_protocol, fixture_out, params, save_and_verify  # noqa: E402


class LastStep(nn.Module):
    def forward(self, x):
        return x.narrow(1, x.shape[1] - 1, 1)


def run(model, x, state):
    out, (h_n, c_n) = model[0](x, state)
    return model[2](model[1](out)), h_n, c_n


def make_batch_first(out_dir):
    In, H, L, B, T, C = 3, 5, 2, 3, 4, 4
    torch.manual_seed(7)
    model = nn.Sequential(nn.LSTM(In, H, L, batch_first=True), LastStep(), nn.Linear(H, C))
    g = torch.Generator().manual_seed(8)
    x = torch.randn(B, T, In, generator=g, requires_grad=True)
    h0 = torch.randn(L, B, H, generator=g) * 0.5
    c0 = torch.randn(L, B, H, generator=g) * 0.5
    targets = torch.tensor([2, 0, 3])
    ce = nn.CrossEntropyLoss()
    tensors = {"x": x.detach().clone(), "h0": h0, "c0": c0, "targets": targets}
    tensors.update(params(model))

    logits, h_n, c_n = run(model, x, (h0, c0))
    loss = ce(logits.reshape(-1, C), targets)
    loss.backward()
    tensors.update({"logits": logits.detach().clone(), "loss": loss.detach().clone(), "h_n": h_n.detach().clone(),
                    "c_n": c_n.detach().clone(), "grad.x": x.grad.detach().clone()})
    tensors.update(adam_protocol(model, lambda: ce(run(model, x, (h0, c0))[0].reshape(-1, C), targets)))
    meta = {"fixture": "modules_batch_first", "torch": torch.__version__}
    save_and_verify(os.path.join(out_dir, "modules_batch_first.safetensors"), tensors, meta)


def main():
    make_batch_first(fixture_out(__doc__))


if __name__ == "__main__":
    main()
