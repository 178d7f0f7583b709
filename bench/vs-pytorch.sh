#!/usr/bin/env bash
# Tensorlet's training step beside the notebook's PyTorch one, on this machine, in one invocation.
#
# For each configuration (LSTM 2x256, LSTM 2x512, GRU 2x256 if asked, n-gram MLP n=3) and thread count, it runs the two
# alternately, A B A B ... (REPS times each), each run a fresh process with its own warm-up, and prints
# every run's throughput, then per configuration the medians, the ratio Tensorlet/PyTorch and the peak
# resident memory of both. Both sides use synthetic ids of the corpus's shapes (a step's cost depends only
# on the shapes); set REAL=1 to give Tensorlet the real corpus (TENSORLET_DATA) instead.
#
# PyTorch is Debian's python3-torch (/usr/bin/python3) on OpenBLAS with OPENBLAS_NUM_THREADS=1 and
# torch.set_num_threads(T). OpenBLAS 0.3.21 does not know this CPU and falls back to its generic
# "Prescott" (SSE3) kernels; OPENBLAS_CORETYPE=SkylakeX selects its AVX-512 kernels, which this script
# checks for correctness (sgemm against float64) before using. CORETYPES lists the PyTorch variants to run:
# "default" (whatever OpenBLAS picks, with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset) and/or "SkylakeX".
#
# Usage: bench/vs-pytorch.sh            (from the repository root)
# Environment: CONFIGS="lstm-2x256 lstm-2x512 ngram" (also: gru-2x256)  THREADS="1 2"  REPS=2  CORETYPES="default SkylakeX"
#              LSTM_BATCHES=4 LSTM_WARMUP=1 NGRAM_BATCHES=300 NGRAM_WARMUP=30  RESULTS=bench/results/vs-pytorch-<time>.jsonl
#              PYTORCH_ENV="OMP_WAIT_POLICY=PASSIVE" (extra environment for the PyTorch runs: on a machine loaded by
#              other work, OpenMP's spinning workers make 2-thread PyTorch many times slower; passive waiting avoids
#              that. On an idle machine leave it unset.) The label then says pytorch[CORETYPE,passive].
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIGS=${CONFIGS:-"lstm-2x256 lstm-2x512 ngram"}
THREADS=${THREADS:-"1 2"}
REPS=${REPS:-2}
CORETYPES=${CORETYPES:-"default SkylakeX"}
LSTM_BATCHES=${LSTM_BATCHES:-4}
LSTM_WARMUP=${LSTM_WARMUP:-1}
NGRAM_BATCHES=${NGRAM_BATCHES:-300}
NGRAM_WARMUP=${NGRAM_WARMUP:-30}
PYTHON=${PYTHON:-/usr/bin/python3}
source bench/lib.sh
whole REPS LSTM_BATCHES LSTM_WARMUP NGRAM_BATCHES NGRAM_WARMUP
for config in $CONFIGS; do
  [[ "$config" =~ ^(lstm-2x256|lstm-2x512|gru-2x256|ngram)$ ]] || { echo "${0##*/}: unknown configuration '$config'; use lstm-2x256, lstm-2x512, gru-2x256 or ngram" >&2; exit 2; }
done
if ! torch_version=$($PYTHON -c 'import torch; print(torch.__version__)' 2>/dev/null); then
  echo "${0##*/}: $PYTHON cannot import torch; install Debian's python3-torch (apt-get install python3-torch) or set PYTHON" >&2
  exit 2
