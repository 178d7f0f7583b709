#!/usr/bin/env bash
# Tensorlet's LSTM (and GRU or Elman RNN) training step beside libtorch 2.10's (TorchSharp-cpu 0.107, bench/libtorch-train-step), alternated
# A B A B in one invocation, each run a fresh process with its own warm-up; with NGRAM=1 also the notebook's n-gram MLP
# step (n = 3, hidden 100, batch 100, 4669 n-grams; times in ms/batch); with CNN=1 also a small image classifier's step
# (train-step --model cnn: three 3×3 convolutions with batch norm and pooling, batch 100 of 3×32×32, 10 classes; in
# images/s, on THREADS threads, with a peak before and after each round as the LSTM's); with GEMMS also the GEMM alone
# on the step's shapes (Tensorlet.Bench's `gemm` beside the tool's --model gemm); then the FMA peak of this machine
# (FmaPeakBenchmarks, medium job), so every figure of the table comes from the same run. It ends with a summary: per
# workload, each round's Tensorlet/libtorch ratio and Tensorlet's fraction of the peak, and the medians of both; for
# the training rounds also the fraction of a peak taken just before and after that round (Tensorlet.Bench's `peak`).
#
# The libtorch project is not in Tensorlet.sln (its restore is about 1.3 GB); bench/libtorch-env.sh builds it and, on a
# system whose libstdc++ predates GCC 13 (Debian 12), makes it load (nothing outside its bin/ changes).
#
# Usage: bench/vs-libtorch.sh            (from the repository root)
# Environment: CELLS="lstm" (or "lstm gru rnn", or "" for none)  HIDDEN="256 512"  REPS=2  BATCHES=6  WARMUP=6  THREADS=2
#              (.NET tiers its JIT up over the first few batches: after one warm-up batch the 2×256 step runs about
#              10% below its steady state, after six it is there; libtorch gets the same warm-up.)
#              NGRAM=0 (1 adds the n-gram step; NGRAM_BATCHES=300 NGRAM_WARMUP=30 NGRAM_THREADS=1)  PEAK=1 (0 skips the FMA peaks)
#              CNN=0 (1 adds the CNN step; CNN_BATCHES=20 CNN_WARMUP=5: a round of both sides in about 10-20 s on 2 cores)
#              GEMMS="" (names of Tensorlet.Bench's StepGemmShape, e.g. "OutputHead OutputHeadWeightGradient": the GEMM alone on
#              each of the step's shapes at each HIDDEN, Tensorlet's `gemm` beside libtorch's addmm, operands cold as in
#              the step unless GEMM_COLD=0; rates in GFLOP/s)
#              PEAK_JOB=medium (BenchmarkDotNet's job for the peak: short's three iterations moved it by 5% between
#              runs, 217-228 GFLOP/s on the AMD EPYC, where medium gave 220-224 in four runs, in about 100 s instead of 30)
#              LIBTORCH_ENV="OMP_WAIT_POLICY=PASSIVE" (extra environment for the libtorch runs, for a loaded machine)
set -euo pipefail
cd "$(dirname "$0")/.."

CELLS=${CELLS-lstm}
HIDDEN=${HIDDEN:-"256 512"}
REPS=${REPS:-2}
BATCHES=${BATCHES:-6}
WARMUP=${WARMUP:-6}
THREADS=${THREADS:-2}
PEAK=${PEAK:-1}
PEAK_JOB=${PEAK_JOB:-medium}
LIBTORCH_ENV=${LIBTORCH_ENV:-}
NGRAM=${NGRAM:-0}
NGRAM_BATCHES=${NGRAM_BATCHES:-300}
NGRAM_WARMUP=${NGRAM_WARMUP:-30}
NGRAM_THREADS=${NGRAM_THREADS:-1}
CNN=${CNN:-0}
CNN_BATCHES=${CNN_BATCHES:-20}
CNN_WARMUP=${CNN_WARMUP:-5}
GEMMS=${GEMMS:-}
GEMM_COLD=${GEMM_COLD:-1}

