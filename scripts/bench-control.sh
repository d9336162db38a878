#!/bin/sh
# Runs the control-plane scenarios of lashup-sim at the sizes the issue
# states and appends their JSON lines to docs/bench/control.jsonl.
#   scripts/bench-control.sh [BUILD_DIR]      (default build/default)
# Takes tens of minutes on 2 cores; the test suite runs the same scenarios
# at reduced sizes.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build/default}
sim="$build/tests/sim/lashup-sim"
out=docs/bench/control.jsonl
mkdir -p docs/bench
: > "$out"
run() {
  echo "lashup-sim $*" >&2
  "$sim" "$@" | tee -a "$out" || true
}
run --scenario bootstrap --nodes 1000 --seed 1
run --scenario bootstrap --nodes 1000 --seed 2
run --scenario crash --nodes 1000 --seed 1 --param trials=20
run --scenario process-crash --nodes 1000 --seed 1 --param trials=20
run --scenario mass-failure --nodes 1000 --seed 1
run --scenario asymmetric-partition --seed 1
run --scenario asymmetric-partition --seed 1 --param one_way=1
run --scenario partition-heal --nodes 16 --seed 1
run --scenario partition-heal --nodes 1000 --seed 1 --duration-s 30
run --scenario restart --nodes 1000 --seed 1
run --scenario footprint --nodes 1000 --seed 1
run --scenario false-positives --nodes 1000 --seed 1
# One node's state at 5,000 and 10,000 members (a full 5,000-node cluster
# needs more memory than a 24 GB machine has); at 1,000 it matches `footprint`.
run --scenario footprint-state --nodes 1000 --seed 1
run --scenario footprint-state --nodes 5000 --seed 1
run --scenario footprint-state --nodes 10000 --seed 1
