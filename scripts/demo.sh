#!/bin/sh
# Builds liblashup and lashupd, then runs five lashupd nodes on 127.0.0.1
# with mutual TLS: they converge, one is killed with SIGKILL and every other
# node detects it, it restarts from its data dir and rejoins with a higher
# incarnation, and all stop on SIGTERM. About 10 s after the build.
#
#   ./scripts/demo.sh          the real processes
#   ./scripts/demo.sh --sim    then the control plane at 100-300 nodes in the
#                              deterministic simulator (builds lashup-sim)
#
# The logs, data dirs and certificates live in a temporary directory that is
# removed at the end; LASHUP_DEMO_KEEP=1 keeps it.
set -eu
cd "$(dirname "$0")/.."

with_sim=0
case "${1:-}" in
  "") ;;
  --sim) with_sim=1 ;;
  *) echo "usage: $0 [--sim]" >&2; exit 2 ;;
esac

./scripts/install-deps.sh
cmake --preset default > /dev/null
cmake --build --preset default --target lashupd
lashupd=./build/default/examples/lashupd

work=$(mktemp -d "${TMPDIR:-/tmp}/lashup-demo.XXXXXX")
cleanup() {
  # The Python side stops its nodes itself; this catches a Python that was
  # killed before it could. Only a lashupd is killed: a pid may be reused.
  for pidfile in "$work"/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if grep -q lashupd "/proc/$pid/cmdline" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  if [ "${LASHUP_DEMO_KEEP:-0}" = 1 ]; then
    echo "demo: kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "demo: logs, data dirs and certificates in $work (removed at the end; LASHUP_DEMO_KEEP=1 keeps them)"
python3 scripts/lib/demo_cluster.py --workdir "$work" "$lashupd"

if [ "$with_sim" -eq 1 ]; then
  cmake --build --preset default --target lashup-sim
  sim=./build/default/tests/sim/lashup-sim
  say() { printf '\n== %s\n' "$*"; }
  say "Simulator: 300 nodes start at once and join through 3 contact nodes (time until every node reaches every node)"
  $sim --scenario bootstrap --nodes 300 --seed 1
  say "Simulator: a node's process crashes (connections close), 3 times in 100 nodes"
  $sim --scenario process-crash --nodes 100 --seed 1 --param trials=3
  say "Simulator: asymmetric partition: a1,a2 cannot reach a3,a4,a5; nobody may be marked failed"
  $sim --scenario asymmetric-partition --seed 1
  say "Simulator: two halves of 16 nodes cut apart for 60 s, then healed"
  $sim --scenario partition-heal --nodes 16 --seed 1
fi
