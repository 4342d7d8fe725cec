#!/usr/bin/env bash
# Installs every build and test dependency of Vigil from Debian 12 packages.
# Idempotent: when every package is already present it does nothing (no apt-get update).
# Run as root (or with sudo available) on Debian 12.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost-dev libboost-context-dev
  libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev librapidcheck-dev
  libyaml-cpp-dev libxxhash-dev libssl-dev libsnappy-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev
  libbenchmark-dev
  libhiredis-dev redis-tools redis-server
  python3-redis  # redis-py 4.3: tests/clients/redis_py_test.py, a real client library's calls
  # node-redis 4.5.1 (installed under /usr/share/nodejs) and a node to run it:
  # tests/clients/node_redis_test.js. Any installed nodejs satisfies the check below (a
  # newer one from elsewhere is kept); node-redis itself does not depend on nodejs.
  nodejs node-redis
  jq
  prometheus  # promtool: tests/docs check docs/alerts.yaml with `promtool check rules`
  # scripts/fuzz.sh: the libFuzzer targets (fuzz/) build with clang-14 and its runtimes
  # (libFuzzer, ASan, UBSan); llvm-14 has llvm-symbolizer-14 for their stack traces.
  clang-14 libclang-rt-14-dev llvm-14
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
