#!/bin/sh
# Runs the KV store benchmarks and writes their JSON lines to docs/bench/:
#  - kv.jsonl: tests/bench/kv (the store and its anti-entropy alone, and
#    local update throughput per durability mode through the C API);
#  - kv-sim.jsonl: lashup-sim's KV scenarios at the sizes the issue states
#    (convergence time at 100 and 1,000 nodes, kv-chaos at 100 nodes).
#   scripts/bench-kv.sh [BUILD_DIR]      (default build/default)
# The simulations take about ten minutes on 2 cores.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build/default}
cmake --build "$build" --target bench_kv bench_kv_durability lashup-sim > /dev/null
mkdir -p docs/bench
"$build/tests/bench/kv/bench_kv" | tee docs/bench/kv.jsonl
"$build/tests/bench/kv/bench_kv_durability" | tee -a docs/bench/kv.jsonl
sim="$build/tests/sim/lashup-sim"
out=docs/bench/kv-sim.jsonl
: > "$out"
run() {
  echo "lashup-sim $*" >&2
  "$sim" "$@" | tee -a "$out" || true
}
run --scenario kv-latency --nodes 100 --seed 1
run --scenario kv-latency --nodes 1000 --seed 1
run --scenario kv-chaos --nodes 100 --seed 1 --seeds 3
run --scenario kv-tombstones --nodes 100 --seed 1
