#!/usr/bin/env python3
"""Regenerates docs/BENCHMARKS.md from the JSON lines in docs/bench/*.jsonl,
and draws the plots docs/bench/*.png from the same lines.

Each .jsonl file holds what one benchmark script printed (one JSON object a
line, units last in field names). Lines are grouped by their "scenario" or
"bench" field into one table each, with the fields as columns in the order
they first appear; a list of samples shows as its length. Nothing is typed
in by hand: rerun the scripts, then this.

Plots need matplotlib (Debian: python3-matplotlib, in scripts/deps.d/docs.list).
Without it the tables are still written, a warning is printed, and the PNGs
already in docs/bench are linked as they are (not redrawn). When the python3
found first (a pyenv or venv one) lacks matplotlib but the system's
/usr/bin/python3 has it, the script runs itself again with that one.
"""
import json
import os
import pathlib
import statistics
import subprocess
import sys
import warnings

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
                   "receiver). KV (`tests/bench/real/bench_kv.py`; the original: an update reaches 90% of "
                   "nodes in about 17 ms; under a 10 s burst its receivers drop updates once 32 are queued and "
                   "the last node is complete 54-135 s after the burst): `kv_real_latency`, one write at a "
                   "time, from the lashup_kv_update call to the last other node's subscription event (goal: "
                   "10 ms median); `kv_burst`, one node writes for 10 s as fast as it takes asynchronous "
                   "writes, then the time from its last acknowledgement until every node holds every write "
                   "(goal: within 1 s, nothing dropped); `kv_new_node`, a node that was never in the "
                   "cluster joins and receives 10^5 keys. `load_avg_1m` is the machine's load when the "
                   "figure was taken."),
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
                 "`lashup_kv_update` on a running node (Berkeley DB on ext4, virtio disk): `mode` call, from "
                 "1 and 4 threads, each call returning once committed; `mode` async, one thread keeping "
                 "1,024 `lashup_kv_update_async` writes in flight (latency: queued to completion event), "
                 "the writes of one loop iteration sharing one transaction (goals: 100k/s with none, 50k/s "
                 "group, 5k/s sync). "
                 "`kv_memory` is the store alone. `kv_repair` is one anti-entropy round between two "
                 "stores of `keys` keys of which `differing` differ, against sending the full state "
                 "(`sync_bytes_ratio`). Goals: equal stores O(1) messages, repair O(1) + O(differing)."),
    "kv-sim.jsonl": ("KV store in simulation", "`scripts/bench-kv.sh`: lashup-sim scenarios with full nodes, links of "
                     "1 ms + 0-0.5 ms (times are simulated). `kv-latency`: writes to fresh keys from random nodes, "
                     "time until every node's subscription reports each (goal: p99 1 s at 100 nodes, 2 s at "
                     "1,000). `kv-chaos`: random partitions, crashes with restart and link cuts during 30 s of "
                     "writes from every node; `replicas_identical` and `lost_acknowledged` are the checker's "
                     "verdict, one line per seed. `kv-tombstones`: keys written then deleted while one node is "
                     "down (nothing may be collected meanwhile), then collected everywhere; keys written "
                     "again read only the new writes (`resurrected_fields`, `wrong_rewrites`)."),
    "curves.jsonl": ("Curves in simulation",
                     "`scripts/bench-curves.sh`: small lashup-sim runs that trace how the figures above "
                     "change with the cluster size, and samples for the detection-latency CDF (times are "
                     "simulated, links of 1 ms + 0-0.5 ms unless the scenario says otherwise). "
                     "`crash-samples` / `process-crash-samples`: `runs` independent clusters (seeds), "
                     "each bootstrapped, then one random node hangs (or its process dies and the kernel "
                     "closes its connections); `t90_ms` / `t100_ms` hold one sample per run: the time "
                     "until 90% / all of the other nodes reported it unreachable. `bootstrap`, "
                     "`mc-latency` and `kv-latency` repeat the scenarios of the sections above at more "
                     "sizes."),
    "sim.jsonl": ("Simulator throughput", "`lashup-sim --scenario ping --nodes 10000` (60 simulated s)."),
}


def cell(value):
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return f"{len(value)} values"
    return str(value)


