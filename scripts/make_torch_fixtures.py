#!/usr/bin/python3
"""PyTorch reference fixtures for Tensorlet's layers, models and safetensors reader.

Run:  /usr/bin/python3 scripts/make_torch_fixtures.py [--out DIR]
      /usr/bin/python3 scripts/make_torch_fixtures.py --check-tensorlet FILE [--input 0,1,2]

Needs only torch (Debian's python3-torch 1.13 works); the safetensors format is written and
read by hand below, so the `safetensors` package is not needed. Everything runs on the CPU in
float32 with fixed seeds, so a rerun rewrites the same bytes.

FIXTURE PROTOCOL (the C# tests match against this; change both together)
------------------------------------------------------------------------
Files go to Tensorlet.Tests/Fixtures/torch/ (default --out). All are safetensors files.
* Floating tensors are F32, little-endian, row-major (C order), exactly torch's layout.
* Token indices (`inputs`, `targets`) are I64, torch's native index dtype.
* Scalars (`loss`) have shape [] (one element), as torch's 0-dim tensors.
* Sequences are batch_first: [B, T, ...].
* Parameter names are the notebook modules' state_dict names, unchanged.
* `grad.<param>` is d(loss)/d(param) at the initial parameters.
* `adam3.<param>` is the parameter after 3 steps of torch.optim.Adam(lr=0.01, betas=(0.9, 0.999),
  eps=1e-8, weight_decay=0), each step on the same batch: zero_grad, forward, loss, backward, step.
  `adam_losses` [3] holds the loss computed at each of those steps, before its update
  (so adam_losses[0] == loss).
* The loss is nn.CrossEntropyLoss() (mean over all rows) on logits.reshape(-1, V) and
  targets.reshape(-1).
* Every file carries __metadata__ {"fixture": name, "torch": version, ...hyperparameters as strings}.

lstm.safetensors  -- lstm_char_predict(vocab_size=7, hidden_dim=5, n_layers=2, dropout=0), B=3, T=6
  lstm.weight_ih_l0 [20,7]  lstm.weight_hh_l0 [20,5]  lstm.bias_ih_l0 [20]  lstm.bias_hh_l0 [20]
  lstm.weight_ih_l1 [20,5]  lstm.weight_hh_l1 [20,5]  lstm.bias_ih_l1 [20]  lstm.bias_hh_l1 [20]
  output.weight [7,5]  output.bias [7]          (gate order along 4H: i, f, g, o, as nn.LSTM)
  inputs [3,6] I64      char indices; the model input is one_hot(inputs, 7) as float32 [3,6,7]
  targets [3,6] I64
  lstm_out [3,6,5]      last LSTM layer's output (before `output`)
  logits [3,6,7]        loss []
  h_n [2,3,5]  c_n [2,3,5]   final states per layer (zero initial state)
  grad.<each param>     same shapes as the params
  adam3.<each param>    same shapes as the params
  adam_losses [3]
  state.h0 [2,3,5]  state.c0 [2,3,5]   a random nonzero initial state (as the sampler carries it)
  state.logits [3,6,7]  state.h_n [2,3,5]  state.c_n [2,3,5]   the forward pass from that state

ngram_relu.safetensors, ngram_tanh.safetensors, ngram_sigmoid.safetensors
  -- ngram_mlp(ngram_vocab=11, char_vocab=7, hidden=6, activation), B=8; the same seed for each
     activation, so the initial weights are identical and only the activation differs.
  L1.weight [6,11]  L1.bias [6]  L2.weight [7,6]  L2.bias [7]
  inputs [8] I64        n-gram indices (with repeats); the model input is one_hot(inputs, 11)
  targets [8] I64
  hidden_pre [8,6]      L1 output     hidden [8,6]  activation output
  logits [8,7]  loss []
  grad.<each param>  adam3.<each param>  adam_losses [3]

lstm_interop.safetensors  -- a checkpoint as a PyTorch user would save the notebook model:
  exactly model.state_dict() of lstm_char_predict(32, 16, 2, dropout=0) (10 tensors, names as
  above), metadata {"format": "pt"}. Loadable with load_state_dict(strict=True).
lstm_interop_io.safetensors  -- inputs [2,10] I64 and that model's logits [2,10,32] for them.

dtypes.safetensors  -- one tensor per dtype, to test the reader's conversions (values exact in
  every dtype): f32, f64, f16, bf16 = [-2.5, -1, 0, 0.5, 1, 3.25] (shape [2,3]);
  i64, i32, i16, i8 = [-3, -1, 0, 1, 2, 100] (shape [6]); u8 = [0, 1, 2, 200, 255] (shape [5]);
  bool = [true, false, true] (shape [3]); scalar = 7.5 (F32, shape []); empty = F32 shape [0, 4].
"""
import argparse
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tensorlet.Tests", "Fixtures", "torch")


