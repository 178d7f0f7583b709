#!/usr/bin/env bash
# Packs Tensorlet.Kernels, Tensorlet.Core, Tensorlet.Models and Tensorlet.Onnx into artifacts/packages, checks what
# is in the packages (scripts/check-packages.py), then builds samples/Consumer and samples/NewsgroupClassifier
# against those packages, not the projects, and runs them (the classifier, each of its two models, on a small slice
# of the corpus in $TENSORLET_DATA; without the corpus it says so and is skipped). Any packaging mistake (a missing dependency
# or file, a wrong TFM, a project that should not be packed) fails it.
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
# ContinuousIntegrationBuild maps the build machine's paths to /_/ in the DLLs and PDBs (with --no-build, the build
# before it decides: CI=true sets it there).
dotnet pack Tensorlet.sln -c Release "${no_build[@]}" -p:ContinuousIntegrationBuild=true -nologo -v quiet

echo "== Checking the packages"
python3 scripts/check-packages.py "$packages" "$version"

# A fresh package folder, so a Tensorlet package cached by an earlier run (same version, other contents)
# cannot stand in for the one just packed. ILGPU still comes from NuGet's HTTP cache when it is there.
export NUGET_PACKAGES="$root/artifacts/consumer-nuget"
rm -rf "$NUGET_PACKAGES"

# Builds samples/$1 against the packages and checks it was compiled against them (the packages named after
# it, which it uses directly or through a dependency), not the projects.
build_against_packages() {
  echo "== Building samples/$1 against the packages"
  rm -rf "samples/$1/bin" "samples/$1/obj"
  dotnet restore "samples/$1" -p:TensorletVersion="$version" -nologo -v quiet
  dotnet build "samples/$1" -c Release --no-restore -p:TensorletVersion="$version" -nologo -v quiet
  local assets="samples/$1/obj/project.assets.json"
  for id in "${@:2}"; do
    grep -q "\"$id/[^\"]*\": {" "$assets" || { echo "samples/$1 did not restore the package $id." >&2; exit 1; }
  done
  grep -q '"type": "project"' "$assets" && { echo "samples/$1 restored a project reference." >&2; exit 1; }
  return 0
}

build_against_packages Consumer Tensorlet.Onnx Tensorlet.Models Tensorlet.Core Tensorlet.Kernels ILGPU ILGPU.Algorithms Google.Protobuf
echo "== Running samples/Consumer"
dotnet samples/Consumer/bin/Release/net10.0/Consumer.dll

build_against_packages NewsgroupClassifier Tensorlet.Models Tensorlet.Core Tensorlet.Kernels ILGPU ILGPU.Algorithms
echo "== Running samples/NewsgroupClassifier on a slice of the corpus"
classifier=samples/NewsgroupClassifier/bin/Release/net10.0/NewsgroupClassifier.dll
if [[ -n "${TENSORLET_DATA:-}" && ( -f "$TENSORLET_DATA/20news-bydate.tar.gz" || -d "$TENSORLET_DATA/20news-bydate-train" ) ]]; then
  # Both models, each one epoch on 200 posts of each split: the char-CNN (the default) and the LSTM.
  dotnet "$classifier" --limit 200 --epochs 1 --max-chars 128 --seed 0
  dotnet "$classifier" --model lstm --limit 200 --epochs 1 --max-chars 128 --seed 0
else
  echo "Skipped: the 20 Newsgroups corpus is not in TENSORLET_DATA=${TENSORLET_DATA:-(unset)}."
  # Still check that the app reports the missing corpus as one line and exit code 1 (a failed run; 2 is a bad command line).
  set +e
  dotnet "$classifier" --data "$root/artifacts/no-such-corpus" 2>&1
  code=$?
  set -e
  [[ $code -eq 1 ]] || { echo "NewsgroupClassifier exited $code without a corpus, not 1." >&2; exit 1; }
fi
