#!/bin/sh
# Runs the real-process benchmark (tests/bench/real/bench_real.py): 16
# lashupd processes on 127.0.0.1 with mutual TLS; convergence, kill -9 and
# SIGSTOP detection, SIGCONT recovery, memory and idle CPU. Appends its JSON
# lines to docs/bench/real.jsonl. About 3 minutes on 2 cores.
#   scripts/bench-real.sh [bench_real.py options]   e.g. --kill-trials 5
# Environment: LASHUP_PRESET (default release; any preset that builds the
# examples).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
preset=${LASHUP_PRESET:-release}
cmake --preset "$preset" > /dev/null
cmake --build --preset "$preset" --target lashupd
out=docs/bench/real.jsonl
mkdir -p docs/bench
echo "bench-real: build/$preset/examples/lashupd, $(nproc) cores, appending to $out" >&2
# The lines are kept in a file first so that a failed run still exits
# non-zero (sh has no pipefail); what it measured before failing is appended.
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
status=0
python3 tests/bench/real/bench_real.py "$@" "build/$preset/examples/lashupd" > "$lines" || status=$?
cat "$lines"
cat "$lines" >> "$out"
exit "$status"