# --- the notebook's modules, verbatim ---------------------------------------------------------

class lstm_char_predict(nn.Module):
    def __init__(self, vocab_size, hidden_dim, n_layers, dropout):
        super().__init__()
        self.lstm = nn.LSTM(vocab_size, hidden_dim, n_layers, batch_first=True, dropout=dropout)
        self.output = nn.Linear(hidden_dim, vocab_size)

    def forward(self, x):            # x: one-hot [B, T, V]
        out, _ = self.lstm(x)
        return self.output(out)      # [B, T, V]


class ngram_mlp(nn.Module):
    def __init__(self, ngram_vocab, char_vocab, hidden, activation):
        super().__init__()
        self.L1 = nn.Linear(ngram_vocab, hidden)
        self.act = activation
        self.L2 = nn.Linear(hidden, char_vocab)

    def forward(self, x):            # x: one-hot [B, ngram_vocab]
        return self.L2(self.act(self.L1(x)))


# --- safetensors by hand ------------------------------------------------------------------------

DTYPES = {  # safetensors name -> (torch dtype, bytes per element)
    "F64": (torch.float64, 8), "F32": (torch.float32, 4), "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2), "I64": (torch.int64, 8), "I32": (torch.int32, 4),
    "I16": (torch.int16, 2), "I8": (torch.int8, 1), "U8": (torch.uint8, 1), "BOOL": (torch.bool, 1),
}
NAME_OF = {dt: name for name, (dt, _) in DTYPES.items()}


def tensor_bytes(t):
    """Raw little-endian bytes of a contiguous CPU tensor (bf16 goes through int16: numpy lacks it)."""
    t = t.detach().contiguous().cpu()
    assert sys.byteorder == "little"
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def save_safetensors(path, tensors, metadata=None):
    """Writes the safetensors format: u64 LE header length, JSON header (space-padded to a
    multiple of 8), then the tensors' bytes, contiguous, in header order (sorted by name).
    Metadata keys are sorted too: Tensorlet's writer makes the same bytes from the same content."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(metadata[k]) for k in sorted(metadata)}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name]
        data = tensor_bytes(t)
        header[name] = {"dtype": NAME_OF[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def load_safetensors(path):
    """Reads a safetensors file into ({name: tensor}, metadata), checking what the format promises."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors, spans = {}, []
    for name, info in header.items():
        dtype, size = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            count *= d
        assert end - begin == count * size, f"{name}: {end - begin} bytes for {count} elements"
        spans.append((begin, end))
        chunk = bytearray(data[begin:end])
        if dtype == torch.bfloat16:
            t = torch.frombuffer(chunk, dtype=torch.int16).view(torch.bfloat16) if count else torch.empty(0, dtype=dtype)
        else:
            t = torch.frombuffer(chunk, dtype=dtype) if count else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(info["shape"]).clone()
    spans.sort()
    position = 0
    for begin, end in spans:
        assert begin == position, "tensor data is not contiguous"
        position = end
    assert position == len(data), "tensor data does not cover the buffer"
    return tensors, metadata


def save_and_verify(path, tensors, metadata):
    save_safetensors(path, tensors, metadata)
    back, meta = load_safetensors(path)
    assert set(back) == set(tensors), path
    assert meta == {str(k): str(v) for k, v in metadata.items()}, path
    for name, t in tensors.items():
        b = back[name]
        assert b.dtype == t.dtype and b.shape == t.shape, f"{path}: {name}"
        # NaN is not equal to itself, so a tensor holding one is compared with NaN equal to NaN.
        same = torch.equal(b, t.detach()) or (b.is_floating_point() and torch.allclose(b, t.detach(), rtol=0, atol=0, equal_nan=True))
        assert same, f"{path}: {name} did not read back bit for bit"
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes, {len(tensors)} tensors)")


# --- the opening every fixture script's main shares ------------------------------------------------

