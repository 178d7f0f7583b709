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

from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_gru_fixtures import make_hidden_state_char  # noqa: E402
from make_torch_fixtures import fixture_out  # noqa: E402


def main():
    make_hidden_state_char(fixture_out(__doc__), "rnn_char", "rnn", nn.RNN, seed=2468)


if __name__ == "__main__":
    main()
