#!/usr/bin/env bash
# One-shot GPU check for the ILGPU GEMM (and every other cuda test case), with PyTorch beside it:
#   0. preflight: the GPU, its compute capability and driver (nvidia-smi); libcuda.so on the library path (linked to
#      libcuda.so.1 in a temporary folder when only that is installed); then Bench's cuda-info: the driver's CUDA
#      version and ILGPU's PTX target (the workbench, step 3, names the cuBLAS library it loaded). A failure stops
#      the script with one line, "preflight: FAILED, ...", exit 1,
#   1. builds the tests, the benchmarks and the kernel workbench (Release), or unpacks the bundle of scripts/gpu-bundle.sh,
#   2. runs the ILGPU GEMM tests and every test case named for cuda (they must run, not skip, when a GPU is present),
#   3. runs the ILGPU kernel workbench (dev/IlgpuKernels) on cuda: every GEMM variant (cuBLAS beside them) and every
#      LSTM recurrence variant, validated against float64, then timed at the LSTM's shapes,
#   4. times the training step on cuda, Tensorlet's train-step (the library's defaults) and the notebook's PyTorch modules
#      (bench/pytorch_train_step.py, cuDNN's LSTM, float32) in turn: LSTM 2x512, one --profile run of 2x512, LSTM 2x256
#      and the n-gram MLP.
# $OUT (default ./gpu-check-out) receives summary.txt and gpu-check-logs.tar.gz with every log: the device tool
# brings back at most 8 files from $OUT, and this writes about 25. Without a CUDA GPU the preflight says
# "no CUDA GPU present", only the preflight runs (unless GPU_CHECK_PARTS names parts) and the script exits 0. Exit codes: 0 ok, 1 a build/test/benchmark failed,
# 3 .NET is missing and no bundle was carried (only the PyTorch runs could be made).
# .NET: the H200 image has CUDA and PyTorch but no .NET. Run scripts/gpu-bundle.sh on a machine with the SDK and
#       carry .gpu-bundle (about 41 MB: the .NET runtime, the tests as a self-running NUnit executable, Tensorlet.Bench
#       and the workbench); where `dotnet` is on PATH the script builds from source instead.
# Environment: GPU_CHECK_PREBUILT=1 skips the build and uses Tensorlet.Tests/bin, Tensorlet.Bench/bin and
#              dev/IlgpuKernels/bin as carried over (SDK machines without the NuGet packages);
#              GPU_CHECK_DOTNET=bundle uses .gpu-bundle even where an SDK is present;
#              GPU_CHECK_PARTS (default tests,bench,train) runs only the parts named, e.g. GPU_CHECK_PARTS=train to
#              rerun the training steps alone;
#              GPU_CHECK_BENCH_TIMEOUT (seconds, default 240) bounds the workbench run;
#              GPU_CHECK_DEADLINE (seconds since the start, default 580) is when no further training-step run starts.
# Time: the GPU machine allows 600 s per call. Build ~150 s (none with the bundle) + tests + workbench <= 240 s +
# the training-step runs (<= 120 s each, cut off at the deadline) fit that.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 3
root=$(pwd)
result_dir="${OUT:-$root/gpu-check-out}"
mkdir -p "$result_dir"
out=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
summary="$out/summary.txt"
# On every exit: the summary, and all the logs in one archive.
# shellcheck disable=SC2317  # called by the trap
finish() {
  cp "$summary" "$result_dir/summary.txt"
  tar -C "$out" -czf "$result_dir/gpu-check-logs.tar.gz" .
}
trap finish EXIT
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
started=$(date +%s)
status=0
parts=",${GPU_CHECK_PARTS:-tests,bench,train},"
skip_reason="GPU_CHECK_PARTS=${GPU_CHECK_PARTS:-}"
wants() { [[ $parts == *",$1,"* ]]; }

say "gpu-check $(date -u +%FT%TZ) on $(hostname), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