def fixture_parser(doc):
    """The command line of a fixture script: --out, the fixture folder. `doc`, the script's docstring, gives the
    description (its first line). A script with options of its own adds them to this parser."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="fixture folder (default: Tensorlet.Tests/Fixtures/torch)")
    return parser


def prepare_out(out):
    """Runs torch on one thread (a fixed reduction order, so reruns give the same bytes) and makes the fixture folder
    `out`; returns it."""
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    return out


def fixture_out(doc):
    """The opening of a fixture script with no options of its own: parses --out and prepares that folder."""
    return prepare_out(fixture_parser(doc).parse_args().out)


# --- fixtures -----------------------------------------------------------------------------------

def adam_protocol(model, forward_loss):
    """Gradients at the initial parameters, then 3 Adam steps on the same batch."""
    out = {}
    model.zero_grad()
    loss = forward_loss()
    loss.backward()
    for name, p in model.named_parameters():
        out["grad." + name] = p.grad.detach().clone()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        step_loss = forward_loss()
        losses.append(step_loss.item())
        step_loss.backward()
        opt.step()
    for name, p in model.named_parameters():
        out["adam3." + name] = p.detach().clone()
    out["adam_losses"] = torch.tensor(losses, dtype=torch.float32)
    assert losses[0] == loss.item()
    return out


def params(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def make_lstm(out_dir):
    V, H, L, B, T = 7, 5, 2, 3, 6
    torch.manual_seed(1234)
    model = lstm_char_predict(V, H, L, dropout=0.0)
    inputs = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets = torch.randint(0, V, (B, T), dtype=torch.int64)
    x = F.one_hot(inputs, V).float()
    tensors = params(model)
    with torch.no_grad():
        lstm_out, (h_n, c_n) = model.lstm(x)
        logits = model(x)
        loss = nn.CrossEntropyLoss()(logits.reshape(-1, V), targets.reshape(-1))
        h0 = torch.randn(L, B, H) * 0.5
        c0 = torch.randn(L, B, H) * 0.5
        state_out, (state_h, state_c) = model.lstm(x, (h0, c0))
        state_logits = model.output(state_out)
    tensors.update({
        "inputs": inputs, "targets": targets, "lstm_out": lstm_out, "logits": logits, "loss": loss,
        "h_n": h_n, "c_n": c_n, "state.h0": h0, "state.c0": c0, "state.logits": state_logits,
        "state.h_n": state_h, "state.c_n": state_c,
    })
    tensors.update(adam_protocol(model, lambda: nn.CrossEntropyLoss()(model(x).reshape(-1, V), targets.reshape(-1))))
    meta = {"fixture": "lstm", "torch": torch.__version__, "vocab_size": V, "hidden_dim": H, "n_layers": L,
            "dropout": 0, "batch": B, "seq_len": T, "seed": 1234, "adam_lr": 0.01}
    save_and_verify(os.path.join(out_dir, "lstm.safetensors"), tensors, meta)


def make_ngram(out_dir, act_name, activation):
    N, V, Hd, B = 11, 7, 6, 8
    torch.manual_seed(4321)
    model = ngram_mlp(N, V, Hd, activation)
    inputs = torch.randint(0, N, (B,), dtype=torch.int64)
    inputs[5] = inputs[1]  # a repeated n-gram, so the weight gradient accumulates over rows
    targets = torch.randint(0, V, (B,), dtype=torch.int64)
    x = F.one_hot(inputs, N).float()
    tensors = params(model)
    with torch.no_grad():
        hidden_pre = model.L1(x)
        hidden = model.act(hidden_pre)
        logits = model(x)
        loss = nn.CrossEntropyLoss()(logits, targets)
    if act_name == "relu":
        assert (hidden_pre < 0).any() and (hidden_pre > 0).any(), "want both relu branches exercised"
    tensors.update({"inputs": inputs, "targets": targets, "hidden_pre": hidden_pre, "hidden": hidden,
                    "logits": logits, "loss": loss})
    tensors.update(adam_protocol(model, lambda: nn.CrossEntropyLoss()(model(x), targets)))
    meta = {"fixture": f"ngram_{act_name}", "torch": torch.__version__, "ngram_vocab": N, "char_vocab": V,
            "hidden": Hd, "activation": act_name, "batch": B, "seed": 4321, "adam_lr": 0.01}
    save_and_verify(os.path.join(out_dir, f"ngram_{act_name}.safetensors"), tensors, meta)


def make_interop(out_dir):
    V, H, L, B, T = 32, 16, 2, 2, 10
    torch.manual_seed(2026)
    model = lstm_char_predict(V, H, L, dropout=0.0)
    model.eval()
    inputs = torch.randint(0, V, (B, T), dtype=torch.int64)
    with torch.no_grad():
        logits = model(F.one_hot(inputs, V).float())
    save_and_verify(os.path.join(out_dir, "lstm_interop.safetensors"), params(model), {"format": "pt"})
    meta = {"fixture": "lstm_interop_io", "torch": torch.__version__, "vocab_size": V, "hidden_dim": H,
            "n_layers": L, "seed": 2026}
    save_and_verify(os.path.join(out_dir, "lstm_interop_io.safetensors"), {"inputs": inputs, "logits": logits}, meta)
    # The checkpoint must load into the notebook's model exactly as a user would load it.
    loaded, _ = load_safetensors(os.path.join(out_dir, "lstm_interop.safetensors"))
    fresh = lstm_char_predict(V, H, L, dropout=0.0)
    fresh.load_state_dict(loaded, strict=True)
    with torch.no_grad():
        assert torch.equal(fresh(F.one_hot(inputs, V).float()), logits)


def make_dtypes(out_dir):
    floats = [-2.5, -1.0, 0.0, 0.5, 1.0, 3.25]
    ints = [-3, -1, 0, 1, 2, 100]
    tensors = {
        "f32": torch.tensor(floats, dtype=torch.float32).reshape(2, 3),
        "f64": torch.tensor(floats, dtype=torch.float64).reshape(2, 3),
        "f16": torch.tensor(floats, dtype=torch.float16).reshape(2, 3),
        "bf16": torch.tensor(floats, dtype=torch.bfloat16).reshape(2, 3),
        "i64": torch.tensor(ints, dtype=torch.int64),
        "i32": torch.tensor(ints, dtype=torch.int32),
        "i16": torch.tensor(ints, dtype=torch.int16),
        "i8": torch.tensor(ints, dtype=torch.int8),
        "u8": torch.tensor([0, 1, 2, 200, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(7.5, dtype=torch.float32),
        "empty": torch.zeros(0, 4, dtype=torch.float32),
    }
    save_and_verify(os.path.join(out_dir, "dtypes.safetensors"), tensors, {"fixture": "dtypes", "torch": torch.__version__})


def check_tensorlet(path, input_text):
    """Loads a Tensorlet-written LSTM checkpoint into the notebook's module and prints its logits."""
    torch.set_num_threads(1)  # one thread, as prepare_out runs the fixtures
    tensors, metadata = load_safetensors(path)
    print(f"{path}: metadata {metadata}")
    state = {k: v for k, v in tensors.items() if k.startswith("lstm.") or k.startswith("output.")}
    V = state["output.weight"].shape[0]
    H = state["output.weight"].shape[1]
    L = sum(1 for k in state if k.startswith("lstm.weight_ih_l"))
    model = lstm_char_predict(V, H, L, dropout=0.0)
    model.load_state_dict(state, strict=True)
    model.eval()
    ids = [int(s) for s in input_text.split(",")] if input_text else list(range(min(V, 10)))
    inputs = torch.tensor([ids], dtype=torch.int64)
    with torch.no_grad():
        logits = model(F.one_hot(inputs, V).float())
    print(f"model: vocab {V}, hidden {H}, layers {L}; input {ids}")
    torch.set_printoptions(precision=6, linewidth=160, sci_mode=False)
    print("logits [1, T, V]:")
    print(logits)


def main():
    parser = fixture_parser(__doc__)
    parser.add_argument("--check-tensorlet", metavar="FILE", help="load a Tensorlet LSTM checkpoint and print its logits")
    parser.add_argument("--input", default="", help="comma-separated char indices for --check-tensorlet")
    args = parser.parse_args()
    if args.check_tensorlet:
        check_tensorlet(args.check_tensorlet, args.input)
        return
    out = prepare_out(args.out)
    make_lstm(out)
    for act_name, activation in (("relu", nn.ReLU()), ("tanh", nn.Tanh()), ("sigmoid", nn.Sigmoid())):
        make_ngram(out, act_name, activation)
    make_interop(out)
    make_dtypes(out)


if __name__ == "__main__":
    main()
