#!/usr/bin/env bash
# Runs the whole test suite once per narrower register width the cpu device can choose, with the JIT restricted as on a
# machine that lacks the wider instructions: AVX2-only (DOTNET_EnableAVX512=0: Vector256), SSE-only
# (DOTNET_EnableAVX2=0: Vector128), no SIMD at all (DOTNET_EnableHWIntrinsic=0: scalar). Each pass first checks that the
# restriction took effect (the plan train-step reports is not wider than asked), since the JIT ignores a variable it
# does not know. The kernel tests force every width the machine runs anyway; these passes add everything else (the
# plan's own choice, the app, the models) as a narrower machine runs it.
# Usage: scripts/narrow-widths-check.sh [--no-build]   (--no-build: test what `dotnet build -c Release` built)
# Prints one line per pass, "<width> (<variable>): N passed, N failed, N skipped"; exits non-zero if any pass fails.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ "${1:-}" == "--no-build" ]] || dotnet build Tensorlet.sln -c Release -v q -nologo > /dev/null
results="$(pwd)/TestResults/narrow-widths"
rm -rf "$results"
mkdir -p "$results"

# variable=value, the widths the plan may then take (a machine without AVX2 takes Vector128 under the first).
passes=(
  "DOTNET_EnableAVX512=0|Vector256 Vector128 Scalar"
  "DOTNET_EnableAVX2=0|Vector128 Scalar"
  "DOTNET_EnableHWIntrinsic=0|Scalar"
)

status=0
summary=()
for pass in "${passes[@]}"; do
  setting="${pass%%|*}"
  allowed="${pass#*|}"
  plan=$(env "$setting" dotnet Tensorlet.Bench/bin/Release/net10.0/Tensorlet.Bench.dll train-step --model lstm --hidden 16 \
    --synthetic --batches 1 --warmup 1 | sed -n 's/.*"cpu_plan":"\([A-Za-z0-9]*\) .*/\1/p')
  if [[ " $allowed " != *" $plan "* ]]; then
    summary+=("$setting: the plan is '${plan:-unknown}', not one of $allowed; the restriction did not take effect")
    status=1
    continue
  fi

  name="${setting%%=*}"
  pass_status=0
  env "$setting" timeout --kill-after=60 40m dotnet test Tensorlet.sln -c Release --no-build --blame-hang-timeout 5m \
    --blame-hang-dump-type none --logger "trx;LogFileName=$name.trx" --results-directory "$results" > "$results/$name.log" 2>&1 \
    || pass_status=$?
  counters=$(grep -o '<Counters [^>]*>' "$results/$name.trx" 2>/dev/null | head -n 1 || true)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$(get passed)
  failed=$(($(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$(($(get total) - $(get executed)))
  summary+=("$plan ($setting): $passed passed, $failed failed, $skipped skipped")
  if [[ $pass_status -ne 0 || $failed -ne 0 || $passed -eq 0 ]]; then
    grep -E '^\s+Failed ' "$results/$name.log" | head -n 20 || true
    status=1
  fi
done

printf '%s\n' "${summary[@]}"
exit $status
