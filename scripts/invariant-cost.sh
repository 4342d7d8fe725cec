#!/usr/bin/env bash
# Measures the cost of one Node::check_invariants() at 100, 1,000 and 10,000 requests in
# flight, beside one input + flush (docs/operations.md, "Invariant checks in production").
# Usage: scripts/invariant-cost.sh   (builds the release libraries first)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release --target vigil_core vigil_store >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
g++ -std=c++20 -O2 -I. bench/standalone/invariant_cost.cpp build/release/store/libvigil_store.a \
  build/release/core/libvigil_core.a -lxxhash -lcrypto -o "$out/invariant_cost"
"$out/invariant_cost"