source bench/lib.sh
whole REPS BATCHES WARMUP THREADS NGRAM_BATCHES NGRAM_WARMUP NGRAM_THREADS CNN_BATCHES CNN_WARMUP
for cell in $CELLS; do
  [[ "$cell" =~ ^(lstm|gru|rnn)$ ]] || { echo "${0##*/}: CELLS holds '$cell'; the cells are lstm, gru and rnn" >&2; exit 2; }
done
for h in $HIDDEN; do
  [[ "$h" =~ ^[1-9][0-9]*$ ]] || { echo "${0##*/}: HIDDEN holds '$h', not a whole number of at least 1" >&2; exit 2; }
done

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
build Tensorlet.Bench
TENSORLET="dotnet Tensorlet.Bench/bin/Release/net10.0/Tensorlet.Bench.dll"
source bench/libtorch-env.sh

RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }
# The FMA peak of this moment (about 1.5 s), taken before and after each Tensorlet round: the host's speed drifts over
# minutes, so the round's fraction of the peak is also given against the mean of these two. A reading more than 10%
# below the other is a stall of the host during that second (one read 179 beside 229), not the speed of the minutes
# the round ran in, so the higher reading stands alone: averaging the stall in would overstate the round's fraction.
round_peak() { if [ "$PEAK" = 1 ]; then $TENSORLET peak --threads "$THREADS" | field gflops; else echo -; fi; }
beside() { if [ "$1" = - ]; then echo -; else python3 -c "lo, hi = sorted(($1, $2)); print(round(hi if lo < 0.9 * hi else (lo + hi) / 2, 1))"; fi; }
for cell in $CELLS; do
  for h in $HIDDEN; do
    for r in $(seq "$REPS"); do
      before=$(round_peak)
      t=$(run $TENSORLET train-step --model lstm --cell "$cell" --hidden "$h" --layers 2 --synthetic --batches "$BATCHES" --warmup "$WARMUP" --threads "$THREADS")
      after=$(round_peak)
      echo "tensorlet $cell 2x$h: $(echo "$t" | field chars_per_s) chars/s, $(echo "$t" | field gflops) GFLOP/s  [$(echo "$t" | field cpu_plan)]; peak beside it $before, $after"
      l=$(run env $PRELOAD $LIBTORCH_ENV $LIBTORCH --cell "$cell" --hidden "$h" --layers 2 --batches "$BATCHES" --warmup "$WARMUP" --threads "$THREADS")
      echo "libtorch  $cell 2x$h: $(echo "$l" | field chars_per_s) chars/s, $(echo "$l" | field gflops) GFLOP/s  [torch $(echo "$l" | field torch)]"
      echo "$cell 2x$h $(echo "$t" | field chars_per_s) $(echo "$l" | field chars_per_s) $(echo "$t" | field gflops) $(beside "$before" "$after")" >> "$RESULTS"
    done
  done
done

if [ "$NGRAM" = 1 ]; then
  for r in $(seq "$REPS"); do
    t=$(run $TENSORLET train-step --model ngram --n 3 --hidden 100 --batch 100 --synthetic --batches "$NGRAM_BATCHES" --warmup "$NGRAM_WARMUP" --threads "$NGRAM_THREADS")
    echo "tensorlet ngram: $(echo "$t" | field ms_per_batch_median) ms/batch, CPU $(echo "$t" | field cpu_ms_per_batch) ms/batch"
    l=$(run env $PRELOAD $LIBTORCH_ENV $LIBTORCH --model ngram --hidden 100 --batch 100 --batches "$NGRAM_BATCHES" --warmup "$NGRAM_WARMUP" --threads "$NGRAM_THREADS")
    echo "libtorch  ngram: $(echo "$l" | field ms_per_batch_median) ms/batch, CPU $(echo "$l" | field cpu_ms_per_batch) ms/batch  [torch $(echo "$l" | field torch)]"
    # Times, not rates: libtorch's over Tensorlet's is the speed-up.
    echo "ngram - $(echo "$l" | field ms_per_batch_median) $(echo "$t" | field ms_per_batch_median) - -" >> "$RESULTS"
  done
fi