# 0. Preflight: the GPU and its driver as nvidia-smi sees them, libcuda.so on the library path, then (once .NET is
#    there) what Tensorlet's cuda device sees: the driver's CUDA version and ILGPU's PTX target.
#    Any failure stops the script with one line, "preflight: FAILED, ...", before minutes go to a build.
preflight_fail() {
  say "preflight: FAILED, $*"
  exit 1
}
# find_library NAME: the folder on LD_LIBRARY_PATH or in the loader's cache that holds NAME, if any.
find_library() {
  local dir
  for dir in ${LD_LIBRARY_PATH//:/ }; do
    if [[ -e "$dir/$1" ]]; then
      echo "$dir"
      return
    fi
  done
  ldconfig -p 2> /dev/null | awk -v name="$1" '$1 == name { sub(/.* => /, ""); print; exit }' | xargs -r dirname
}
if command -v nvidia-smi > /dev/null 2>&1 && nvidia-smi -L > "$out/nvidia-smi.txt" 2>&1 && grep -q '^GPU ' "$out/nvidia-smi.txt"; then
  gpu=1
  nvidia-smi >> "$out/nvidia-smi.txt" 2>&1
  IFS=, read -r gpu_name driver_version compute_capability < <(nvidia-smi --query-gpu=name,driver_version,compute_cap \
    --format=csv,noheader 2> /dev/null | head -n 1 | sed 's/, */,/g')
  say "preflight: GPU ${gpu_name:-unknown}, compute capability ${compute_capability:-unknown}, NVIDIA driver ${driver_version:-unknown} (nvidia-smi)"
  # ILGPU loads the driver as libcuda.so; drivers install libcuda.so.1, and libcuda.so only with their development files.
  libcuda_dir=$(find_library libcuda.so)
  if [[ -n "$libcuda_dir" ]]; then
    say "preflight: libcuda.so resolves in $libcuda_dir"
  else
    libcuda_dir=$(find_library libcuda.so.1)
    [[ -n "$libcuda_dir" ]] || preflight_fail "nvidia-smi lists a GPU but neither libcuda.so nor libcuda.so.1 is on the library path"
    link_dir="$out/libcuda-link"
    mkdir -p "$link_dir" && ln -sf "$libcuda_dir/libcuda.so.1" "$link_dir/libcuda.so" \
      || preflight_fail "could not link libcuda.so to $libcuda_dir/libcuda.so.1 in $link_dir"
    export LD_LIBRARY_PATH="$link_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    say "preflight: only libcuda.so.1 is installed ($libcuda_dir); linked libcuda.so to it in $link_dir, on LD_LIBRARY_PATH"
  fi
else
  gpu=0
  say "preflight: no CUDA GPU present (nvidia-smi missing or lists no GPU): nothing here can run on cuda."
  if [[ -z "${GPU_CHECK_PARTS:-}" ]]; then
    # The parts below exist for a GPU; without one they would build and time only what CI covers.
    parts=","
    skip_reason="no CUDA GPU"
    say "preflight: only the preflight runs (GPU_CHECK_PARTS=tests,bench,train runs the parts anyway)."
  fi
fi

# .NET: the SDK on PATH (build from source), else the carried bundle, else none.
bundle_archive="$root/.gpu-bundle/tensorlet-gpu.tar.xz"
# GPU_CHECK_DOTNET=bundle uses the bundle even where an SDK is present (to check the bundle itself).
if [[ "${GPU_CHECK_DOTNET:-}" != bundle ]] && command -v dotnet > /dev/null 2>&1 && dotnet --list-sdks 2> /dev/null | grep -q .; then
  dotnet_mode=sdk
  dotnet --info > "$out/dotnet-info.txt" 2>&1
elif [[ -f "$bundle_archive" ]]; then
  dotnet_mode=bundle
  bundle_dir="${TMPDIR:-/tmp}/tensorlet-gpu-bundle"
  rm -rf "$bundle_dir" && mkdir -p "$bundle_dir"
  # tar needs xz for .tar.xz; Python's tarfile reads it without (the image has python3 for PyTorch).
  if ! tar -C "$bundle_dir" -xJf "$bundle_archive" 2> "$out/bundle-unpack.log" \
      && ! python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$bundle_archive" "$bundle_dir" 2>> "$out/bundle-unpack.log"; then
    say "bundle: FAILED to unpack $bundle_archive (see bundle-unpack.log)"
    exit 1
  fi
  export DOTNET_ROOT="$bundle_dir/dotnet" PATH="$bundle_dir/dotnet:$PATH"
  # The image may lack ICU; nothing measured here depends on culture data.
  export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
  say "bundle: $(head -n 1 "$bundle_dir/BUNDLE.txt" 2>/dev/null); running on $(dotnet --list-runtimes | head -n 1)"
  bundle_commit=$(awk 'NR == 1 { sub(/,$/, "", $2); print $2 }' "$bundle_dir/BUNDLE.txt" 2>/dev/null)
  head_commit=$(git rev-parse --short HEAD 2>/dev/null || true)
  if [[ -z "$head_commit" ]]; then
    say "bundle: NOTE this copy has no git history, so the bundle's commit ($bundle_commit) cannot be checked against it"
  elif [[ "$bundle_commit" != "$head_commit" ]]; then
    say "bundle: NOTE it was built at $bundle_commit and this checkout is at $head_commit; the results are the bundle's"
  fi
else
  dotnet_mode=none
  say ".NET is not installed here (no SDK on PATH) and no bundle was carried, so Tensorlet's checks cannot run."
  say "Run scripts/gpu-bundle.sh on a machine with the .NET 10 SDK and carry .gpu-bundle; the PyTorch runs still follow."
fi

# cuBLAS for the cuBLAS comparison: ILGPU looks for libcublas.so.12 (Tensorlet falls back to .13); on an image where
# only PyTorch's wheels bring cuBLAS, put their folder on the loader's path.
if ! ldconfig -p 2> /dev/null | grep -q 'libcublas\.so\.1[0-9]'; then
  for site in $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2> /dev/null); do
    cublas_dir=$(find "$site" -name 'libcublas.so.1[0-9]*' -printf '%h\n' 2> /dev/null | sort -u | head -n 1)
    if [[ -n "$cublas_dir" ]]; then
      export LD_LIBRARY_PATH="$cublas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      say "cuBLAS: $(find "$cublas_dir" -maxdepth 1 -name 'libcublas.so.1[0-9]*' -printf '%f ') from $cublas_dir (PyTorch's wheels)"
      break
    fi
  done
fi

# 1. Build (not when no part needs it).
if ! wants tests && ! wants bench && ! wants train; then
  [[ $dotnet_mode == sdk ]] && say "build: skipped, no part needs it"
elif [[ $dotnet_mode == sdk && "${GPU_CHECK_PREBUILT:-0}" != "1" ]]; then
  for project in Tensorlet.Tests Tensorlet.Bench dev/IlgpuKernels; do
    log="$out/build-${project//\//-}.log"
    if dotnet build "$project" -c Release > "$log" 2>&1; then
      say "build $project: ok"
    else
      say "build $project: FAILED (see $(basename "$log"))"
      tail -n 30 "$log"
      exit 1
    fi
  done
elif [[ $dotnet_mode == sdk ]]; then
  say "build: skipped (GPU_CHECK_PREBUILT=1), using bin/Release as carried"
fi
case $dotnet_mode in
  sdk)
    bench_dll="$root/Tensorlet.Bench/bin/Release/net10.0/Tensorlet.Bench.dll"
    workbench_dll="$root/dev/IlgpuKernels/bin/Release/net10.0/Tensorlet.Dev.IlgpuKernels.dll"
    ;;
  bundle)
    bench_dll="$bundle_dir/bench/Tensorlet.Bench.dll"
    workbench_dll="$bundle_dir/workbench/Tensorlet.Dev.IlgpuKernels.dll"
    ;;
  *) bench_dll= workbench_dll= ;;
