#!/usr/bin/env bash
# Folders are layers and point one way (STYLE rule 9):
#   core <- store <- {sim, net} <- cli/bench;  sim and net never include each other.
# Usage: layers.sh REPO_ROOT   (--self-test plants a violation and expects it caught)
set -euo pipefail

violations() {
  local root=$1 folder=$2 forbidden=$3
  [ -d "$root/$folder" ] || return 0
  grep -rnE "#include \"($forbidden)/" "$root/$folder" --include='*.h' --include='*.cpp' || true
}

check() {
  local root=$1 out=""
  out+=$(violations "$root" core 'store|sim|net|cli|bench')
  out+=$(violations "$root" store 'sim|net|cli|bench')
  out+=$(violations "$root" sim 'net|cli')
  out+=$(violations "$root" net 'sim|cli')
  if [ -n "$out" ]; then
    echo "an include points against the layers (core <- store <- sim|net <- cli):"
    echo "$out"
    return 1
  fi
}

if [ "${1:-}" = "--self-test" ]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  mkdir -p "$scratch/core"
  echo '#include "store/store.h"' > "$scratch/core/bad.h"
  if check "$scratch" >/dev/null; then
    echo "self-test failed: core including store/ was not caught"
    exit 1
  fi
  echo "self-test ok: the check catches core including store/"
  exit 0
fi

check "$1"
echo "layers point one way"
