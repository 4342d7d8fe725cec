#!/usr/bin/env bash
# The README's first command: install what is missing, build (release), run the main job:
# every scenario in scenarios/ under the simulator, then the ring and config summaries.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target vigil

vigil=build/release/cli/vigil
echo "== vigil sim scenarios/"
"$vigil" sim scenarios/
echo "== vigil ring --nodes 5"
"$vigil" ring --nodes 5
echo "== vigil config check config/example-node.yaml"
"$vigil" config check config/example-node.yaml
