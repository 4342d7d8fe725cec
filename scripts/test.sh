#!/usr/bin/env bash
# The README's second command (and what .ci/run runs): install what is missing, build
# every target with AddressSanitizer + UndefinedBehaviorSanitizer (warnings are errors),
# run every test, then build the libFuzzer targets (clang-14) and run each for 10 s on
# its seed corpus (scripts/fuzz.sh; docs/security.md, "Fuzzing").
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan -j "$(nproc)" --timeout 600
./scripts/fuzz.sh 10
