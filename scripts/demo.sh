#!/bin/sh
# Builds liblashup and runs the demo: the control plane in the deterministic
# simulator (real processes with TLS come with the runtime).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset default > /dev/null
cmake --build --preset default --target lashup-sim
sim=./build/default/tests/sim/lashup-sim
say() { printf '\n== %s\n' "$*"; }
say "300 nodes start at once and join through 3 contact nodes (time until every node reaches every node)"
$sim --scenario bootstrap --nodes 300 --seed 1
say "A node's host hangs, 10 times: time until 90% of the other nodes mark it unreachable"
$sim --scenario crash --nodes 300 --seed 1 --param trials=10
say "A node's process crashes (connections close), 10 times"
$sim --scenario process-crash --nodes 300 --seed 1 --param trials=10
say "Asymmetric partition: agents a1,a2 cannot reach a3,a4,a5; nobody may be marked failed"
$sim --scenario asymmetric-partition --seed 1
say "Two halves of 16 nodes cut apart for 60 s, then healed"
$sim --scenario partition-heal --nodes 16 --seed 1
say "10,000 simulated nodes probing each other for 60 s (simulator throughput)"
$sim --scenario ping --nodes 10000 --seed 1
