#!/bin/sh
# Runs the real-process benchmarks: 16 lashupd processes on 127.0.0.1 with
# mutual TLS. tests/bench/real/bench_real.py: convergence, kill -9 and
# SIGSTOP detection, SIGCONT recovery, memory and idle CPU (about 3
# minutes on 2 cores); tests/bench/real/bench_mc.py: multicast latency to
# every node and messages/s through one node (about 1 minute);
# tests/bench/real/bench_kv.py: KV write latency to every node, a 10 s
# full-speed burst, a new node taking 10^5 keys (about 2 minutes). Their
# JSON lines replace the lines of the same benchmark in docs/bench/real.jsonl.
#   scripts/bench-real.sh [bench_real.py options]   e.g. --kill-trials 5
# Environment: LASHUP_PRESET (default release; any preset that builds the
# examples); LASHUP_BENCH_REAL (all, the default; control: bench_real.py
# only; multicast: bench_mc.py only; kv: bench_kv.py only);
# LASHUP_BENCH_MC_ARGS, LASHUP_BENCH_KV_ARGS (options of bench_mc.py and
# bench_kv.py).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
preset=${LASHUP_PRESET:-release}
which=${LASHUP_BENCH_REAL:-all}
cmake --preset "$preset" > /dev/null
cmake --build --preset "$preset" --target lashupd
out=docs/bench/real.jsonl
mkdir -p docs/bench
echo "bench-real: build/$preset/examples/lashupd, $(nproc) cores, into $out" >&2
# The lines are kept in a file first so that a failed run still exits
# non-zero (sh has no pipefail); what it measured before failing is kept.
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
status=0
if [ "$which" = all ] || [ "$which" = control ]; then
  python3 tests/bench/real/bench_real.py "$@" "build/$preset/examples/lashupd" >> "$lines" || status=$?
fi
if [ "$which" = all ] || [ "$which" = kv ]; then
  # shellcheck disable=SC2086 # options are words
  python3 tests/bench/real/bench_kv.py ${LASHUP_BENCH_KV_ARGS:-} "build/$preset/examples/lashupd" >> "$lines" || status=$?
fi
if [ "$which" = all ] || [ "$which" = multicast ]; then
  # shellcheck disable=SC2086 # options are words
  python3 tests/bench/real/bench_mc.py ${LASHUP_BENCH_MC_ARGS:-} "build/$preset/examples/lashupd" >> "$lines" || status=$?
fi
cat "$lines"
# A line replaces the older lines of its benchmark (its "bench" and, for
# real_detect, "signal").
python3 - "$out" "$lines" <<'PY'
import json, sys
out, new = sys.argv[1], sys.argv[2]
def key(line):
    record = json.loads(line)
    return record.get("bench"), record.get("signal")
fresh = [l for l in open(new) if l.strip()]
replaced = {key(l) for l in fresh}
try:
    kept = [l for l in open(out) if l.strip() and key(l) not in replaced]
except FileNotFoundError:
    kept = []
with open(out, "w") as f:
    f.writelines(kept + fresh)
PY
exit "$status"
