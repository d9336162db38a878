#!/bin/sh
# Runs the transport benchmark (release build) and records its JSON lines in
# docs/bench/transport.jsonl, then regenerates docs/BENCHMARKS.md.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release > /dev/null
cmake --build --preset release --target transport_bench
./build/release/tests/bench/transport/transport_bench | tee docs/bench/transport.jsonl
python3 scripts/gen-benchmarks.py
