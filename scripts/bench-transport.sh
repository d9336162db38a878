#!/bin/sh
# Runs the transport benchmark (the default preset, RelWithDebInfo, like the
# other benchmarks under tests/bench) and records its JSON lines in
# docs/bench/transport.jsonl, then regenerates docs/BENCHMARKS.md.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset default > /dev/null
cmake --build --preset default --target transport_bench
./build/default/tests/bench/transport/transport_bench | tee docs/bench/transport.jsonl
python3 scripts/gen-benchmarks.py
