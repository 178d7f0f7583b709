#!/usr/bin/python3
"""PyTorch 1.13 reference fixture for Tensorlet's Rnn (nn.RNN, the Elman RNN).

Run:  /usr/bin/python3 scripts/make_rnn_fixtures.py [--out DIR]

Writes one new file and touches no other fixture. Follows the FIXTURE PROTOCOL of make_torch_fixtures.py (whose
safetensors writer and Adam protocol it uses): F32 and I64 little-endian, state_dict names unchanged, `grad.<param>`
at the initial parameters, `adam3.<param>` after 3 torch.optim.Adam(lr=0.01) steps on the same batch,
`adam_losses` [3]. Everything runs on the CPU in float32 with fixed seeds, so a rerun rewrites the same bytes.

rnn.safetensors -- four modules, each under its own prefix, every one with num_layers=2, dropout=0, In=3 (dense) or
V=6 (token ids, read as one_hot(ids, 6)), H=4, B=3, T=5, from a nonzero initial state, and the loss sum(output * w)
with fixed weights w shaped as the output (so dL/d(output) = w):
  tanh.        nn.RNN(3, 4, 2)                                                          dense x [T, B, 3]
  relu_bf.     nn.RNN(3, 4, 2, nonlinearity='relu', batch_first=True)                   dense x [B, T, 3]
  bi.          nn.RNN(6, 4, 2, bidirectional=True)                                      token ids [T, B]
  bi_relu_bf.  nn.RNN(3, 4, 2, nonlinearity='relu', bidirectional=True, batch_first=True) dense x [B, T, 3]
  Tensors per prefix: x (dense) or ids (I64); h0 [D·2, 3, 4] (D = 2 when bidirectional, ordered l0, l0_reverse, l1,
  l1_reverse); w and out, [T, B, D·4] or [B, T, D·4]; h_n [D·2, 3, 4]; zero.out and zero.h_n, from a zero initial
  state; every parameter under its state_dict name (weight_ih_l0 [4, In], weight_hh_l0 [4, 4], bias_ih_l0 [4],
  bias_hh_l0 [4], ..., bias_hh_l1_reverse); grad.<param>; grad.x (dense input only); adam3.<param>; adam_losses [3].
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_bidirectional_fixtures import IN, V, B, T, H, L, sequence_input  # noqa: E402
from make_torch_fixtures import adam_protocol, fixture_out, params, save_and_verify  # noqa: E402


def make_case(prefix, nonlinearity, ids, batch_first, bidirectional, seed):
    torch.manual_seed(seed)
    width = V if ids else IN
    directions = 2 if bidirectional else 1
    model = nn.RNN(width, H, L, nonlinearity=nonlinearity, batch_first=batch_first, bidirectional=bidirectional)
    g = torch.Generator().manual_seed(seed + 1)
    shape = (B, T) if batch_first else (T, B)
    tensors = {}
    x = sequence_input(g, ids, shape, tensors)
    h0 = torch.randn(directions * L, B, H, generator=g) * 0.5
    w = torch.randn(*shape, directions * H, generator=g)
    tensors.update({"h0": h0, "w": w})
    tensors.update(params(model))
    with torch.no_grad():
        zero_out, zero_h_n = model(x)
    tensors.update({"zero.out": zero_out, "zero.h_n": zero_h_n})

    def forward_loss():
        return (model(x, h0)[0] * w).sum()

    out, h_n = model(x, h0)
    (out * w).sum().backward()
    tensors.update({"out": out.detach().clone(), "h_n": h_n.detach().clone()})
    if not ids:
        tensors["grad.x"] = x.grad.detach().clone()
    tensors.update(adam_protocol(model, forward_loss))
    return {f"{prefix}.{k}": v for k, v in tensors.items()}


def main():
    out = fixture_out(__doc__)
    tensors = {}
    tensors.update(make_case("tanh", "tanh", ids=False, batch_first=False, bidirectional=False, seed=41))
    tensors.update(make_case("relu_bf", "relu", ids=False, batch_first=True, bidirectional=False, seed=51))
    tensors.update(make_case("bi", "tanh", ids=True, batch_first=False, bidirectional=True, seed=61))
    tensors.update(make_case("bi_relu_bf", "relu", ids=False, batch_first=True, bidirectional=True, seed=71))
    meta = {"fixture": "rnn", "torch": torch.__version__, "input_size": IN, "vocab_size": V, "hidden_size": H,
            "num_layers": L, "batch": B, "seq_len": T, "seeds": "41,51,61,71", "adam_lr": 0.01}
    save_and_verify(os.path.join(out, "rnn.safetensors"), tensors, meta)


if __name__ == "__main__":
    main()
