#!/usr/bin/python3
"""PyTorch 1.13 reference fixture for Tensorlet's Embedding with padding_idx.

Run:  /usr/bin/python3 scripts/make_embedding_fixtures.py [--out DIR]

Same protocol as make_module_fixtures.py (whose trajectory it uses): F32 row-major tensors, I64 indices,
metadata as strings, everything on the CPU in float32 with fixed seeds, so a rerun rewrites the same bytes.
It writes only its own file.

modules_embedding_padding.safetensors -- 0: Embedding(7, 4, padding_idx=2)  1: Linear(4, 3) on ids [3, 4] that
  hold the padding index four times, against targets [3, 4]; CrossEntropyLoss (mean) over the 12 positions.
  Metadata padding_idx = "2". Tensors:
  ids [3,4] I64, targets [3,4] I64, every parameter as torch initialises it (row 2 of 0.weight is zero),
  output [3,4,3], loss [], grad.<param> (row 2 of grad.0.weight is zero),
  adam3.<param>   after 3 steps of Adam(lr=0.01)
  adamw3.<param>  after 3 steps of AdamW(lr=0.01, weight_decay=0.1): the zero row stays zero
  nonzero.<param>, the same parameters with row 2 of 0.weight set to nonzero values (as a loaded or hand-set table
  has it), and from them: nonzero.output, nonzero.loss, nonzero.grad.<param> (row 2 still zero),
  nonzero.adamw3.<param>  AdamW(lr=0.01, weight_decay=0.1): row 2 only decays, ·(1 − lr·wd) per step
  nonzero.adam_l2_3.<param>  Adam(lr=0.01, weight_decay=0.1): the L2 term wd·p is row 2's whole gradient
  nonzero.sgd3.<param>  SGD(lr=0.1, momentum=0.9, weight_decay=0.01)
  each step: zero_grad, forward, loss, backward, step on the same batch.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_module_fixtures import trajectory  # noqa: E402
from make_torch_fixtures import fixture_out, save_and_verify  # noqa: E402

VOCABULARY, DIM, CLASSES, PADDING_IDX = 7, 4, 3, 2


def padded():
    torch.manual_seed(7)
    return nn.Sequential(nn.Embedding(VOCABULARY, DIM, padding_idx=PADDING_IDX), nn.Linear(DIM, CLASSES))


def make_padding(out_dir):
    g = torch.Generator().manual_seed(8)
    ids = torch.randint(0, VOCABULARY, (3, 4), generator=g)
    for t, b in [(0, 0), (0, 3), (1, 2), (2, 0)]:
        ids[t, b] = PADDING_IDX
    targets = torch.randint(0, CLASSES, (3, 4), generator=g)
    ce = nn.CrossEntropyLoss()

    def forward_loss(m):
        return ce(m(ids).reshape(-1, CLASSES), targets.reshape(-1))

    tensors = {"ids": ids, "targets": targets}

    def record(prefix, state, runs):
        model = padded()
        model.load_state_dict(state)
        output = model(ids)
        loss = ce(output.reshape(-1, CLASSES), targets.reshape(-1))
        model.zero_grad()
        loss.backward()
        tensors[prefix + "output"] = output.detach()
        tensors[prefix + "loss"] = loss.detach()
        for name, p in model.named_parameters():
            tensors[prefix + name] = state[name]
            tensors[f"{prefix}grad.{name}"] = p.grad.detach().clone()
            assert name != "0.weight" or not p.grad[PADDING_IDX].any(), "the padding row gets no gradient"
        for key, make in runs.items():
            for name, value in trajectory(padded, state, forward_loss, make).items():
                tensors[f"{prefix}{key}.{name}"] = value

    state = {k: v.clone() for k, v in padded().state_dict().items()}
    assert not state["0.weight"][PADDING_IDX].any(), "torch initialises the padding row to zeros"
    record("", state, {
        "adam3": lambda ps: torch.optim.Adam(ps, lr=0.01),
        "adamw3": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    })

    nonzero = {k: v.clone() for k, v in state.items()}
    nonzero["0.weight"][PADDING_IDX] = torch.randn(DIM, generator=g)
    record("nonzero.", nonzero, {
        "adamw3": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
        "adam_l2_3": lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1),
        "sgd3": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    })
    decayed = nonzero["0.weight"][PADDING_IDX] * (1 - 0.01 * 0.1) ** 3
    assert torch.allclose(tensors["nonzero.adamw3.0.weight"][PADDING_IDX], decayed), "AdamW only decays the padding row"

    meta = {"fixture": "modules_embedding_padding", "torch": torch.__version__, "padding_idx": PADDING_IDX}
    save_and_verify(os.path.join(out_dir, "modules_embedding_padding.safetensors"), tensors, meta)


if __name__ == "__main__":
    out = fixture_out(__doc__)
    make_padding(out)
