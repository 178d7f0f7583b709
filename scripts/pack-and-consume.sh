#!/usr/bin/env bash
# Packs Tensorlet.Kernels, Tensorlet.Core, Tensorlet.Models and Tensorlet.Onnx into artifacts/packages, checks what is in
# the packages (scripts/check-packages.py), then builds samples/Consumer against those packages, not the
# projects, and runs it. Any packaging mistake (a missing dependency or file, a wrong TFM, a project that
# should not be packed) fails it.
# Usage: scripts/pack-and-consume.sh [--no-build]   (--no-build: pack what `dotnet build -c Release` built)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

no_build=()
[[ "${1:-}" == "--no-build" ]] && no_build=(--no-build)

version="$(dotnet msbuild Tensorlet.Core/Tensorlet.Core.csproj -getProperty:Version -nologo)"
packages="$root/artifacts/packages"
rm -rf "$packages"

echo "== Packing Tensorlet $version"
dotnet pack Tensorlet.sln -c Release "${no_build[@]}" -nologo -v quiet

echo "== Checking the packages"
python3 scripts/check-packages.py "$packages" "$version"

echo "== Building samples/Consumer against the packages"
# A fresh package folder, so a Tensorlet package cached by an earlier run (same version, other contents)
# cannot stand in for the one just packed. ILGPU still comes from NuGet's HTTP cache when it is there.
export NUGET_PACKAGES="$root/artifacts/consumer-nuget"
rm -rf "$NUGET_PACKAGES" samples/Consumer/bin samples/Consumer/obj
dotnet restore samples/Consumer -p:TensorletVersion="$version" -nologo -v quiet
dotnet build samples/Consumer -c Release --no-restore -p:TensorletVersion="$version" -nologo -v quiet

# The consumer must have been compiled against the packages, not the projects.
assets=samples/Consumer/obj/project.assets.json
for id in Tensorlet.Onnx Tensorlet.Models Tensorlet.Core Tensorlet.Kernels ILGPU ILGPU.Algorithms Google.Protobuf; do
  grep -q "\"$id/[^\"]*\": {" "$assets" || { echo "The consumer did not restore the package $id." >&2; exit 1; }
done
grep -q '"type": "project"' "$assets" && { echo "The consumer restored a project reference." >&2; exit 1; }

echo "== Running samples/Consumer"
dotnet samples/Consumer/bin/Release/net10.0/Consumer.dll
