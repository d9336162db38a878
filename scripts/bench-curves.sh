#!/bin/sh
# Small lashup-sim runs for the plots of docs/BENCHMARKS.md: how bootstrap,
# multicast and KV convergence change with the cluster size, and samples of
# the failure-detection latency for its CDF. Writes docs/bench/curves.jsonl
# (replacing it), then run scripts/gen-benchmarks.py.
#   scripts/bench-curves.sh [BUILD_DIR]      (default build/default)
# About 100 s on 2 shared cores (the longest single run, bootstrap of 512
# nodes, about 10 s); LASHUP_BENCH_CDF_RUNS sets the runs per CDF (100).
# The sizes of the issue (1,000 nodes and more) are in bench-control.sh,
# bench-multicast.sh and bench-kv.sh.
#
# lashup-sim prints percentiles per run, not the times of single trials, so
# the CDF samples come from many runs with one trial each: `--seeds K
# --param trials=1` gives K independent clusters, each bootstrapped, in
# which one random node fails once; each line's t90_p50_ms is that trial's
# time to 90% and t100_max_ms its time to 100%. They are gathered into one
# line per scenario ("crash-samples", "process-crash-samples") whose t90_ms
# and t100_ms lists hold one sample per run; null where the share was not
# reached within the scenario's 10 s window (the run then also fails its
# goal: failed_runs, and lashup-sim prints the replay command on stderr).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build/default}
sim="$build/tests/sim/lashup-sim"
runs=${LASHUP_BENCH_CDF_RUNS:-100}
out=docs/bench/curves.jsonl
mkdir -p docs/bench
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.samples"' EXIT
run() {
  echo "lashup-sim $*" >&2
  "$sim" "$@" >> "$tmp" || true
}
for n in 16 32 64 128 256 512; do
  run --scenario bootstrap --nodes "$n" --seed 1 --seeds 2
done
for n in 30 300 2000; do
  run --scenario mc-latency --nodes "$n" --seed 1
done
for n in 30 300; do
  run --scenario kv-latency --nodes "$n" --seed 1
done
samples() {
  scenario=$1
  shift
  echo "lashup-sim --scenario $scenario $* --seeds $runs --param trials=1" >&2
  "$sim" --scenario "$scenario" "$@" --seed 1 --seeds "$runs" --param trials=1 > "$tmp.samples" || true
  python3 - "$scenario" "$tmp.samples" >> "$tmp" <<'PY'
import json, math, sys
scenario, path = sys.argv[1], sys.argv[2]
lines = [json.loads(l) for l in open(path) if l.startswith("{")]
if lines:
    t90 = [l["t90_p50_ms"] for l in lines]
    t100 = [l["t100_max_ms"] for l in lines]
    def pct(values, p):
        values = sorted(v for v in values if v is not None)
        # nearest rank
        return round(values[max(0, math.ceil(p / 100 * len(values)) - 1)], 3) if values else None
    print(json.dumps({
        "scenario": scenario + "-samples", "nodes": lines[0]["nodes"],
        "runs": len(lines), "failed_runs": sum(1 for l in lines if not l.get("ok")),
        "failed_seeds": " ".join(str(l["seed"]) for l in lines if not l.get("ok")) or None,
        "t90_not_reached": sum(1 for v in t90 if v is None),
        "t100_not_reached": sum(1 for v in t100 if v is None),
        "t90_p10_ms": pct(t90, 10), "t90_p50_ms": pct(t90, 50), "t90_p90_ms": pct(t90, 90),
        "t90_max_ms": pct(t90, 100), "t100_p50_ms": pct(t100, 50), "t100_max_ms": pct(t100, 100),
        "t90_ms": t90, "t100_ms": t100,
        "wall_ms": round(sum(l.get("wall_ms", 0) for l in lines), 1),
    }, separators=(",", ":")))
PY
}
samples process-crash --nodes 100
samples crash --nodes 100
mv "$tmp" "$out"
trap - EXIT
rm -f "$tmp.samples"
cat "$out"