def load(path):
    """The JSON objects of one .jsonl file, grouped by scenario or bench."""
    groups = {}
    for raw in path.read_text().splitlines():
        raw = raw.strip()
        if not raw.startswith("{"):
            continue
        record = json.loads(raw)
        key = record.get("scenario") or record.get("bench") or "results"
        groups.setdefault(key, []).append(record)
    return groups


# ---------------------------------------------------------------- plots

# (file name, title, caption). The caption says what the plot shows and
# where its points come from; it is written under the link in BENCHMARKS.md.
PLOTS = [
    ("detection-cdf.png", "Failure detection latency (CDF)",
     "Empirical CDF of the time from a failure until 90% (solid) and 100% (dashed) of the other "
     "nodes report the failed node unreachable: one sample per simulated cluster "
     "(`crash-samples` and `process-crash-samples` in *Curves in simulation*; 100 nodes, one "
     "failure per run). A hung host is found by missed probes and indirect probes; a crashed "
     "process by its closed connections. The vertical lines are the medians measured with 16 "
     "real processes (`real_detect`: `kill -9` t90 and `SIGSTOP` t100). Runs that miss the "
     "scenario's goal are listed in `failed_seeds` in the table and replay with `lashup-sim "
     "--scenario crash --nodes 100 --seed N --param trials=1`; an earlier tail of several "
     "seconds (3 seeds in 100: membership records lost during bootstrap) is fixed "
     "(docs/ARCHITECTURE.md, membership)."),
    ("convergence-vs-size.png", "Bootstrap convergence vs cluster size",
     "Simulated time until, in a cluster whose nodes all start at once, the overlay is one "
     "component and every node sees every other node reachable (`bootstrap` in *Control plane in simulation* and "
     "*Curves in simulation*; one point per seed; the simulator checks convergence every 0.1 s). "
     "The 16-process real cluster (`real_converge`) is shown for comparison."),
    ("multicast-latency-vs-size.png", "Multicast latency vs cluster size",
     "Median over 200 messages of the time until 50%, 99% and 100% of the nodes delivered a "
     "16-byte message (`mc-latency`: the multicast core over a fixed random overlay, links of "
     "1 ms + 0-0.5 ms), and the median with 16 real processes (`mc_real_latency`, publish to "
     "last delivery)."),
    ("kv-convergence-vs-size.png", "KV convergence vs cluster size",
     "Time from a write on a random node until 90% of the nodes' subscriptions (median over "
     "writes), all of them (median) and all of them (p99) reported it (`kv-latency` in "
     "*KV store in simulation* and *Curves in simulation*)."),
    ("kv-update-throughput.png", "KV updates per second by durability mode",
     "Writes on one running node (`kv_update` in *KV store*): `lashup_kv_update`, each call "
     "returning once committed, from 1 and 4 threads, and `lashup_kv_update_async` from one "
     "thread with 1,024 writes in flight (the writes of one loop iteration share a "
     "transaction); dotted: the goal of each mode. The store alone without persistence is "
     "given in the table."),
    ("state-per-node-vs-members.png", "Membership state per node vs cluster size",
     "Bytes of one node's membership state (records, adjacency, routes) as the membership grows "
     "(`footprint-state`, and `footprint` for a whole simulated cluster of 1,000)."),
]


