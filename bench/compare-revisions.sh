#!/usr/bin/env bash
# The training step of another revision beside this working tree's, alternated A B A B in one invocation, each run a
# fresh process with its own warm-up: the check that a change did not slow training down (the VMs vary by 15-30%
# between runs, so only figures taken side by side like this compare). On a machine loaded by other work, compare the CPU
# time per batch rather than the wall-clock rates.
#
# Usage: bench/compare-revisions.sh REV      (from the repository root; REV is any git revision, e.g. main~5)
# Environment: CONFIGS="lstm:256 lstm:512" (cell:hidden with cell lstm, gru or rnn, 2 layers, batch 100; or cnn, the
#              step of train-step --model cnn)  REPS=2  BATCHES=6  WARMUP=6  THREADS=2
#              (six warm-up batches let .NET finish tiering its JIT up; after one the step is still about 10% slower)
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bench/compare-revisions.sh REV}
CONFIGS=${CONFIGS:-"lstm:256 lstm:512"}
REPS=${REPS:-2}
BATCHES=${BATCHES:-6}
WARMUP=${WARMUP:-6}
THREADS=${THREADS:-2}

source bench/lib.sh
whole REPS BATCHES WARMUP THREADS
for config in $CONFIGS; do
  [[ "$config" =~ ^((lstm|gru|rnn):[1-9][0-9]*|cnn)$ ]] || { echo "${0##*/}: CONFIGS holds '$config'; each is lstm:H, gru:H, rnn:H or cnn" >&2; exit 2; }
done

base=$(mktemp -d)
trap 'git worktree remove --force "$base" >/dev/null 2>&1 || true; rm -rf "$base"' EXIT
git worktree add -q --detach "$base" "$REV"
echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== A: $(git rev-parse --short "$REV") ($REV)   B: this working tree ($(git rev-parse --short HEAD))"
build "$base/Tensorlet.Bench"
build Tensorlet.Bench
A="dotnet $base/Tensorlet.Bench/bin/Release/net10.0/Tensorlet.Bench.dll"
B="dotnet Tensorlet.Bench/bin/Release/net10.0/Tensorlet.Bench.dll"

field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }
for config in $CONFIGS; do
  cell=${config%%:*} h=${config##*:}
  if [ "$config" = cnn ]; then
    model=(--model cnn) name=cnn unit=images
  else
    model=(--model lstm --cell "$cell" --hidden "$h" --layers 2 --synthetic) name="$cell 2x$h" unit=chars
  fi
  for r in $(seq "$REPS"); do
    for side in A B; do
      bin=$A; [ "$side" = B ] && bin=$B
      out=$(run $bin train-step "${model[@]}" --batches "$BATCHES" --warmup "$WARMUP" --threads "$THREADS")
      echo "$side $name: $(echo "$out" | field ${unit}_per_s) $unit/s, $(echo "$out" | field gflops) GFLOP/s, CPU $(echo "$out" | field cpu_ms_per_batch) ms/batch (all threads), load $(cut -d' ' -f1 /proc/loadavg)"
    done
  done
done
echo "== load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
