#!/usr/bin/python3
"""PyTorch reference fixtures for Tensorlet's GRU layer and GRU char model.

Run:  /usr/bin/python3 scripts/make_gru_fixtures.py [--out DIR]

Follows the FIXTURE PROTOCOL of make_torch_fixtures.py (whose safetensors writer it uses): F32 and I64
little-endian, batch_first sequences, state_dict names unchanged, `grad.<param>` at the initial parameters,
`adam3.<param>` after 3 torch.optim.Adam(lr=0.01) steps on the same batch, `adam_losses` [3], and
__metadata__ {"fixture", "torch", ...}. Everything runs on the CPU in float32 with fixed seeds.

gru.safetensors  -- nn.GRU(input_size=4, hidden_size=5, num_layers=2, batch_first=True, dropout=0), B=3, T=6,
  on dense input, with the loss sum(w * out) so every output element has its own gradient weight
  gru.weight_ih_l0 [15,4]  gru.weight_hh_l0 [15,5]  gru.bias_ih_l0 [15]  gru.bias_hh_l0 [15]
  gru.weight_ih_l1 [15,5]  gru.weight_hh_l1 [15,5]  gru.bias_ih_l1 [15]  gru.bias_hh_l1 [15]
                        (gate order along 3H: r, z, n, as nn.GRU)
  x [3,6,4]             the input
  h0 [2,3,5]            a nonzero initial state
  w [3,6,5]             the loss weights; loss [] = sum(w * out)
  out [3,6,5]  h_n [2,3,5]    output and final state from h0
  grad.<each param>  grad.x [3,6,4]    gradients of the loss (no gradient flows into h0 in Tensorlet)
  zero.out [3,6,5]  zero.h_n [2,3,5]   output and final state from a zero initial state

gru_char.safetensors  -- gru_char_predict(vocab_size=7, hidden_dim=5, n_layers=2, dropout=0), B=3, T=6:
  lstm_char_predict with nn.GRU in nn.LSTM's place; the same keys as lstm.safetensors without c_n:
  gru.* as above with input_size 7, output.weight [7,5], output.bias [7], inputs [3,6] I64, targets [3,6] I64,
  logits [3,6,7], loss [], h_n [2,3,5], grad.<each param>, adam3.<each param>, adam_losses [3],
  state.h0 [2,3,5], state.logits [3,6,7], state.h_n [2,3,5]
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import adam_protocol, fixture_out, params, save_and_verify  # noqa: E402


class recurrent_char_predict(nn.Module):
    """lstm_char_predict with another recurrent cell (nn.GRU, nn.RNN) in nn.LSTM's place, under the attribute `name`."""

    def __init__(self, name, cell, vocab_size, hidden_dim, n_layers, dropout):
        super().__init__()
        self.name = name
        setattr(self, name, cell(vocab_size, hidden_dim, n_layers, batch_first=True, dropout=dropout))
        self.output = nn.Linear(hidden_dim, vocab_size)

    def recurrent(self):
        return getattr(self, self.name)

    def forward(self, x, h0=None):   # x: one-hot [B, T, V]
        out, _ = self.recurrent()(x, h0)
        return self.output(out)      # [B, T, V]


def make_gru(out_dir):
    In, H, L, B, T = 4, 5, 2, 3, 6
    torch.manual_seed(4321)
    gru = nn.GRU(In, H, L, batch_first=True, dropout=0.0)
    x = torch.randn(B, T, In, requires_grad=True)
    h0 = torch.randn(L, B, H) * 0.5
    w = torch.randn(B, T, H)
    tensors = {"gru." + k: v for k, v in params(gru).items()}
    out, h_n = gru(x, h0)
    loss = (w * out).sum()
    loss.backward()
    for name, p in gru.named_parameters():
        tensors["grad.gru." + name] = p.grad.detach().clone()
    with torch.no_grad():
        zero_out, zero_h_n = gru(x)
    tensors.update({
        "x": x.detach().clone(), "h0": h0, "w": w, "loss": loss.detach().clone(), "out": out.detach().clone(),
        "h_n": h_n.detach().clone(), "grad.x": x.grad.detach().clone(), "zero.out": zero_out, "zero.h_n": zero_h_n,
    })
    meta = {"fixture": "gru", "torch": torch.__version__, "input_size": In, "hidden_size": H, "num_layers": L,
            "batch": B, "seq_len": T, "seed": 4321}
    save_and_verify(os.path.join(out_dir, "gru.safetensors"), tensors, meta)


def make_hidden_state_char(out_dir, fixture, name, cell, seed):
    """The char model of a cell whose state is h alone, written as `fixture`.safetensors (see the header)."""
    V, H, L, B, T = 7, 5, 2, 3, 6
    torch.manual_seed(seed)
    model = recurrent_char_predict(name, cell, V, H, L, dropout=0.0)
    inputs = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets = torch.randint(0, V, (B, T), dtype=torch.int64)
    x = F.one_hot(inputs, V).float()
    tensors = params(model)
    with torch.no_grad():
        _, h_n = model.recurrent()(x)
        logits = model(x)
        loss = nn.CrossEntropyLoss()(logits.reshape(-1, V), targets.reshape(-1))
        h0 = torch.randn(L, B, H) * 0.5
        state_out, state_h = model.recurrent()(x, h0)
        state_logits = model.output(state_out)
    tensors.update({
        "inputs": inputs, "targets": targets, "logits": logits, "loss": loss, "h_n": h_n,
        "state.h0": h0, "state.logits": state_logits, "state.h_n": state_h,
    })
    tensors.update(adam_protocol(model, lambda: nn.CrossEntropyLoss()(model(x).reshape(-1, V), targets.reshape(-1))))
    meta = {"fixture": fixture, "torch": torch.__version__, "vocab_size": V, "hidden_dim": H, "n_layers": L,
            "dropout": 0, "batch": B, "seq_len": T, "seed": seed, "adam_lr": 0.01}
    save_and_verify(os.path.join(out_dir, fixture + ".safetensors"), tensors, meta)


def main():
    out = fixture_out(__doc__)
    make_gru(out)
    make_hidden_state_char(out, "gru_char", "gru", nn.GRU, seed=1234)


if __name__ == "__main__":
    main()