def draw_plots(data):
    """Draws PLOTS into docs/bench; returns the names drawn. `data` maps a
    .jsonl file name to its groups. A plot without data is skipped."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("gen-benchmarks: warning: matplotlib is not installed (Debian: python3-matplotlib); "
              "plots not redrawn, existing docs/bench/*.png are linked as they are", file=sys.stderr)
        return None

    def group(file, key):
        return data.get(file, {}).get(key, [])

    def by_nodes(records, field):
        points = sorted((r["nodes"], r[field]) for r in records
                        if r.get("nodes") is not None and isinstance(r.get(field), (int, float)))
        return [p[0] for p in points], [p[1] for p in points]

    def save(fig, name):
        fig.tight_layout()
        # No creation date or version in the file: a rerun with the same data gives the same bytes.
        fig.savefig(BENCH / name, dpi=100, metadata={"Software": None})
        plt.close(fig)
        drawn.append(name)

    drawn = []
    plt.rcParams.update({"font.size": 9, "axes.grid": True, "grid.alpha": 0.3})

    # Detection-latency CDF.
    hang = group("curves.jsonl", "crash-samples")
    crash = group("curves.jsonl", "process-crash-samples")
    if hang or crash:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
        real = {r.get("signal"): r for r in group("real.jsonl", "real_detect")}
        for ax, records, title, real_line in (
                (axes[0], crash, "process crash (connections closed)", ("KILL", "t90_p50_ms", "16 real processes, kill -9, t90 p50")),
                (axes[1], hang, "host hang (no answer)", ("STOP", "t100_p50_ms", "16 real processes, SIGSTOP, t100 p50"))):
            for record in records:
                for field, style in (("t90_ms", "-"), ("t100_ms", "--")):
                    samples = record.get(field, [])
                    # A run that never reached the share counts in the total: the curve ends below 1.
                    values = sorted(v for v in samples if v is not None)
                    if not values:
                        continue
                    ys = [(i + 1) / len(samples) for i in range(len(values))]
                    missing = len(samples) - len(values)
                    ax.step(values, ys, style, where="post",
                            label=f"{record['nodes']} nodes, {field[:-3]} ({len(samples)} runs"
                                  + (f", {missing} not within 10 s" if missing else "") + ")")
            signal, field, label = real_line
            if signal in real and isinstance(real[signal].get(field), (int, float)):
                ax.axvline(real[signal][field], color="grey", linestyle=":", label=label)
            ax.set_title(title)
            ax.set_xscale("log")
            ax.set_xlabel("time to report unreachable (ms, log scale)")
            ax.set_ylabel("fraction of runs")
            ax.set_ylim(0, 1.02)
            ax.legend(fontsize=7, loc="lower right")
        fig.set_size_inches(10, 4)
        save(fig, "detection-cdf.png")

    # Convergence vs size.
    boots = group("control.jsonl", "bootstrap") + group("curves.jsonl", "bootstrap")
    if boots:
        fig, ax = plt.subplots(figsize=(6, 3.6))
        xs, ys = by_nodes(boots, "converged_s")
        ax.plot(xs, ys, "o", label="simulated, one point per seed")
        medians = {}
        for x, y in zip(xs, ys):
            medians.setdefault(x, []).append(y)
        mx = sorted(medians)
        ax.plot(mx, [statistics.median(medians[x]) for x in mx], "-", color="C0", alpha=0.5,
                label="median over seeds")
        real = group("real.jsonl", "real_converge")
        if real:
            ax.plot([r["nodes"] for r in real], [r["converge_ms"] / 1000 for r in real], "s", color="C3",
                    label="16 real processes (lashupd, TLS)")
        ax.set_xscale("log")
        ax.set_xlabel("nodes")
        ax.set_ylabel("converged after (s)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
        save(fig, "convergence-vs-size.png")

    # Multicast latency vs size.
    mc = group("multicast.jsonl", "mc-latency") + group("curves.jsonl", "mc-latency")
    if mc:
        fig, ax = plt.subplots(figsize=(6, 3.6))
        for field, label in (("deliver_50pct_ms", "50% delivered"), ("deliver_99pct_ms", "99% delivered"),
                             ("deliver_100pct_ms", "100% delivered")):
            xs, ys = by_nodes(mc, field)
            ax.plot(xs, ys, "o-", label=label)
        real = group("real.jsonl", "mc_real_latency")
        if real:
            ax.plot([r["nodes"] for r in real], [r["p50_ms"] for r in real], "s", color="C3",
                    label="16 real processes, all delivered, p50")
        ax.set_xscale("log")
        ax.set_xlabel("nodes")
        ax.set_ylabel("ms (median over messages)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
        save(fig, "multicast-latency-vs-size.png")

    # KV convergence vs size.
    kv = group("kv-sim.jsonl", "kv-latency") + group("curves.jsonl", "kv-latency")
    if kv:
        fig, ax = plt.subplots(figsize=(6, 3.6))
        for field, label in (("to_90pct_p50_ms", "90% of nodes, p50"), ("to_all_p50_ms", "all nodes, p50"),
                             ("p99_ms", "all nodes, p99")):
            xs, ys = by_nodes(kv, field)
            ax.plot(xs, ys, "o-", label=label)
        ax.set_xscale("log")
        ax.set_xlabel("nodes")
        ax.set_ylabel("write to subscription event (ms)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
        save(fig, "kv-convergence-vs-size.png")

    # KV update throughput per durability mode.
    updates = [r for r in group("kv.jsonl", "kv_update") if r.get("threads")]
    if updates:
        fig, ax = plt.subplots(figsize=(6, 3.6))
        modes = []
        for r in updates:
            if r["durability"] not in modes:
                modes.append(r["durability"])
        # One bar per way of writing: synchronous calls from 1 and 4 threads,
        # and asynchronous writes from one thread (lines without "mode" are calls).
        ways = []
        for r in updates:
            way = (r.get("mode", "call"), r["threads"])
            if way not in ways:
                ways.append(way)
        width = 0.8 / len(ways)
        for j, (mode, t) in enumerate(ways):
            heights = []
            for m in modes:
                match = [r["updates_per_s"] for r in updates
                         if r["durability"] == m and r["threads"] == t and r.get("mode", "call") == mode]
                heights.append(match[0] if match else 0)
            label = (f"lashup_kv_update, {t} thread{'s' if t > 1 else ''}" if mode == "call"
                     else f"lashup_kv_update_async, {t} thread{'s' if t > 1 else ''}")
            bars = ax.bar([i + j * width for i in range(len(modes))], heights, width, label=label)
            ax.bar_label(bars, labels=[f"{h / 1000:.0f}k" for h in heights], fontsize=7)
        goals = {"none": 100000, "group": 50000, "sync": 5000}
        for i, m in enumerate(modes):
            if m in goals:
                ax.hlines(goals[m], i - width / 2, i + width * (len(ways) - 0.5), colors="k", linestyles="dotted")
        ax.plot([], [], "k:", label="goal")
        ax.set_ylim(top=max(r["updates_per_s"] for r in updates) * 1.5)  # room for the legend
        ax.set_xticks([i + width * (len(ways) - 1) / 2 for i in range(len(modes))], modes)
        ax.set_xlabel("durability")
        ax.set_ylabel("updates/s")
        ax.legend(fontsize=8)
        save(fig, "kv-update-throughput.png")

    # State per node vs members.
    state = group("control.jsonl", "footprint-state")
    if state:
        fig, ax = plt.subplots(figsize=(6, 3.6))
        xs, ys = by_nodes(state, "bytes_per_node")
        ax.plot(xs, [y / 1e6 for y in ys], "o-", label="one node fed N members (footprint-state)")
        whole = group("control.jsonl", "footprint")
        if whole:
            xs, ys = by_nodes(whole, "bytes_per_node")
            ax.plot(xs, [y / 1e6 for y in ys], "s", color="C3", label="whole simulated cluster (footprint)")
        ax.set_xlabel("members")
        ax.set_ylabel("MB per node")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
        save(fig, "state-per-node-vs-members.png")

    return drawn


def system_python_with_matplotlib():
    """/usr/bin/python3 when it is not this interpreter and imports matplotlib."""
    system = "/usr/bin/python3"
    if os.environ.get("LASHUP_GEN_BENCHMARKS_REEXEC") or not os.path.exists(system):
        return None
    if os.path.realpath(sys.executable) == os.path.realpath(system):
        return None
    probe = subprocess.run([system, "-c", "import matplotlib"], capture_output=True)
    return system if probe.returncode == 0 else None


def main():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        system = system_python_with_matplotlib()
        if system:
            os.environ["LASHUP_GEN_BENCHMARKS_REEXEC"] = "1"
            os.execv(system, [system, str(pathlib.Path(__file__).resolve())] + sys.argv[1:])
    paths = sorted(BENCH.glob("*.jsonl"))
    data = {path.name: load(path) for path in paths}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drawn = draw_plots(data)
    if drawn is None:  # no matplotlib: link what is there
        drawn = [name for name, _, _ in PLOTS if (BENCH / name).exists()]
    lines = ["# Benchmarks", "",
             "<!-- Generated by scripts/gen-benchmarks.py from docs/bench/*.jsonl; do not edit by hand. -->", ""]
    if drawn:
        lines += ["## Plots", "",
                  "Drawn by `scripts/gen-benchmarks.py` from the JSON lines below; the tables that follow "
                  "hold every number. Times in simulation are simulated time.", ""]
        for name, title, caption in PLOTS:
            if name in drawn:
                lines += [f"### {title}", "", f"![{title}](bench/{name})", "", caption, ""]
    for path in paths:
        title, how = INTRO.get(path.name, (path.stem, f"`{path.name}`"))
        lines += [f"## {title}", "", how, ""]
        groups = data[path.name]
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
