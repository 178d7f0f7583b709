#!/usr/bin/env python3
"""Times the notebook's PyTorch training step, the reference for Tensorlet's `train-step`.

The modules are the notebook's `lstm_char_predict` and `ngram_mlp`, verbatim (as in
scripts/make_torch_fixtures.py): one-hot float inputs (F.one_hot(...).float(), made per batch, as the
notebook does), nn.CrossEntropyLoss (mean), torch.optim.Adam(lr=2e-3), batch 100. The step timed is
zero_grad, one-hot, forward, loss, backward, loss.item(), optimizer.step().

Data: SYNTHETIC random ids with the corpus's shapes (vocabulary 32, sequences of 100, n-gram vocabulary
4669 by default). The cost of a step depends only on the shapes, not on the ids, so this is a fair speed
comparison; Tensorlet's side of bench/vs-pytorch.sh runs with --synthetic too.

Prints a summary and, as its last line, one JSON object with the same keys as `train-step`
(ms_per_batch_median/p10/p90, chars_per_s, gflops from the same GEMM FLOP count, peak_working_set_mb).

On --device cuda (scripts/gpu-check.sh) nn.LSTM runs cuDNN's fused LSTM unless --no-cudnn, and the step ends with
torch.cuda.synchronize(). TF32 tensor cores are off unless --tf32, so the default compares float32 with float32:
Tensorlet's ILGPU kernels cannot use tensor cores.

With --cell gru the recurrent model is `lstm_char_predict` with nn.GRU in nn.LSTM's place (gru_char_predict, as in
scripts/make_gru_fixtures.py); Tensorlet's side is `train-step --cell gru`.

Usage: pytorch_train_step.py --model lstm|ngram [--cell lstm|gru] [--hidden H] [--layers L] [--batch B] [--batches N]
       [--warmup W] [--threads T] [--ngrams 4669] [--dropout P] [--seed S] [--device cpu|cuda] [--tf32] [--no-cudnn]
Run it as bench/vs-pytorch.sh does: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch_train_step.py ...
"""

import argparse
import ctypes
import json
import math
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SEQUENCE_LENGTH = 100
CHARACTERS = 32


# --- the notebook's modules, verbatim ---------------------------------------------------------

class lstm_char_predict(nn.Module):
    def __init__(self, vocab_size, hidden_dim, n_layers, dropout):
        super().__init__()
        self.lstm = nn.LSTM(vocab_size, hidden_dim, n_layers, batch_first=True, dropout=dropout)
        self.output = nn.Linear(hidden_dim, vocab_size)

    def forward(self, x):            # x: one-hot [B, T, V]
        out, _ = self.lstm(x)
        return self.output(out)      # [B, T, V]


class gru_char_predict(nn.Module):
    def __init__(self, vocab_size, hidden_dim, n_layers, dropout):
        super().__init__()
        self.gru = nn.GRU(vocab_size, hidden_dim, n_layers, batch_first=True, dropout=dropout)
        self.output = nn.Linear(hidden_dim, vocab_size)

    def forward(self, x):            # x: one-hot [B, T, V]
        out, _ = self.gru(x)
        return self.output(out)      # [B, T, V]


class ngram_mlp(nn.Module):
    def __init__(self, ngram_vocab, char_vocab, hidden, activation):
        super().__init__()
        self.L1 = nn.Linear(ngram_vocab, hidden)
        self.act = activation
        self.L2 = nn.Linear(hidden, char_vocab)

    def forward(self, x):            # x: one-hot [B, ngram_vocab]
        return self.L2(self.act(self.L1(x)))


# --- measurement helpers ----------------------------------------------------------------------

