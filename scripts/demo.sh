#!/bin/sh
# Builds liblashup and runs the demo.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset default > /dev/null
cmake --build --preset default
echo
echo "== Simulated cluster: 10,000 nodes probing each other for 60 simulated seconds =="
./build/default/tests/sim/lashup-sim --scenario ping --nodes 10000 --seed 1
