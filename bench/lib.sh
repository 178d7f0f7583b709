# Shared by the bench/ scripts (`source bench/lib.sh` from the repository root): builds and runs that say what failed
# instead of ending silently under `set -e`, and checks of the numbers the scripts take from the environment.

# build PROJECT: dotnet build -c Release, quiet; on failure, its errors and one line, and the script stops.
build() {
  local out
  if ! out=$(dotnet build "$1" -c Release -v q -nologo 2>&1); then
    printf '%s\n' "$out" >&2
    echo "${0##*/}: the build of $1 failed (above)" >&2
    exit 1
  fi
}

# run COMMAND...: its output (stdout and stderr together); on failure, that output and the command, and the script stops.
# Use as out=$(run ...): the failure then also ends the script, through set -e.
run() {
  local out
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" >&2
    echo "${0##*/}: failed: $*" >&2
    exit 1
  fi
  printf '%s\n' "$out"
}

# whole NAME...: each named variable must hold a whole number of at least 1.
whole() {
  local name
  for name in "$@"; do
    if ! [[ "${!name}" =~ ^[1-9][0-9]*$ ]]; then
      echo "${0##*/}: $name=${!name} is not a whole number of at least 1" >&2
      exit 2
    fi
  done
}
