#!/usr/bin/env bash
# Mechanical check of rule 1 (TigerBeetle's tidy.zig): core/ performs no I/O and draws no
# time or randomness of its own. Usage: core_is_pure.sh REPO_ROOT
# With --self-test it plants a violating file in a scratch copy and fails unless the check
# catches it, so the check is shown able to fail.
set -euo pipefail

banned='std::chrono::(steady|system|high_resolution)_clock|std::random_device|[^a-z_:]s?rand\(|time\(nullptr\)|gettimeofday|clock_gettime|std::thread|std::async|pthread_|boost::asio|sqlite3|<fstream>|fopen\(|std::ifstream|std::ofstream|socket\(|std::(uniform_int|uniform_real|normal|bernoulli|poisson|exponential)_distribution|std::unordered_(map|set)<[^>]*\*'

check() {
  local root=$1
  local hits
  hits=$(grep -rnE "$banned" "$root/core" --include='*.h' --include='*.cpp' || true)
  if [ -n "$hits" ]; then
    echo "core/ must do no I/O and draw no time or randomness of its own:"
    echo "$hits"
    return 1
  fi
}

if [ "${1:-}" = "--self-test" ]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  mkdir -p "$scratch/core"
  echo 'auto t = std::chrono::steady_clock::now();' > "$scratch/core/bad.cpp"
  if check "$scratch" >/dev/null; then
    echo "self-test failed: a clock read in core/ was not caught"
    exit 1
  fi
  echo "self-test ok: the check catches a clock read in core/"
  exit 0
fi

check "$1"
echo "core/ is pure"
