#!/usr/bin/env bash
# Regenerates the public-API baselines (PublicAPI.Shipped.txt / PublicAPI.Unshipped.txt) of the four
# packed projects from the current code, with the PublicApiAnalyzers' own code fixes:
#   RS0016  a public symbol missing from the baseline  -> added to PublicAPI.Unshipped.txt
#   RS0017  a baseline entry whose symbol is gone      -> removed (or marked *REMOVED* if it had shipped)
# PublicAPI.Shipped.txt is kept as it is: moving entries there is a release step, done by hand.
# Usage: scripts/update-public-api.sh            (then review `git diff -- '*PublicAPI*.txt'`)
#        scripts/update-public-api.sh --check    (exit 1 if the baselines are out of date; changes nothing)
set -euo pipefail
cd "$(dirname "$0")/.."

projects=(Tensorlet.Kernels Tensorlet.Core Tensorlet.Models Tensorlet.Onnx)
check=false
[[ "${1:-}" == "--check" ]] && check=true

if $check; then
  # The analyzers' diagnostics are errors in a normal build (TreatWarningsAsErrors), so a build is the check.
  stale=0
  for p in "${projects[@]}"; do
    out="$(dotnet build "$p/$p.csproj" -c Release -nologo -v quiet 2>&1 || true)"
    if grep -qE 'RS00(16|17|36|37)' <<<"$out"; then
      grep -E 'RS00(16|17|36|37)' <<<"$out" | sed -E 's/^ +//; s/ \[[^]]*\]$//' | sort -u
      stale=1
    fi
  done
  if [[ $stale -ne 0 ]]; then
    echo "The public-API baselines are out of date: run scripts/update-public-api.sh and review the diff." >&2
    exit 1
  fi
  echo "Public-API baselines are up to date."
  exit 0
fi

dotnet restore Tensorlet.Onnx/Tensorlet.Onnx.csproj -v quiet
for p in "${projects[@]}"; do
  unshipped="$p/PublicAPI.Unshipped.txt"
  [[ -f "$p/PublicAPI.Shipped.txt" ]] || printf '#nullable enable\n' > "$p/PublicAPI.Shipped.txt"
  # Start the unshipped list afresh, so entries for symbols that were renamed or made internal go away.
  printf '#nullable enable\n' > "$unshipped"
  echo "Updating $p ..."
  # Two passes: the first adds what is missing (RS0016); the second removes what is stale (RS0017) from the shipped list.
  dotnet format analyzers "$p/$p.csproj" --no-restore --diagnostics RS0016 --severity warn
  dotnet format analyzers "$p/$p.csproj" --no-restore --diagnostics RS0017 --severity warn
  # Sorted, so regenerating twice gives the same file and diffs stay small.
  { head -n 1 "$unshipped"; tail -n +2 "$unshipped" | LC_ALL=C sort -u; } > "$unshipped.tmp" && mv "$unshipped.tmp" "$unshipped"
done
git --no-pager diff --stat -- '*PublicAPI.*.txt' || true
