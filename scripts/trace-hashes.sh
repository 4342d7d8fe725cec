#!/usr/bin/env bash
# Prints "scenario seed trace_hash" for every shipped scenario over seeds 1-5: the fixture
# in tests/data/trace_hashes.txt (tests/sim/trace_hash_fixture_test.cpp compares against it).
# Usage: scripts/trace-hashes.sh [VIGIL_BINARY]        (default: build/release/cli/vigil)
#   compare:    scripts/trace-hashes.sh | diff tests/data/trace_hashes.txt -
#   regenerate: scripts/trace-hashes.sh > tests/data/trace_hashes.txt   (only on purpose)
set -euo pipefail
vigil=$(realpath "${1:-$(dirname "$0")/../build/release/cli/vigil}")
[ -x "$vigil" ] || { echo "trace-hashes.sh: no vigil binary at $vigil" >&2; exit 2; }
cd "$(dirname "$0")/.."
for scenario in scenarios/*.yaml; do
  # vigil sim exits 1 when a run misses its expectation; the hashes are still printed.
  "$vigil" sim "$scenario" --seeds 1-5 --json || true
done | jq -r 'select(.trace_hash != null) | "\(.scenario) \(.seed) \(.trace_hash)"'