if [ "$CNN" = 1 ]; then
  for r in $(seq "$REPS"); do
    before=$(round_peak)
    t=$(run $TENSORLET train-step --model cnn --batch 100 --batches "$CNN_BATCHES" --warmup "$CNN_WARMUP" --threads "$THREADS")
    after=$(round_peak)
    echo "tensorlet cnn: $(echo "$t" | field images_per_s) images/s, $(echo "$t" | field gflops) GFLOP/s; peak beside it $before, $after"
    l=$(run env $PRELOAD $LIBTORCH_ENV $LIBTORCH --model cnn --batch 100 --batches "$CNN_BATCHES" --warmup "$CNN_WARMUP" --threads "$THREADS")
    echo "libtorch  cnn: $(echo "$l" | field images_per_s) images/s, $(echo "$l" | field gflops) GFLOP/s  [torch $(echo "$l" | field torch)]"
    echo "cnn - $(echo "$t" | field images_per_s) $(echo "$l" | field images_per_s) $(echo "$t" | field gflops) $(beside "$before" "$after")" >> "$RESULTS"
  done
fi

for shape in $GEMMS; do
  for h in $HIDDEN; do
    for r in $(seq "$REPS"); do
      t=$(run $TENSORLET gemm --shape "$shape" --hidden "$h" --threads "$THREADS" $([ "$GEMM_COLD" = 1 ] && echo --cold))
      echo "tensorlet gemm $shape H=$h: $(echo "$t" | field ms_median) ms, $(echo "$t" | field gflops) GFLOP/s, $(echo "$t" | field copies) copies"
      l=$(run env $PRELOAD $LIBTORCH_ENV $LIBTORCH --model gemm --shape "$shape" --hidden "$h" --threads "$THREADS" --copies "$(echo "$t" | field copies)")
      echo "libtorch  gemm $shape H=$h: $(echo "$l" | field ms_median) ms, $(echo "$l" | field gflops) GFLOP/s  [torch $(echo "$l" | field torch)]"
      echo "$shape H=$h $(echo "$t" | field gflops) $(echo "$l" | field gflops) $(echo "$t" | field gflops) -" >> "$RESULTS"
    done
  done
done

PEAK_TABLE=""
if [ "$PEAK" = 1 ]; then
  PEAK_TABLE=$($TENSORLET --filter '*FmaPeak*' --job "$PEAK_JOB" 2>&1 | grep -E '^\|' || true)
  echo "$PEAK_TABLE"
fi

# The summary: the peak is the FmaPeak row for THREADS threads (none when PEAK=0 or the row is missing).
PEAK_TABLE="$PEAK_TABLE" python3 - "$RESULTS" "$THREADS" <<'PY'
import os, statistics, sys
peak = None
for line in os.environ["PEAK_TABLE"].splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) > 2 and cells[0] == "Fma" and cells[1] == sys.argv[2]:
        peak = float(cells[-1])
rows = {}
for line in open(sys.argv[1]):
    name, size, ours, theirs, gflops, own_peak = line.split()
    rows.setdefault(name if size == "-" else f"{name} {size}", []).append((float(ours), float(theirs), gflops, own_peak))
if not rows:
    sys.exit()
print(f"== summary: Tensorlet over libtorch per round, then Tensorlet's fraction of the FMA peak "
      f"({f'{peak:g} GFLOP/s on {sys.argv[2]} threads' if peak else 'not measured'}); medians after the bars")
for name, rounds in rows.items():
    ratios = [ours / theirs for ours, theirs, _, _ in rounds]
    line = f"{name:10} " + " ".join(f"{r:.2f}x" for r in ratios) + f" | {statistics.median(ratios):.2f}x"
    fractions = [100 * float(g) / peak for _, _, g, _ in rounds if g != "-"] if peak else []
    if fractions:
        line += "   " + " ".join(f"{f:.1f}%" for f in fractions) + f" | {statistics.median(fractions):.1f}%"
    own = [100 * float(g) / float(p) for _, _, g, p in rounds if g != "-" and p != "-"]
    if own:
        line += "   (of the peak beside each round: " + " ".join(f"{f:.1f}%" for f in own) + f" | {statistics.median(own):.1f}%)"
    print(line)
PY
echo "== load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
