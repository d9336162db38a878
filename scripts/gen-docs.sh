#!/bin/sh
# Regenerates docs/CONFIG.md from the configuration table (src/core/config).
# Usage: scripts/gen-docs.sh [build-dir]   (default: build/default)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/default}
cmake --build "$build" --target lashup-config-doc >/dev/null
"$build/tests/lashup-config-doc" > "$root/docs/CONFIG.md"
echo "wrote docs/CONFIG.md"
