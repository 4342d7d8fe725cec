#!/usr/bin/env bash
# Builds Vigil with Debian's clang (clang-14 on Debian 12) instead of GCC, warnings as
# errors, in build/clang-<type>; with --test, runs the test suite there too. Not part of
# scripts/test.sh (a second full build would not fit its time budget): run it before a
# release, or when touching code that one compiler reads differently from the other.
# Usage: scripts/build-clang.sh [Release|RelWithDebInfo|Debug] [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

build_type=Release
run_tests=0
for argument in "$@"; do
  case "$argument" in
    Release|RelWithDebInfo|Debug|MinSizeRel) build_type=$argument ;;
    --test) run_tests=1 ;;
    *) echo "build-clang.sh: unknown argument '$argument' (a build type, or --test)" >&2; exit 2 ;;
  esac
done

./scripts/install-deps.sh
if ! command -v clang++ >/dev/null; then
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  echo "build-clang.sh: installing clang" >&2
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends clang >/dev/null
fi

build_dir="build/clang-${build_type,,}"
CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" \
  -DVIGIL_WERROR=ON >/dev/null
cmake --build "$build_dir"
if [ "$run_tests" -eq 1 ]; then
  ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 600
fi
