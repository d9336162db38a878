#!/bin/sh
# Regenerates tests/abi/liblashup.abi from a build (default: build/ci).
# Run it after a reviewed, compatible change of include/lashup/lashup.h.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build/ci}
abidw --headers-dir include/lashup --drop-private-types --suppressions tests/abi/opaque_types.suppr --no-show-locs --no-corpus-path --out-file tests/abi/liblashup.abi "$build/capi/liblashup.so"
echo "wrote tests/abi/liblashup.abi"
