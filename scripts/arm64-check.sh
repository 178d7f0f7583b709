#!/usr/bin/env bash
# Runs Tensorlet.Tests' kernel, layer, model and tensor tests on the `cpu` device (the float64-referenced GEMM,
# LSTM/GRU cell and recurrence, softmax and cross-entropy, Adam, dropout, elementwise ... tests, the finite-difference
# gradient checks and the PyTorch parity fixtures) as an ARM64 process on an x86-64 Linux machine, under qemu-aarch64
# user-mode emulation: the Vector128 (Neon) paths that ARM64 runs, which CI on x86 reaches only by forcing the width.
# Not part of CI (.ci/run); nothing in the normal build or tests needs qemu. About 5 minutes on 2 cores.
#
# Steps: publish tests/Arm64Runner self-contained for linux-arm64 (the SDK fetches the arm64 runtime pack), run it
# under qemu-aarch64, check that the process really was ARM64 with Vector128 chosen by the hardware plan, check that
# the JIT compiled the Neon GEMM microkernel to fused multiply-adds (fmla), and exit non-zero on any failure.
# Emulated speed means nothing; this checks correctness only.
#
# Needs: qemu-aarch64 (Debian/Ubuntu package qemu-user) and ARM64 glibc and libstdc++: on Debian/Ubuntu,
#   dpkg --add-architecture arm64 && apt-get update && apt-get install qemu-user libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64
# or a sysroot (debootstrap --arch arm64 ...) named by ARM64_SYSROOT.
#
# Usage: scripts/arm64-check.sh [test-name-prefix ...]
#   default: Tensorlet.Tests.Kernels. Tensorlet.Tests.Nn. Tensorlet.Tests.Models. Tensorlet.Tests.Core.
set -euo pipefail
cd "$(dirname "$0")/.."

sysroot="${ARM64_SYSROOT:-/}"
out="artifacts/arm64-check"
install_hint="on Debian/Ubuntu: dpkg --add-architecture arm64 && apt-get update && apt-get install qemu-user libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 (or set ARM64_SYSROOT to an arm64 root)"

qemu="$(command -v qemu-aarch64 || command -v qemu-aarch64-static || true)"
if [[ -z "$qemu" ]]; then
  echo "arm64-check: qemu-aarch64 is not installed; $install_hint" >&2
  exit 2
fi
if [[ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]] || ! compgen -G "$sysroot/usr/lib/aarch64-linux-gnu/libstdc++.so.6*" > /dev/null; then
  echo "arm64-check: no ARM64 glibc and libstdc++ under $sysroot; $install_hint" >&2
  exit 2
fi

echo "== publish tests/Arm64Runner for linux-arm64 (self-contained)"
rm -rf "$out"
dotnet publish tests/Arm64Runner/Arm64Runner.csproj -c Release -r linux-arm64 --self-contained -o "$out" -nologo -v quiet

echo "== run under $("$qemu" --version | head -n 1)"
log="$out/run.log"
jit="$out/gemm-microkernel128.asm"
status=0
# With W^X on (the default: JIT'd code mapped twice, writable and executable), the emulated process died about a
# minute into the kernel tests ("qemu: uncaught target signal 11 (Segmentation fault)", qemu 7.2); off, they pass.
# JitDisasm writes the Neon GEMM microkernels (the whole tile and the 4-row one) as the JIT compiled them, to check their
# k loops.
DOTNET_EnableWriteXorExecute=0 DOTNET_JitDisasm='*GemmMicrokernel128:Run *GemmMicrokernel128:RunUpTo4Rows' DOTNET_JitStdOutFile="$jit" \
  "$qemu" -L "$sysroot" "$out/Arm64Runner" "$@" 2>&1 | tee "$log" || status=$?

fail() {
  echo "arm64-check: FAILED: $1" >&2
  exit 1
}

[[ $status -eq 0 ]] || fail "the tests under qemu-aarch64 exited with $status (failures above)"
grep -q '^process architecture: Arm64,' "$log" || fail "the process was not ARM64"
grep -q '^AdvSimd.IsSupported: True, Vector128.IsHardwareAccelerated: True' "$log" || fail "AdvSimd (Neon) or Vector128 is not accelerated"
grep -q '^CPU plan: Vector128 (hardware)' "$log" || fail "the CPU plan did not choose Vector128 from the hardware"

# The fused multiply-adds by element (e.g. fmla v16.4s, v28.4s, v30.s[0]) in the listing of the method named $1.
by_element() {
  awk -v method="$1" '/^; Assembly listing for method / { on = index($0, method) > 0 }
    on && /^[[:space:]]+fmla[[:space:]]+v[0-9]+\.4s, v[0-9]+\.4s, v[0-9]+\.s\[[0-3]\]/ { n++ }
    END { print n + 0 }' "$jit"
}

if [[ -s "$jit" ]]; then
  # The k loops: 6 or 4 rows x 2 registers of 4 columns.
  whole=$(by_element 'GemmMicrokernel128:Run(')
  rows4=$(by_element 'GemmMicrokernel128:RunUpTo4Rows(')
  (( whole >= 12 )) || fail "the Neon GEMM microkernel has $whole fmla-by-element instructions, fewer than the 12 of its k loop ($jit)"
  if grep -q 'GemmMicrokernel128:RunUpTo4Rows(' "$jit"; then
    (( rows4 >= 8 )) || fail "the Neon 4-row GEMM microkernel has $rows4 fmla-by-element instructions, fewer than the 8 of its k loop ($jit)"
  fi

  echo "Neon GEMM microkernels: $whole fmla-by-element instructions in the 6x8 tile, $rows4 in the 4x8 one (JIT listing in $jit)"
else
  echo "Neon GEMM microkernel: not compiled in this run (no GEMM test selected), fmla check skipped"
fi

echo "arm64-check: passed"
