#!/bin/sh
# Runs the KV store benchmarks (tests/bench/kv) and writes their JSON lines
# to docs/bench/kv.jsonl.
#   scripts/bench-kv.sh [BUILD_DIR]      (default build/default)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build/default}
cmake --build "$build" --target bench_kv > /dev/null
mkdir -p docs/bench
"$build/tests/bench/kv/bench_kv" | tee docs/bench/kv.jsonl