def status_mb(key):
    """VmHWM / VmRSS from /proc/self/status, in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def reset_peak():
    """Brings VmHWM down to VmRSS, so the peak covers only what follows (as train-step does)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def loaded_blas():
    """The BLAS/LAPACK shared objects mapped into this process, and OpenBLAS's core name if it is one."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            name = os.path.basename(path)
            if "blas" in name or "lapack" in name or "mkl" in name:
                libs.add(path)
    core = None
    for path in sorted(libs):
        try:
            lib = ctypes.CDLL(path)
            fn = lib.openblas_get_corename
            fn.restype = ctypes.c_char_p
            core = fn().decode()
            break
        except (OSError, AttributeError):
            continue
    return sorted(libs), core


def gemm_flops(args):
    """The same GEMM FLOP count as Tensorlet.Bench/TrainStep/TrainStepFlops.cs (one-hot input not counted)."""
    b, h = args.batch, args.hidden
    if args.model == "ngram":
        return 3.0 * 2 * b * h * CHARACTERS
    t = SEQUENCE_LENGTH - 1
    rows = t * b
    gates = 3 if args.cell == "gru" else 4
    recurrent = 3 * (t - 1) * 2 * b * h * gates * h
    projection = 3 * 2 * rows * h * gates * h
    output = 3 * 2 * rows * h * CHARACTERS
    return args.layers * recurrent + (args.layers - 1) * projection + output


def percentile(sorted_values, p):
    index = p * (len(sorted_values) - 1)
    lo = math.floor(index)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (index - lo)


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["lstm", "ngram"], default="lstm")
    parser.add_argument("--cell", choices=["lstm", "gru"], default="lstm", help="the recurrent model's layer")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ngrams", type=int, default=4669)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--tf32", action="store_true", help="let cuBLAS and cuDNN use TF32 tensor cores (cuda only)")
    parser.add_argument("--no-cudnn", action="store_true", help="PyTorch's own LSTM kernels instead of cuDNN's (cuda only)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: PyTorch sees no CUDA GPU")
    device = torch.device(args.device)
    cuda = args.device == "cuda"
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cudnn.enabled = not args.no_cudnn

    load_start = load_average()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)

    # A pool of distinct synthetic batches, made before timing.
    pool = 16
    if args.model == "lstm":
        recurrent = gru_char_predict if args.cell == "gru" else lstm_char_predict
        model = recurrent(CHARACTERS, args.hidden, args.layers, args.dropout)
        sequences = torch.randint(0, CHARACTERS, (pool, args.batch, SEQUENCE_LENGTH), generator=generator).to(device)
        batches = [(s[:, :-1], s[:, 1:]) for s in sequences]
        rows = args.batch * (SEQUENCE_LENGTH - 1)
        vocab = CHARACTERS
        described = f"{args.cell} {args.layers}x{args.hidden}"
    else:
        model = ngram_mlp(args.ngrams, CHARACTERS, args.hidden, nn.ReLU())
        batches = [(torch.randint(0, args.ngrams, (args.batch,), generator=generator).to(device),
                    torch.randint(0, CHARACTERS, (args.batch,), generator=generator).to(device)) for _ in range(pool)]
        rows = args.batch
        vocab = args.ngrams
        described = f"ngram {args.ngrams}->{args.hidden}->{CHARACTERS}"

    model.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model.train()

    def step(i):
        x, y = batches[i % pool]
        optimizer.zero_grad()
        logits = model(F.one_hot(x, vocab).float())
        loss = criterion(logits.reshape(-1, CHARACTERS), y.reshape(-1))
        loss.backward()
        value = loss.item()
        optimizer.step()
        if cuda:
            torch.cuda.synchronize()  # the optimizer's kernels belong to this step's time
        return value

    libs, core = loaded_blas()  # before the first step only torch is mapped; check again after it
    peak_with_setup = status_mb("VmHWM:")
    peak_reset = reset_peak()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    first_loss = step(0)
    if not math.isfinite(first_loss) or abs(first_loss - math.log(CHARACTERS)) > 0.5:
        raise SystemExit(f"first loss {first_loss} is not near ln {CHARACTERS}")
    for i in range(1, args.warmup):
        step(i)
    libs, core = loaded_blas()

    seconds = []
    last_loss = float("nan")
    cpu0 = time.process_time()  # CLOCK_PROCESS_CPUTIME_ID, all threads, as train-step's cpu_ms_per_batch
    for i in range(args.batches):
        t0 = time.perf_counter()
        last_loss = step(args.warmup + i)
        seconds.append(time.perf_counter() - t0)

    cpu_per_batch = (time.process_time() - cpu0) / args.batches
    ordered = sorted(seconds)
    median = statistics.median(seconds)
    flops = gemm_flops(args)
    blas_config = [line.strip() for line in torch.__config__.show().splitlines() if "BLAS" in line or "LAPACK" in line]
    report = {
        "impl": "pytorch",
        "model": args.cell if args.model == "lstm" else args.model,
        "device": args.device,
        "hidden": args.hidden,
        "layers": args.layers if args.model == "lstm" else 1,
        "batch": args.batch,
        "threads": torch.get_num_threads(),
        "data": "synthetic",
        "warmup": args.warmup,
        "batches": args.batches,
        "ms_per_batch_median": round(median * 1000, 4),
        "ms_per_batch_p10": round(percentile(ordered, 0.1) * 1000, 4),
        "ms_per_batch_p90": round(percentile(ordered, 0.9) * 1000, 4),
        "ms_per_batch_mean": round(statistics.fmean(seconds) * 1000, 4),
        "cpu_ms_per_batch": round(cpu_per_batch * 1000, 4),
        "chars_per_batch": rows,
        "chars_per_s": round(rows / median),
        "gemm_gflop_per_batch": round(flops / 1e9, 4),
        "gflops": round(flops / median / 1e9, 4),
        "first_loss": round(first_loss, 4),
        "last_loss": round(last_loss, 4),
        "peak_working_set_mb": round(status_mb("VmHWM:")),
        "peak_working_set_with_setup_mb": round(peak_with_setup),
        "peak_reset": peak_reset,
        "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name() if cuda else None,
        "cudnn": torch.backends.cudnn.version() if cuda and torch.backends.cudnn.enabled else None,
        "tf32": args.tf32 if cuda else None,
        "peak_gpu_allocated_mb": round(torch.cuda.max_memory_allocated() / 2**20) if cuda else None,
        "blas_libraries": libs,
        "openblas_core": core,
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "torch_blas_config": blas_config,
        "load_avg_start": load_start,
        "load_avg_end": load_average(),
    }
    if cuda:
        print(f"pytorch {torch.__version__} {described}, batch {args.batch}, on {report['gpu']}, "
              f"cuDNN {report['cudnn'] or 'off'}, TF32 {'on' if args.tf32 else 'off'}")
    else:
        print(f"pytorch {torch.__version__} {described}, batch {args.batch}, {torch.get_num_threads()} threads, "
              f"BLAS {', '.join(libs) or 'none mapped'} (OpenBLAS core {core})")
    print(f"first loss {first_loss:.4f}; median {median * 1000:.2f} ms/batch (p10 {report['ms_per_batch_p10']:.2f}, "
          f"p90 {report['ms_per_batch_p90']:.2f}), CPU {report['cpu_ms_per_batch']:.2f} ms/batch, {report['chars_per_s']:,} chars/s, {report['gflops']:.1f} GFLOP/s; "
          f"peak {report['peak_working_set_mb']} MiB")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
