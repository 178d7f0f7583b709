#!/usr/bin/env bash
# docs/quality.md's run: the notebook's LSTM 2x256 trained by Tensorlet (and the n-gram MLP) and by libtorch 2.10
# (TorchSharp-cpu 0.107) on the same split of 20 Newsgroups, one after the other, printing each epoch's validation
# loss. Needs the corpus (TENSORLET_DATA) and, for libtorch, the TorchSharp-cpu package (restored on first build).
# EPOCHS=10 THREADS=2. The split is written to a temporary folder, deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${EPOCHS:-10}"
THREADS="${THREADS:-2}"
if [[ -z "${TENSORLET_DATA:-}" ]]; then
    echo "bench/quality-vs-libtorch.sh: set TENSORLET_DATA to the folder that holds 20news-bydate.tar.gz" >&2
    exit 2
fi

split="$(mktemp -d)"
trap 'rm -rf "$split"' EXIT
source bench/lib.sh
whole EPOCHS THREADS
build Tensorlet.Bench
source bench/libtorch-env.sh
TENSORLET="dotnet Tensorlet.Bench/bin/Release/net10.0/Tensorlet.Bench.dll"
echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
$TENSORLET quality --export-split "$split"
env $PRELOAD $LIBTORCH --model quality --split "$split" --epochs "$EPOCHS" --threads "$THREADS"
$TENSORLET quality --epochs "$EPOCHS" --threads "$THREADS"