fi
mkdir -p bench/results
RESULTS=${RESULTS:-bench/results/vs-pytorch-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
: > "$RESULTS"

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== BLAS alternative: $(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | sed -n 's/^Value: //p')"
echo "== torch: $torch_version"

echo "== building Tensorlet.Bench (Release)"
build Tensorlet.Bench
TENSORLET="dotnet Tensorlet.Bench/bin/Release/net10.0/Tensorlet.Bench.dll"

# OPENBLAS_CORETYPE=X only where OpenBLAS's X kernels give right answers here.
check_coretype() {
  env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE="$1" OPENBLAS_NUM_THREADS=1 $PYTHON - <<'PY'
import torch
torch.manual_seed(0)
for m, n, k in [(100, 1024, 256), (1024, 256, 9900), (100, 32, 4669), (7, 33, 127)]:
    a, b = torch.randn(m, k), torch.randn(k, n)
    ref = a.double() @ b.double()
    err = ((a @ b).double() - ref).abs().max().item() / ref.abs().max().item()
    assert err < 1e-5 * k ** 0.5, (m, n, k, err)
print("ok")
PY
}

pytorch_env() { # coretype -> env arguments
  if [ "$1" = default ]; then echo "-u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"; else echo "-u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=$1"; fi
}

for ct in $CORETYPES; do
  if [ "$ct" != default ]; then
    if check_coretype "$ct" > /dev/null 2>&1; then echo "== OPENBLAS_CORETYPE=$ct: sgemm checked against float64, ok"
    else echo "== OPENBLAS_CORETYPE=$ct gives wrong sgemm results or fails here: skipped"; CORETYPES=${CORETYPES//$ct/}; fi
  fi
done

args_for() { # config -> "model cell hidden layers batches warmup"
  case "$1" in
    lstm-2x256) echo "lstm lstm 256 2 $LSTM_BATCHES $LSTM_WARMUP" ;;
    lstm-2x512) echo "lstm lstm 512 2 $LSTM_BATCHES $LSTM_WARMUP" ;;
    gru-2x256) echo "lstm gru 256 2 $LSTM_BATCHES $LSTM_WARMUP" ;;
    ngram) echo "ngram lstm 100 1 $NGRAM_BATCHES $NGRAM_WARMUP" ;;
    *) echo "unknown configuration $1" >&2; exit 2 ;; # checked above
  esac
}

run_one() { # label, command... ; appends the JSON line, prints a one-line summary
  local label=$1; shift
  local out
  if ! out=$("$@" 2>&1); then echo "$out" | tail -5; echo "!! $label failed"; return 1; fi
  local json
  json=$(echo "$out" | tail -1)
  echo "$json" | $PYTHON -c "import json,sys; r=json.loads(sys.stdin.read()); r['label']='$label'; print(json.dumps(r))" >> "$RESULTS"
  echo "$json" | $PYTHON -c "import json,sys; r=json.loads(sys.stdin.read()); print(f\"   $label: {r['ms_per_batch_median']:.2f} ms/batch (p10 {r['ms_per_batch_p10']:.2f}, p90 {r['ms_per_batch_p90']:.2f}), CPU {r['cpu_ms_per_batch']:.2f} ms/batch, {r['chars_per_s']:,.0f} chars/s, {r['gflops']:.1f} GFLOP/s, peak {r['peak_working_set_mb']:.0f} MiB, load {r['load_avg_end']}\")"
}

data_flag=--synthetic
[ "${REAL:-0}" = 1 ] && data_flag=

for config in $CONFIGS; do
  read -r model cell hidden layers batches warmup <<< "$(args_for "$config")"
  for t in $THREADS; do
    echo "== $config, $t thread(s)"
    for rep in $(seq "$REPS"); do
      for ct in $CORETYPES; do
        # shellcheck disable=SC2046
        run_one "pytorch[$ct${PYTORCH_ENV:+,passive}] $config t=$t" env $(pytorch_env "$ct") OPENBLAS_NUM_THREADS=1 ${PYTORCH_ENV:-} \
          $PYTHON bench/pytorch_train_step.py --model "$model" --cell "$cell" --hidden "$hidden" --layers "$layers" --batch 100 \
          --batches "$batches" --warmup "$warmup" --threads "$t" || true
      done
      # --cell and --layers are the recurrent model's: train-step refuses them with --model ngram.
      recurrent_flags=()
      [ "$model" = lstm ] && recurrent_flags=(--cell "$cell" --layers "$layers")
      run_one "tensorlet $config t=$t" $TENSORLET train-step --model "$model" ${recurrent_flags[@]+"${recurrent_flags[@]}"} --hidden "$hidden" \
        --batch 100 --batches "$batches" --warmup "$warmup" --device cpu --threads "$t" $data_flag || true
    done
  done
done

echo "== summary (medians over runs; ratio = Tensorlet chars/s ÷ PyTorch chars/s; CPU ratio = PyTorch CPU ms ÷ Tensorlet CPU ms); results in $RESULTS"
$PYTHON bench/summarize_results.py "$RESULTS"
