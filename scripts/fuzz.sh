#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang-14, coverage, ASan + UBSan) and
# runs each for SECONDS (default 20) on a copy of its seed corpus (fuzz/corpus/<target>/),
# one after the other. Prints each target's executions and coverage (libFuzzer's `cov:`,
# edges reached); exits non-zero when any target crashed, failed a check or leaked, after
# printing the report and the path of the input that did it (build/fuzz/artifacts/).
# Reproduce one with: build/fuzz/fuzz/fuzz_<target> build/fuzz/artifacts/<target>-crash-...
# docs/security.md ("Fuzzing") has the targets, what each checks, and measured figures.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (targets: resp_parser wire_codec config
#        causal_context peer_handshake scenario; default all)
# VIGIL_FUZZ_ARGS adds libFuzzer flags to every run (e.g. "-max_len=20000"); VIGIL_FUZZ_JOBS
# sets the build's parallelism (default: the number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=20
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
all_targets=(resp_parser wire_codec config causal_context peer_handshake scenario)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
  if [[ ! " ${all_targets[*]} " =~ " $target " ]]; then
    echo "fuzz.sh: unknown target '$target' (one of: ${all_targets[*]})" >&2
    exit 2
  fi
done

./scripts/install-deps.sh
nice -n 10 cmake --preset fuzz >/dev/null
nice -n 10 cmake --build --preset fuzz -j "${VIGIL_FUZZ_JOBS:-$(nproc)}" \
  --target "${targets[@]/#/fuzz_}"

build=build/fuzz
artifacts=$build/artifacts
mkdir -p "$artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if command -v llvm-symbolizer-14 >/dev/null; then
  export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer-14)}
fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
printf '%-16s %10s %8s %8s %s\n' target executions cov features result
for target in "${targets[@]}"; do
  cp -r "fuzz/corpus/$target" "$work/$target"
  log=$work/$target.log
  status=0
  # -timeout: an input that takes over 10 s is reported as a hang. One process, one job:
  # the machine may be shared (scripts/test.sh runs this after the tests).
  nice -n 10 "$build/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$target-" ${VIGIL_FUZZ_ARGS:-} \
    "$work/$target" \
    >"$log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  # The last status line (DONE, or the last pulse before a crash) has the coverage.
  line=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$line")
  features=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$line")
  if [ "$status" -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $status)"
    failed+=("$target")
  fi
  printf '%-16s %10s %8s %8s %s\n' "$target" "${executions:-?}" "${cov:-?}" "${features:-?}" \
    "$result"
  if [ "$status" -ne 0 ]; then
    echo "---- fuzz_$target output (last 60 lines) ----"
    tail -n 60 "$log"
    echo "---- inputs written: $(ls "$artifacts"/"$target"-* 2>/dev/null | tr '\n' ' ')"
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz.sh: ${failed[*]} failed; reproduce with build/fuzz/fuzz/fuzz_<target> <input>" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, ${seconds} s each, no crash"
