#!/usr/bin/env bash
# Builds the Debian package: build/package/vigil_<version>_amd64.deb (CPack DEB, rules in
# packaging/CMakeLists.txt; docs/operations.md says how to install and run it).
# The package preset uses the release preset's flags (ccache shares their objects), installs
# under /usr, and builds only the `vigil` binary.
# Usage: scripts/package.sh        (prints the .deb's path on its last line)
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset package >/dev/null
cmake --build --preset package
(cd build/package && cpack -G DEB >/dev/null)
deb=$(ls -t build/package/vigil_*_*.deb | head -1)
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
realpath "$deb"
