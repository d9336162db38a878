#!/usr/bin/env python3
"""Regenerates docs/BENCHMARKS.md from the JSON lines in docs/bench/*.jsonl.

Each .jsonl file holds what one benchmark script printed (one JSON object a
line, units last in field names). Lines are grouped by their "scenario" or
"bench" field into one table each, with the fields as columns in the order
they first appear. Nothing is typed in by hand: rerun the scripts, then this.
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "docs" / "bench"
OUT = ROOT / "docs" / "BENCHMARKS.md"

INTRO = {
    "control.jsonl": ("Control plane in simulation",
                      "`scripts/bench-control.sh`: lashup-sim scenarios at the sizes of the issue "
                      "(times are simulated; `wall_ms` is what the run took on this 2-core machine, "
                      "usually while other builds ran).\n\n"
                      "Goals, and the original where it was measured: bootstrap of 1,000 nodes within 10 s "
                      "(the original: 32-46 s for 16-32 nodes); a hung host seen unreachable by 90% within "
                      "0.8 s p50 / 1.2 s p99 (the original: 1.1-1.4 s at 5-32 nodes); a crashed process "
                      "within 100 ms (the original: about 36 ms at 16 nodes); survivors of a 50% failure "
                      "agree within 30 s; no false positive under 50 ms jitter and 300 ms stalls; an "
                      "asymmetric partition fails nobody and is reported within 5 s (the original could "
                      "not report it); a healed partition merges within 10 s (the original: not within "
                      "120 s); membership state at most 5 MB per node at 1,000 nodes (the original: "
                      "under 50 MB). `crash` and `process-crash` take p50/p99 over `trials` sequential "
                      "failures in one cluster. `footprint-state` measures one node's state at 5,000 and 10,000 members by "
                      "feeding it the records of a random overlay of that size (a whole 5,000-node cluster does not "
                      "fit in this machine's memory); at 1,000 members it agrees with `footprint` within 0.2%."),
    "storage.jsonl": ("Berkeley DB store", "`build/default/tests/bench/storage/storage_bench` (fsync-bound "
                      "figures depend on the disk and on what else runs)."),
    "crdt.jsonl": ("CRDT library", "`build/default/tests/bench/crdt/crdt_bench` (wall-clock, this machine)."),
    "transport.jsonl": ("Peer transport", "`scripts/bench-transport.sh`: one connection on 127.0.0.1 with both "
                        "ends in one thread (so one core does the work of both sides): the TLS 1.3 handshake "
                        "with mutual certificate checks (P-256), frames/s with 100-byte messages and MiB/s with "
                        "64 KiB messages, with TLS and in plaintext."),
    "real.jsonl": ("Real processes", "`scripts/bench-real.sh`: 16 `lashupd` processes on 127.0.0.1 with mutual "
                   "TLS, one 2-core VM (the release build). Goals, with the original (one Erlang VM per node "
                   "on this kind of machine) in brackets: converge within 3 s [32-38 s]; `kill -9` seen by "
                   "90% within 40 ms median [about 36 ms]; `SIGSTOP` seen by all within 1.0 s median with no "
                   "false positive [about 1.36 s]; `SIGCONT` reachable everywhere within 1 s; at most 15 MB "
                   "RSS per node [about 54 MB]; idle CPU of all 16 at most 3% of one core [about 3%]; a "
                   "16-byte multicast message delivered to all 16 within 2.5 ms median (`mc_real_latency`, "
                   "`tests/bench/real/bench_mc.py`: messages one at a time, from the publish call to the last "
                   "delivery; `mc_real_throughput`: one publisher at full speed, messages/s at the slowest "
                   "receiver). `load_avg_1m` is the machine's load when the figure was taken."),
    "multicast.jsonl": ("Multicast in simulation",
                        "`scripts/bench-multicast.sh`: lashup-sim scenarios, links of 1 ms + 0-0.5 ms (times are "
                        "simulated). `mc-delivery` and `mc-repair` run full nodes; `mc-latency` runs the multicast "
                        "core alone over a fixed random overlay of degree 5-7, so 5,000 nodes fit in memory. "
                        "`deliver_50pct_ms` / `99pct` / `100pct` are medians over messages of the time until that "
                        "share of subscribers delivered; `bytes_per_message_per_node` counts data, announcements "
                        "and pulls, against `original_tree_bytes_per_packet` (the original's tree alone, 84 B per "
                        "node, in every packet, sent down two trees). Goals: every subscriber once "
                        "(`delivered_ratio` 1, `duplicates_delivered` 0); with 10% of links cut, >= 99.9% within "
                        "2 s (`delivered_ratio_2s`) and 100% after the heal."),
    "kv.jsonl": ("KV store", "`scripts/bench-kv.sh` (`tests/bench/kv`). `kv_update` with durability \"core (no "
                 "persistence)\" is the store alone, one thread, no I/O; the other `kv_update` lines are "
                 "`lashup_kv_update` on a running node (Berkeley DB on ext4, virtio disk) from 1 and 4 threads, "
                 "each call returning once committed (goals: 100k/s with none, 50k/s group, 5k/s sync). "
                 "`kv_memory` is the store alone. `kv_repair` is one anti-entropy round between two "
                 "stores of `keys` keys of which `differing` differ, against sending the full state "
                 "(`sync_bytes_ratio`). Goals: equal stores O(1) messages, repair O(1) + O(differing)."),
    "kv-sim.jsonl": ("KV store in simulation", "`scripts/bench-kv.sh`: lashup-sim scenarios with full nodes, links of "
                     "1 ms + 0-0.5 ms (times are simulated). `kv-latency`: writes to fresh keys from random nodes, "
                     "time until every node's subscription reports each (goal: p99 1 s at 100 nodes, 2 s at "
                     "1,000). `kv-chaos`: random partitions, crashes with restart and link cuts during 30 s of "
                     "writes from every node; `replicas_identical` and `lost_acknowledged` are the checker's "
                     "verdict, one line per seed."),
    "sim.jsonl": ("Simulator throughput", "`lashup-sim --scenario ping --nodes 10000` (60 simulated s)."),
}


def cell(value):
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def main():
    lines = ["# Benchmarks", "",
             "<!-- Generated by scripts/gen-benchmarks.py from docs/bench/*.jsonl; do not edit by hand. -->", ""]
    for path in sorted(BENCH.glob("*.jsonl")):
        title, how = INTRO.get(path.name, (path.stem, f"`{path.name}`"))
        lines += [f"## {title}", "", how, ""]
        groups = {}
        for raw in path.read_text().splitlines():
            raw = raw.strip()
            if not raw.startswith("{"):
                continue
            record = json.loads(raw)
            key = record.get("scenario") or record.get("bench") or "results"
            groups.setdefault(key, []).append(record)
        for key, records in groups.items():
            columns = []
            for record in records:
                for field in record:
                    if field not in columns and field not in ("scenario", "bench", "messages_by_type"):
                        columns.append(field)
            lines += [f"### {key}", "", "| " + " | ".join(columns) + " |",
                      "|" + "---|" * len(columns)]
            for record in records:
                lines.append("| " + " | ".join(cell(record.get(c)) for c in columns) + " |")
            lines.append("")
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
