#!/usr/bin/python3
"""PyTorch 1.13 reference fixture for Tensorlet's bidirectional Lstm and Gru.

Run:  /usr/bin/python3 scripts/make_bidirectional_fixtures.py [--out DIR]

Writes one new file and touches no other fixture. Follows the FIXTURE PROTOCOL of make_torch_fixtures.py (whose
safetensors writer and Adam protocol it uses): F32 and I64 little-endian, state_dict names unchanged, `grad.<param>`
at the initial parameters, `adam3.<param>` after 3 torch.optim.Adam(lr=0.01) steps on the same batch,
`adam_losses` [3]. Everything runs on the CPU in float32 with fixed seeds, so a rerun rewrites the same bytes.

rnn_bidirectional.safetensors -- four modules, each under its own prefix, every one with num_layers=2,
bidirectional=True, dropout=0, In=3 (dense) or V=6 (token ids, read as one_hot(ids, 6)), H=4, B=3, T=5, from a
nonzero initial state, and the loss sum(output * w) with fixed weights w shaped as the output (so dL/d(output) = w):
  lstm.     nn.LSTM(3, 4, 2, bidirectional=True)                     dense x [T, B, 3]
  lstm_bf.  nn.LSTM(6, 4, 2, bidirectional=True, batch_first=True)  token ids [B, T]
  gru.      nn.GRU(6, 4, 2, bidirectional=True)                      token ids [T, B]
  gru_bf.   nn.GRU(3, 4, 2, bidirectional=True, batch_first=True)   dense x [B, T, 3]
  Tensors per prefix: x (dense) or ids (I64); h0 (and c0 for the LSTM) [4, 3, 4] ([2·layers, B, H], ordered l0,
  l0_reverse, l1, l1_reverse); w and out, [T, B, 8] or [B, T, 8]; h_n (and c_n) [4, 3, 4]; every parameter under
  its state_dict name (weight_ih_l0, ..., bias_hh_l1_reverse); grad.<param>; grad.x (dense input only);
  adam3.<param>; adam_losses [3].
"""
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import adam_protocol, fixture_out, params, save_and_verify  # noqa: E402

IN, V, H, L, B, T = 3, 6, 4, 2, 3, 5


def sequence_input(g, ids, shape, tensors):
    """The input of a case, shaped (B, T) or (T, B): token ids (as tensors["ids"]) read as one_hot(ids, V), or dense
    x [.., IN] (as tensors["x"]) that takes a gradient; drawn from g."""
    if ids:
        tokens = torch.randint(0, V, shape, generator=g)
        tensors["ids"] = tokens
        return F.one_hot(tokens, V).float()
    x = torch.randn(*shape, IN, generator=g, requires_grad=True)
    tensors["x"] = x.detach().clone()
    return x


def make_case(prefix, cell, ids, batch_first, seed):
    torch.manual_seed(seed)
    width = V if ids else IN
    model = (nn.LSTM if cell == "lstm" else nn.GRU)(width, H, L, bidirectional=True, batch_first=batch_first)
    g = torch.Generator().manual_seed(seed + 1)
    shape = (B, T) if batch_first else (T, B)
    tensors = {}
    x = sequence_input(g, ids, shape, tensors)
    h0 = torch.randn(2 * L, B, H, generator=g) * 0.5
    c0 = torch.randn(2 * L, B, H, generator=g) * 0.5
    w = torch.randn(*shape, 2 * H, generator=g)
    state = (h0, c0) if cell == "lstm" else h0
    tensors.update({"h0": h0, "w": w})
    if cell == "lstm":
        tensors["c0"] = c0
    tensors.update(params(model))

    def forward_loss():
        return (model(x, state)[0] * w).sum()

    out, final = model(x, state)
    loss = (out * w).sum()
    loss.backward()
    tensors["out"] = out.detach().clone()
    if cell == "lstm":
        tensors.update({"h_n": final[0].detach().clone(), "c_n": final[1].detach().clone()})
    else:
        tensors["h_n"] = final.detach().clone()
    if not ids:
        tensors["grad.x"] = x.grad.detach().clone()
    tensors.update(adam_protocol(model, forward_loss))
    return {f"{prefix}.{k}": v for k, v in tensors.items()}


def main():
    out = fixture_out(__doc__)
    tensors = {}
    tensors.update(make_case("lstm", "lstm", ids=False, batch_first=False, seed=21))
    tensors.update(make_case("lstm_bf", "lstm", ids=True, batch_first=True, seed=31))
    tensors.update(make_case("gru", "gru", ids=True, batch_first=False, seed=41))
    tensors.update(make_case("gru_bf", "gru", ids=False, batch_first=True, seed=51))
    meta = {"fixture": "rnn_bidirectional", "torch": torch.__version__}
    save_and_verify(os.path.join(out, "rnn_bidirectional.safetensors"), tensors, meta)


if __name__ == "__main__":
    main()
