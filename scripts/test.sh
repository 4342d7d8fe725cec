#!/usr/bin/env bash
# The README's second command (and what .ci/run runs): install what is missing, build
# every target with AddressSanitizer + UndefinedBehaviorSanitizer (warnings are errors),
# and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan -j "$(nproc)" --timeout 600
