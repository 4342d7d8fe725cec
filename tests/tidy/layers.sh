#!/usr/bin/env bash
# Folders are layers and point one way (STYLE rule 9):
#   core <- config <- {sim, net} <- cli/bench,   core <- store <- {sim, net};
#   sim and net never include each other; store knows nothing of config;
#   core <- client (vigil::Client) <- cli/bench: the library depends on core alone.
# Inside core/ the subsystem folders point one way too (core/README.md):
#   core/*.h (basics) <- versions, ring <- wire <- membership <- node and its parts
#   (coordinator, replica, handoff); ring <- routing <- node and its parts.
# The node's parts share core/node/'s context (node_context.h, options.h), but never
# include the dispatcher that composes them (core/node/node.h, node_parts.h), and
# replica <- coordinator, replica <- handoff: the parts do not call each other otherwise.
# Usage: layers.sh REPO_ROOT   (--self-test plants violations and expects each caught)
set -euo pipefail

# Includes of "FORBIDDEN/..." in FOLDER's own files (not its subfolders when SHALLOW=1).
# A forbidden entry ending in .h names one file, any other entry a folder.
violations() {
  local root=$1 folder=$2 forbidden
  forbidden=$(tr '|' '\n' <<<"$3" | sed -E 's/\./\\./g; /\\\.h$/!s#$#/#; /\\\.h$/s#$#"#' |
    paste -sd'|')
  [ -d "$root/$folder" ] || return 0
  local files=()
  if [ "${4:-}" = shallow ]; then
    files=("$root/$folder"/*.h "$root/$folder"/*.cpp)
  else
    mapfile -t files < <(find "$root/$folder" -name '*.h' -o -name '*.cpp')
  fi
  grep -nHE "#include \"($forbidden)" "${files[@]}" 2>/dev/null || true
}

# One rule per line: folder, the include prefixes it may not use, [shallow].
rules() {
  cat <<'RULES'
core config|store|sim|net|cli|bench|client
core core/versions|core/ring|core/wire|core/membership|core/routing|core/node|core/coordinator|core/replica|core/handoff|core/antientropy|core/tombstones|core/scan shallow
core/versions core/wire|core/membership|core/node|core/coordinator|core/replica|core/handoff
core/ring core/versions|core/wire|core/membership|core/node|core/coordinator|core/replica|core/handoff
core/wire core/membership|core/node|core/coordinator|core/replica|core/handoff
core/membership core/node|core/coordinator|core/replica|core/handoff
core/routing core/versions|core/wire|core/membership|core/node|core/coordinator|core/replica|core/handoff|core/antientropy|core/tombstones
core/coordinator core/handoff|core/antientropy|core/tombstones/tombstone_collector.h|core/node/node.h|core/node/node_parts.h
core/replica core/coordinator|core/handoff|core/antientropy|core/tombstones/tombstone_collector.h|core/node/node.h|core/node/node_parts.h
core/handoff core/coordinator|core/antientropy|core/tombstones/tombstone_collector.h|core/node/node.h|core/node/node_parts.h
core/antientropy core/coordinator|core/handoff|core/tombstones/tombstone_collector.h|core/node/node.h|core/node/node_parts.h
core/tombstones core/coordinator|core/handoff|core/replica|core/node/node.h|core/node/node_parts.h
core/scan core/coordinator|core/handoff|core/replica|core/antientropy|core/tombstones|core/node/node.h|core/node/node_parts.h
config store|sim|net|cli|bench|client
store config|sim|net|cli|bench|client
sim net|cli|client
net sim|cli|client
client config|store|sim|net|cli|bench
RULES
}

check() {
  local root=$1 out="" folder forbidden depth
  while read -r folder forbidden depth; do
    out+=$(violations "$root" "$folder" "$forbidden" "$depth")
  done < <(rules)
  if [ -n "$out" ]; then
    echo "an include points against the layers (core/README.md, tests/tidy/layers.sh):"
    echo "$out"
    return 1
  fi
}

if [ "${1:-}" = "--self-test" ]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  planted=(
    'core/bad.h|#include "store/store.h"'
    'core/bad.h|#include "config/config.h"'
    'core/bad.h|#include "core/node/node.h"'
    'core/membership/bad.h|#include "core/node/node.h"'
    'core/coordinator/bad.h|#include "core/node/node.h"'
    'core/handoff/bad.cpp|#include "core/node/node_parts.h"'
    'core/replica/bad.h|#include "core/coordinator/coordinator.h"'
    'core/coordinator/bad.h|#include "core/handoff/handoff.h"'
    'core/versions/bad.h|#include "core/wire/codec.h"'
    'config/bad.h|#include "sim/run.h"'
    'store/bad.h|#include "config/config.h"'
    'client/bad.h|#include "net/resp_reply.h"'
    'net/bad.cpp|#include "client/client.h"'
  )
  for plant in "${planted[@]}"; do
    file=${plant%%|*}
    rm -rf "${scratch:?}"/*
    mkdir -p "$scratch/$(dirname "$file")"
    echo "${plant#*|}" > "$scratch/$file"
    if check "$scratch" >/dev/null; then
      echo "self-test failed: '${plant#*|}' in $file was not caught"
      exit 1
    fi
  done
  # A subsystem including the basics is fine, and so is a part including the node's context.
  rm -rf "${scratch:?}"/*
  mkdir -p "$scratch/core/node" "$scratch/core/coordinator"
  echo '#include "core/status.h"' > "$scratch/core/node/ok.h"
  echo '#include "core/node/node_context.h"' > "$scratch/core/coordinator/ok.h"
  echo '#include "core/replica/replica.h"' > "$scratch/core/coordinator/ok.cpp"
  if ! check "$scratch" >/dev/null; then
    echo "self-test failed: a subsystem including core/status.h or its context was refused"
    exit 1
  fi
  echo "self-test ok: the check catches ${#planted[@]} planted violations"
  exit 0
fi

check "$1"
echo "layers point one way"