esac

# The preflight's second half: the cuda device as Tensorlet sees it (Bench's cuda-info: one line each).
if [[ -n "$bench_dll" && -f "$bench_dll" ]]; then
  dotnet "$bench_dll" cuda-info > "$out/cuda-info.txt" 2>&1
  cuda_info_status=$?
  sed 's/^/preflight: /' "$out/cuda-info.txt" | tee -a "$summary"
  if [[ $gpu -eq 1 && $cuda_info_status -ne 0 ]]; then
    preflight_fail "a GPU is present but the cuda device cannot run: $(grep -m 1 -E '^cuda: ' "$out/cuda-info.txt" || tail -n 1 "$out/cuda-info.txt")"
  fi
elif [[ $dotnet_mode != none ]]; then
  say "preflight: Tensorlet.Bench is not built here, so the cuda device's view is not shown (dotnet build Tensorlet.Bench -c Release)"
fi

# 2. Tests: every ILGPU GEMM case, plus every case of any test whose name carries the cuda device.
filter="FullyQualifiedName~IlgpuGemm|FullyQualifiedName~cuda"
if ! wants tests; then
  say "tests: skipped ($skip_reason)"
elif [[ $dotnet_mode == sdk ]]; then
  # Run the built assembly itself, so a carried-over bin/ works without obj/ or a package restore.
  # A hang in a kernel never run on a GPU before must not take the whole call: 200 s at most.
  timeout 200 dotnet test Tensorlet.Tests/bin/Release/net10.0/Tensorlet.Tests.dll --filter "$filter" \
    --logger "trx;LogFileName=gpu-check.trx" --logger "console;verbosity=normal" \
    --results-directory "$out/test-results" > "$out/tests.log" 2>&1
  test_status=$?
  trx="$out/test-results/gpu-check.trx"
  if [[ -f "$trx" ]]; then
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
    get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
    total=$(get total); executed=$(get executed); passed=$(get passed); failed=$(get failed)
    skipped=$((total - executed))
  else
    say "tests: FAILED, no TRX file was written (see tests.log)"
  fi
  line_start='^\s+'  # vstest's console logger indents "Passed NAME"
