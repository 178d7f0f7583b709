#!/usr/bin/python3
"""PyTorch 1.13 reference fixture for Tensorlet's RNN char model (ElmanCharModel).

Run:  /usr/bin/python3 scripts/make_rnn_char_fixtures.py [--out DIR]

Writes one new file and touches no other fixture. Follows the FIXTURE PROTOCOL of make_torch_fixtures.py (whose
safetensors writer and Adam protocol it uses): F32 and I64 little-endian, batch_first sequences, state_dict names
unchanged, `grad.<param>` at the initial parameters, `adam3.<param>` after 3 torch.optim.Adam(lr=0.01) steps on the
same batch, `adam_losses` [3]. Everything runs on the CPU in float32 with fixed seeds, so a rerun rewrites the same bytes.

rnn_char.safetensors -- rnn_char_predict(vocab_size=7, hidden_dim=5, n_layers=2, dropout=0), B=3, T=6:
  lstm_char_predict with nn.RNN (tanh) in nn.LSTM's place; the keys of gru_char.safetensors:
  rnn.weight_ih_l0 [5,7]  rnn.weight_hh_l0 [5,5]  rnn.bias_ih_l0 [5]  rnn.bias_hh_l0 [5]  (and _l1, input 5),
  output.weight [7,5], output.bias [7], inputs [3,6] I64, targets [3,6] I64, logits [3,6,7], loss [], h_n [2,3,5],
  grad.<each param>, adam3.<each param>, adam_losses [3], state.h0 [2,3,5], state.logits [3,6,7], state.h_n [2,3,5]
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torch_fixtures import adam_protocol, fixture_out, params, save_and_verify  # noqa: E402


class rnn_char_predict(nn.Module):
    def __init__(self, vocab_size, hidden_dim, n_layers, dropout):
        super().__init__()
        self.rnn = nn.RNN(vocab_size, hidden_dim, n_layers, batch_first=True, dropout=dropout)
        self.output = nn.Linear(hidden_dim, vocab_size)

    def forward(self, x, h0=None):   # x: one-hot [B, T, V]
        out, _ = self.rnn(x, h0)
        return self.output(out)      # [B, T, V]


def make_rnn_char(out_dir):
    V, H, L, B, T = 7, 5, 2, 3, 6
    torch.manual_seed(2468)
    model = rnn_char_predict(V, H, L, dropout=0.0)
    inputs = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets = torch.randint(0, V, (B, T), dtype=torch.int64)
    x = F.one_hot(inputs, V).float()
    tensors = params(model)
    with torch.no_grad():
        _, h_n = model.rnn(x)
        logits = model(x)
        loss = nn.CrossEntropyLoss()(logits.reshape(-1, V), targets.reshape(-1))
        h0 = torch.randn(L, B, H) * 0.5
        state_out, state_h = model.rnn(x, h0)
        state_logits = model.output(state_out)
    tensors.update({
        "inputs": inputs, "targets": targets, "logits": logits, "loss": loss, "h_n": h_n,
        "state.h0": h0, "state.logits": state_logits, "state.h_n": state_h,
    })
    tensors.update(adam_protocol(model, lambda: nn.CrossEntropyLoss()(model(x).reshape(-1, V), targets.reshape(-1))))
    meta = {"fixture": "rnn_char", "torch": torch.__version__, "vocab_size": V, "hidden_dim": H, "n_layers": L,
            "dropout": 0, "batch": B, "seq_len": T, "seed": 2468, "adam_lr": 0.01}
    save_and_verify(os.path.join(out_dir, "rnn_char.safetensors"), tensors, meta)


def main():
    make_rnn_char(fixture_out(__doc__))


if __name__ == "__main__":
    main()
