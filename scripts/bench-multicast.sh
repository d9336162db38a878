#!/bin/sh
# Runs the multicast scenarios of lashup-sim at the sizes the issue states
# and writes their JSON lines to docs/bench/multicast.jsonl.
#   scripts/bench-multicast.sh [BUILD_DIR]      (default build/default)
# Takes about ten minutes on 2 cores; the test suite runs the same
# scenarios at reduced sizes.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build/default}
sim="$build/tests/sim/lashup-sim"
out=docs/bench/multicast.jsonl
mkdir -p docs/bench
: > "$out"
run() {
  echo "lashup-sim $*" >&2
  "$sim" "$@" | tee -a "$out" || true
}
run --scenario mc-delivery --nodes 1000 --seed 1
run --scenario mc-repair --nodes 1000 --seed 1
# Latency against cluster size: the multicast core over a fixed overlay
# (full nodes at 5,000 do not fit in this machine's memory), and full nodes
# at 100 and 1,000 for comparison.
run --scenario mc-latency --nodes 100 --seed 1
run --scenario mc-latency --nodes 1000 --seed 1
run --scenario mc-latency --nodes 5000 --seed 1
run --scenario mc-delivery --nodes 100 --seed 1 --param subscribers_pct=100
