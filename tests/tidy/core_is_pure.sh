#!/usr/bin/env bash
# Mechanical check of rule 1 (TigerBeetle's tidy.zig): core/ performs no I/O and draws no
# time or randomness of its own, and links nothing but the standard library, xxhash and
# libcrypto (no yaml-cpp, no SQLite, no Boost: those belong to the layers above).
# Usage: core_is_pure.sh REPO_ROOT
# With --self-test it plants violations in a scratch copy and fails unless the check
# catches each, so the check is shown able to fail.
set -euo pipefail

banned='std::chrono::(steady|system|high_resolution)_clock|std::random_device|[^a-z_:]s?rand\(|time\(nullptr\)|gettimeofday|clock_gettime|std::thread|std::async|pthread_|boost::asio|sqlite3|<fstream>|fopen\(|std::ifstream|std::ofstream|socket\(|std::(uniform_int|uniform_real|normal|bernoulli|poisson|exponential)_distribution|std::unordered_(map|set)<[^>]*\*'

# What core/CMakeLists.txt may link: our flags, libcrypto, xxhash and snappy.
allowed_links='^(PUBLIC|PRIVATE|INTERFACE|vigil_core|vigil_flags|OpenSSL::Crypto|PkgConfig::XXHASH|PkgConfig::SNAPPY)$'

check_links() {
  local root=$1 words word bad=""
  # Every word inside target_link_libraries( ... ), across lines.
  words=$(tr '\n' ' ' < "$root/core/CMakeLists.txt" |
    grep -oE 'target_link_libraries\([^)]*\)' | sed -E 's/target_link_libraries\(|\)//g')
  for word in $words; do
    [[ $word =~ $allowed_links ]] || bad+=" $word"
  done
  if [ -n "$bad" ]; then
    echo "core/ may link only the standard library, xxhash, libcrypto and snappy; it links:$bad"
    return 1
  fi
}

check() {
  local root=$1
  local hits
  hits=$(grep -rnE "$banned" "$root/core" --include='*.h' --include='*.cpp' || true)
  if [ -n "$hits" ]; then
    echo "core/ must do no I/O and draw no time or randomness of its own:"
    echo "$hits"
    return 1
  fi
  check_links "$root"
}

if [ "${1:-}" = "--self-test" ]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  mkdir -p "$scratch/core/node"
  echo 'target_link_libraries(vigil_core PUBLIC vigil_flags PRIVATE OpenSSL::Crypto)' \
    > "$scratch/core/CMakeLists.txt"
  if ! check "$scratch" >/dev/null; then
    echo "self-test failed: a clean core/ was refused"
    exit 1
  fi
  echo 'auto t = std::chrono::steady_clock::now();' > "$scratch/core/node/bad.cpp"
  if check "$scratch" >/dev/null; then
    echo "self-test failed: a clock read in core/node/ was not caught"
    exit 1
  fi
  rm "$scratch/core/node/bad.cpp"
  printf 'target_link_libraries(vigil_core\n  PUBLIC vigil_flags yaml-cpp)\n' \
    > "$scratch/core/CMakeLists.txt"
  if check "$scratch" >/dev/null; then
    echo "self-test failed: core/ linking yaml-cpp was not caught"
    exit 1
  fi
  echo "self-test ok: the check catches a clock read and a forbidden link in core/"
  exit 0
fi

check "$1"
echo "core/ is pure"