elif [[ $dotnet_mode == bundle ]]; then
  # The bundle's tests run themselves (NUnit on Microsoft.Testing.Platform): no SDK, no vstest.
  timeout 200 dotnet "$bundle_dir/tests/Tensorlet.Tests.dll" --filter "$filter" --output Detailed --no-ansi --no-progress \
    --results-directory "$out/test-results" > "$out/tests.log" 2>&1
  test_status=$?
  summary_value() { grep -m 1 -E "^\s+$1: [0-9]+" "$out/tests.log" | grep -o '[0-9]*'; }
  total=$(summary_value total); failed=$(summary_value failed); passed=$(summary_value succeeded); skipped=$(summary_value skipped)
  line_start='^'  # Microsoft.Testing.Platform writes "passed NAME (time)"
fi
if [[ $dotnet_mode != none ]] && wants tests; then
  if [[ -n "${total:-}" ]]; then
    # Count cases by the device argument, "cuda" in lower case (not "NonCuda" in a test's name).
    cuda_run=$(grep -cE "${line_start}([Pp]assed|[Ff]ailed) .*cuda" "$out/tests.log")
    cuda_skipped=$(grep -cE "${line_start}[Ss]kipped .*cuda" "$out/tests.log")
    say "tests: $passed passed, $failed failed, $skipped skipped of $total; cuda cases run: $cuda_run, cuda cases skipped: $cuda_skipped"
    grep -E "${line_start}[Ff]ailed " "$out/tests.log" | head -n 20 | tee -a "$summary"
    if [[ $gpu -eq 1 && $cuda_run -eq 0 ]]; then
      say "tests: FAILED, a GPU is present but no cuda case ran (is the CUDA driver usable by ILGPU?)"
      status=1
    fi
  fi
  if [[ -z "${total:-}" ]]; then
    say "tests: FAILED, the test counts could not be read (see tests.log)"
    status=1
  fi
  if [[ $test_status -eq 124 ]]; then
    say "tests: TIMED OUT after 200 s (see tests.log for the last case that ran)"
    status=1
  elif [[ $test_status -ne 0 ]]; then
    say "tests: FAILED (the test run exited $test_status; see tests.log)"
    status=1
  fi
  if [[ $gpu -eq 0 ]]; then
    say "no CUDA GPU present: cuda test cases were skipped"
  fi
fi

# 3. The kernel workbench on cuda: every ILGPU GEMM variant (naive, tiled, tiled split-k, tiled 8x8, cuBLAS) and LSTM
#    recurrence variant (step by step, fused steps, fused steps on half rows), validated against float64, then timed.
if ! wants bench; then
  say "workbench: skipped ($skip_reason)"
elif [[ $gpu -eq 1 && -n "$workbench_dll" && -f "$workbench_dll" ]]; then
  bench_timeout="${GPU_CHECK_BENCH_TIMEOUT:-240}"
  timeout "$bench_timeout" dotnet "$workbench_dll" --device cuda --hidden 256,512 --iterations 20 > "$out/workbench.log" 2>&1
  bench_status=$?
  if [[ $bench_status -eq 0 ]]; then
    say "workbench: ok"
  elif [[ $bench_status -eq 124 ]]; then
    say "workbench: TIMED OUT after ${bench_timeout}s (partial log in workbench.log)"
    status=1
  else
    say "workbench: FAILED (exit $bench_status; see workbench.log)"
    status=1
  fi
  grep -E '^(check|time|workbench|cuBLAS)' "$out/workbench.log" | tee -a "$summary"
elif [[ $gpu -eq 1 ]]; then
  say "workbench: not run, this build has no dev/IlgpuKernels ($workbench_dll)"
