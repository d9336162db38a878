#!/bin/sh
# Builds liblashup and runs every test: C++ unit tests, C API (cmocka), ABI,
# simulator, fuzz smoke runs, integration and bindings.
#   scripts/test.sh            everything
#   scripts/test.sh -L unit    only a label (any ctest arguments)
# Environment: LASHUP_PRESET (default ci: RelWithDebInfo, -Werror).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
preset=${LASHUP_PRESET:-ci}
cmake --preset "$preset" > /dev/null
cmake --build --preset "$preset"
jobs=$(nproc 2>/dev/null || echo 2)
exec ctest --preset "$preset" -j "$jobs" "$@"
