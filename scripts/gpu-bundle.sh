#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine without .NET (the H200 image has CUDA and PyTorch, not .NET):
#   dotnet/  the .NET 10 runtime this machine runs (the muxer, hostfxr and Microsoft.NETCore.App; no SDK),
#   tests/   Tensorlet.Tests as a self-running NUnit executable on Microsoft.Testing.Platform (no SDK, no vstest),
#   bench/   Tensorlet.Bench,
#   workbench/ the ILGPU kernel workbench (dev/IlgpuKernels),
# all framework-dependent for linux-x64, built from a clean checkout of HEAD (uncommitted changes are not in it).
# Output: .gpu-bundle/tensorlet-gpu.tar.xz (about 41 MB; .gpu-bundle is git-ignored). Rebuild it after every commit
# that the GPU run should include: gpu-check.sh runs what the bundle holds, and says so when it was built elsewhere. Name .gpu-bundle in the device
# tool's carry, and run scripts/gpu-check.sh there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/.gpu-bundle"
stage=$(mktemp -d)
checkout=$(mktemp -d)
cleanup() {
  git -C "$root" worktree remove --force "$checkout" > /dev/null 2>&1 || true
  rm -rf "$stage" "$checkout"
}
trap cleanup EXIT

if ! command -v dotnet > /dev/null 2>&1; then
  echo "gpu-bundle: the .NET 10 SDK is needed to build the bundle (no 'dotnet' on PATH)." >&2
  exit 3
fi

commit=$(git rev-parse --short HEAD)
git worktree add --detach --force "$checkout" HEAD > "$stage/worktree.log" 2>&1 || { cat "$stage/worktree.log" >&2; exit 1; }

echo "gpu-bundle: publishing the tests, the benchmarks and the workbench at $commit (linux-x64, framework-dependent)..."
# EnableNUnitRunner makes the test assembly its own runner, so the GPU machine needs only the runtime.
dotnet publish "$checkout/Tensorlet.Tests" -c Release -r linux-x64 --self-contained false \
  -p:EnableNUnitRunner=true -o "$stage/tests" > "$stage/publish-tests.log" 2>&1 \
  || { tail -n 30 "$stage/publish-tests.log"; exit 1; }
dotnet publish "$checkout/Tensorlet.Bench" -c Release -r linux-x64 --self-contained false \
  -o "$stage/bench" > "$stage/publish-bench.log" 2>&1 \
  || { tail -n 30 "$stage/publish-bench.log"; exit 1; }
dotnet publish "$checkout/dev/IlgpuKernels" -c Release -r linux-x64 --self-contained false \
  -o "$stage/workbench" > "$stage/publish-workbench.log" 2>&1 \
  || { tail -n 30 "$stage/publish-workbench.log"; exit 1; }
# Code coverage and other platforms' native libraries are not needed on the GPU machine.
rm -rf "$stage/tests/CodeCoverage" "$stage/tests/macos" "$stage/tests/alpine" "$stage/tests/ubuntu"

# The runtime: the newest Microsoft.NETCore.App 10.x this dotnet has, with the muxer and hostfxr beside it.
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" && $2 ~ /^10\./ { version = $2 } END { print version }')
if [[ -z "$runtime" ]]; then
  echo "gpu-bundle: no Microsoft.NETCore.App 10.x runtime found under $dotnet_root." >&2
  exit 1
fi
mkdir -p "$stage/dotnet/shared/Microsoft.NETCore.App" "$stage/dotnet/host/fxr"
cp "$dotnet_root/dotnet" "$stage/dotnet/"
cp -r "$dotnet_root/shared/Microsoft.NETCore.App/$runtime" "$stage/dotnet/shared/Microsoft.NETCore.App/"
cp -r "$dotnet_root/host/fxr/$(find "$dotnet_root/host/fxr" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)" "$stage/dotnet/host/fxr/"

echo "Tensorlet $commit, built $(date -u +%FT%TZ) on $(hostname), .NET runtime $runtime" > "$stage/BUNDLE.txt"
mkdir -p "$out"
# Written beside the old archive, then renamed, so an interrupted run leaves the old one intact.
XZ_OPT="-6 -T0" tar -C "$stage" -cJf "$out/tensorlet-gpu.tar.xz.tmp" BUNDLE.txt dotnet tests bench workbench
mv "$out/tensorlet-gpu.tar.xz.tmp" "$out/tensorlet-gpu.tar.xz"
echo "gpu-bundle: $out/tensorlet-gpu.tar.xz ($(du -h "$out/tensorlet-gpu.tar.xz" | cut -f1)); carry .gpu-bundle and run scripts/gpu-check.sh"