else
  say "no CUDA GPU present: the kernel workbench was not run on cuda"
fi

# 4. Training steps on cuda (target: LSTM 2x512 in <= 10 ms at batch 100), Tensorlet and PyTorch in turn, most
#    wanted first, since a hard limit per call can cut the script: 2x512 and PyTorch's cuDNN beside it,
#    PyTorch without cuDNN and with TF32, one --profile run of
#    2x512 (its per-kernel table in its own log), 2x256, and the n-gram MLP. Synthetic ids on both sides: the corpus
#    does not travel to the GPU machine, and a step's cost depends only on its shapes. Each run gets at most 120 s,
#    and none starts once GPU_CHECK_DEADLINE seconds (default 580) have passed; the summary says which were skipped.
if ! wants train; then
  say "training steps: skipped ($skip_reason)"
elif [[ $gpu -eq 1 ]]; then
  deadline="${GPU_CHECK_DEADLINE:-580}"
  python=python3
  if ! "$python" -c 'import torch' > /dev/null 2>&1; then
    python=
    say "PyTorch: python3 has no torch module here, so the PyTorch runs are skipped"
  fi
  # timed_run NAME COMMAND...: one run into train-step-NAME.log; its JSON line (the last) goes to the summary.
  timed_run() {
    local name=$1 log="$out/train-step-$1.log" left limit rc
    shift
    left=$((deadline - ($(date +%s) - started)))
    if [[ $left -lt 30 ]]; then
      say "train-step $name on cuda: skipped, ${left}s left before the ${deadline}s deadline"
      return
    fi
    limit=$((left - 10 < 120 ? left - 10 : 120))
    timeout "$limit" "$@" > "$log" 2>&1
    rc=$?
    if [[ $rc -eq 0 ]]; then
      say "train-step $name on cuda: $(tail -n 1 "$log")"
    elif [[ $rc -eq 124 ]]; then
      say "train-step $name on cuda: TIMED OUT after ${limit}s (see train-step-$name.log)"
      status=1
    else
      say "train-step $name on cuda: FAILED (exit $rc; see train-step-$name.log)"
      status=1
    fi
  }
  # tensorlet NAME ARGS...: Tensorlet's train-step (skipped without .NET); pytorch NAME ARGS...: the notebook's modules.
  tensorlet() {
    local name=$1
    shift
    if [[ -n "$bench_dll" ]]; then
      timed_run "$name" dotnet "$bench_dll" train-step --batch 100 --device cuda --synthetic "$@"
    fi
  }
  pytorch() {
    local name=$1
    shift
    if [[ -n "$python" ]]; then
      timed_run "pytorch-$name" "$python" "$root/bench/pytorch_train_step.py" --batch 100 --device cuda "$@"
    fi
  }

  tensorlet lstm-512 --model lstm --hidden 512 --layers 2 --batches 20 --warmup 5
  pytorch lstm-512 --model lstm --hidden 512 --layers 2 --batches 20 --warmup 5
  pytorch lstm-512-no-cudnn --model lstm --hidden 512 --layers 2 --batches 10 --warmup 3 --no-cudnn
  # What tensor cores (TF32), which ILGPU 1.5.3 cannot reach, give cuDNN: context for the float32 figures.
  pytorch lstm-512-tf32 --model lstm --hidden 512 --layers 2 --batches 10 --warmup 3 --tf32
  tensorlet lstm-512-profile --model lstm --hidden 512 --layers 2 --batches 10 --warmup 3 --profile
  if [[ -f "$out/train-step-lstm-512-profile.log" ]]; then
    grep -m 1 '^profile over' "$out/train-step-lstm-512-profile.log" | sed 's/^/  /' | tee -a "$summary"
  fi
  tensorlet lstm-256 --model lstm --hidden 256 --layers 2 --batches 20 --warmup 5
  pytorch lstm-256 --model lstm --hidden 256 --layers 2 --batches 20 --warmup 5
  tensorlet ngram-100 --model ngram --hidden 100 --n 3 --batches 20 --warmup 5
  pytorch ngram-100 --model ngram --hidden 100 --batches 20 --warmup 5
else
  say "no CUDA GPU present: the cuda training steps were not run"
fi

if [[ $dotnet_mode == none ]]; then
  status=$((status == 0 ? 3 : status))
fi
say "gpu-check finished in $(( $(date +%s) - started ))s with status $status; summary.txt and gpu-check-logs.tar.gz in $result_dir"
exit $status
