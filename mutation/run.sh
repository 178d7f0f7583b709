#!/usr/bin/env bash
# Mutation testing of Tensorlet.Models' checkpoint files with Stryker.NET (a local dotnet tool, dotnet-tools.json):
# the safetensors reader, the checkpoint pair and AtomicFile, against the tests in Tensorlet.MutationTests.csproj.
# One test session at a time (the machine is shared); about half an hour on 2 cores. Not part of CI.
# Usage: mutation/run.sh            (needs TENSORLET_DATA for the archive tests; the report goes to mutation/StrykerOutput)
set -euo pipefail
cd "$(dirname "$0")"
dotnet tool restore >/dev/null
exec dotnet stryker --config-file stryker-config.json "$@"
