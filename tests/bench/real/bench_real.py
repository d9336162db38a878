#!/usr/bin/env python3
"""16 real lashupd processes on 127.0.0.1 with mutual TLS: convergence,
failure detection, recovery and footprint, as JSON lines on stdout.

usage: bench_real.py [--nodes 16] [--kill-trials 15] [--stop-trials 8]
                     [--idle-s 60] [--set KEY=VALUE ...] [--workdir DIR] PATH/TO/lashupd

Lines (units last in the field names; scripts/bench-real.sh appends them to
docs/bench/real.jsonl):

  real_converge   cold start of every node until each logged every other
                  one reachable, from the first process launch
  real_footprint  resident memory per node and the CPU of all nodes while
                  idle, from /proc/<pid>/stat and /proc/<pid>/status
  real_detect     KILL: kill -9 of one node per trial (restarted between
                  trials, the cluster whole again before the next); t90 is
                  the time until 90% of the others logged it unreachable
  real_detect     STOP: SIGSTOP of one node per trial; t100 until all others
                  logged it unreachable
  real_recover    CONT: SIGCONT of that node; t100 until all others logged
                  it reachable again

false_positives counts reachability events that marked any node other than
the trial's victim unreachable, by any node that kept running, from the
start of the first trial to the end of the last. The stopped node's own
marks after it resumes (its neighbours dropped it, so it was cut off until
it rejoined) are counted apart, in stopped_node_marks_after_resume. Progress and per-trial
figures go to stderr.

--set passes a configuration key to every node (docs/CONFIG.md); the lines
then carry a "config" field naming them, so they are not mistaken for the
defaults.

Times are measured from the moment the signal is sent (monotonic clock, the
one of lashupd's mono_us) to the mono_us of each node's event.
"""

import argparse
import json
import math
import os
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "process"))
from lashupd_harness import Cluster, exit_cleanly_on_signals, monotonic_us, reachability_marks  # noqa: E402

DETECT_TIMEOUT_S = 20
RECOVER_TIMEOUT_S = 30
SETTLE_S = 1.0  # quiet time after the cluster is whole again, before the next trial
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def log(text):
    print(text, file=sys.stderr, flush=True)


CONFIG = []  # the --set options, added to every line when given


def emit(record):
    if CONFIG:
        record["config"] = ",".join(CONFIG)
    # Compact separators, as the other docs/bench/*.jsonl files.
    print(json.dumps(record, separators=(",", ":")), flush=True)


# What bench_real.py, bench_mc.py and bench_kv.py share.

def bench_parser(description):
    """An argument parser with the options every real-process benchmark takes;
    the caller adds its own, then parses."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--nodes", type=int, default=16)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a configuration key for every node (repeatable)")
    parser.add_argument("--workdir", help="keep logs, data dirs and certificates here (default: a temporary "
                        "directory, removed at the end)")
    parser.add_argument("lashupd")
    return parser


def bench_cluster(options, extra_args=()):
    """(cluster, names) for the parsed options: nodes n01..nN, every --set
    passed to every node (and recorded in CONFIG), plus extra_args."""
    exit_cleanly_on_signals()
    names = [f"n{i:02d}" for i in range(1, options.nodes + 1)]
    CONFIG.extend(options.set)
    node_args = [arg for setting in options.set for arg in ("--set", setting)] + list(extra_args)
    return Cluster(options.lashupd, workdir=options.workdir, status_interval_ms=0, args=node_args), names


def converge_quietly(cluster, names):
    """converge() without its real_converge line on stdout (it goes to stderr)."""
    saved, sys.stdout = sys.stdout, sys.stderr
    try:
        converge(cluster, names)
    finally:
        sys.stdout = saved


def node_stats(cluster, names):
    """{name: stats} from a status line each node prints on the `status` command."""
    asked_us = monotonic_us()
    for name in names:
        cluster[name].send("status")
    cluster.wait_for(lambda: all(cluster[n].latest("status", since_us=asked_us) for n in names),
                     timeout_s=10, what="a status line from every node")
    return {n: cluster[n].latest("status", since_us=asked_us)["stats"] for n in names}


def stat_total(before, after, key):
    """How much the stat `key` grew, summed over the nodes."""
    return sum(after[n][key] - before[n][key] for n in after)


def round_ms(value_us):
    return None if value_us is None else round(value_us / 1000.0, 1)


def percentile(values, fraction):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def current_view(node):
    """{member: state} from the reachability events of the node's current
    run (after its latest "started" line), and the mono_us of the latest."""
    events = node.events
    start = max((i for i, e in enumerate(events) if e.get("event") == "started"), default=0)
    view, last_us = {}, None
    for e in events[start:]:
        if e.get("event") == "reachability":
            view[e["node"]] = e["state"]
            last_us = e["mono_us"]
    return view, last_us


def sees_all_reachable(node, names):
    view, _ = current_view(node)
    return all(view.get(other) == "reachable" for other in names if other != node.name)


def whole(cluster, names):
    return all(sees_all_reachable(cluster[n], names) for n in names)


def time_all_reachable(node, names):
    """mono_us of the event after which the node had logged every other
    node reachable (replaying its current run), or None."""
    events = node.events
    start = max((i for i, e in enumerate(events) if e.get("event") == "started"), default=0)
    view = {}
    for e in events[start:]:
        if e.get("event") == "reachability":
            view[e["node"]] = e["state"]
            if all(view.get(other) == "reachable" for other in names if other != node.name):
                return e["mono_us"]
    return None


def first_marks(observers, target, state, since_us):
    """Sorted latencies (µs after since_us) of each observer's first event
    logging target in state."""
    latencies = []
    for node in observers:
        found = node.find("reachability", since_us=since_us, node=target, state=state)
        if found:
            latencies.append(found[0]["mono_us"] - since_us)
    return sorted(latencies)


def wait_marks(cluster, observers, target, state, since_us, timeout_s, what):
    cluster.wait_for(lambda: len(first_marks(observers, target, state, since_us)) == len(observers),
                     timeout_s=timeout_s, what=what, interval_s=0.01)
    return first_marks(observers, target, state, since_us)


def false_positive_marks(cluster, windows):
    """Unreachable marks of anyone but the victim of the window they fall in;
    windows: [(since_us, until_us, victim)]."""
    marks = []
    for since_us, until_us, victim in windows:
        marks += [m for m in reachability_marks(cluster.nodes.values(), "unreachable", since_us, until_us)
                  if m[2] != victim]
    return marks


def load_avg_1m():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# ---- phases ----

def converge(cluster, names):
    cluster.make_certificates(names)
    seeds = [cluster.add(n) for n in names[:2]]
    for name in names[2:]:
        cluster.add(name)
    for node in cluster.nodes.values():
        node.contacts = [s.contact for s in seeds if s is not node]
    launched_us = monotonic_us()
    for node in cluster.nodes.values():
        node.start()
    cluster.wait_for(lambda: whole(cluster, names), timeout_s=RECOVER_TIMEOUT_S,
                     what=f"every node to log all {len(names)} reachable", interval_s=0.01)
    converged_us = max(time_all_reachable(cluster[n], names) for n in names)
    converge_ms = round_ms(converged_us - launched_us)
    # A member whose record arrives before the records that link it to the
    # graph is logged unreachable, then reachable: counted, not hidden.
    joining = reachability_marks(cluster.nodes.values(), "unreachable", launched_us, converged_us)
    log(f"converged in {converge_ms} ms; unreachable events while joining: {len(joining)}")
    emit({"bench": "real_converge", "nodes": len(names), "converge_ms": converge_ms,
          "unreachable_events_while_joining": len(joining), "load_avg_1m": load_avg_1m()})


def proc_cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def proc_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def proc_context_switches(pid):
    """Voluntary + involuntary context switches of every thread: about the
    number of times the process woke up."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that ended
    return total


def status_stats(cluster, names):
    """{name: stats} from a status line each node prints on SIGUSR1."""
    asked_us = monotonic_us()
    for name in names:
        cluster[name].signal(signal.SIGUSR1)
    cluster.wait_for(lambda: all(cluster[n].latest("status", since_us=asked_us) for n in names),
                     timeout_s=10, what="a status line from every node after SIGUSR1")
    return {n: cluster[n].latest("status", since_us=asked_us)["stats"] for n in names}


def stat_rate_per_node(before, after, key, elapsed_s):
    deltas = [after[n][key] - before[n][key] for n in before
              if before[n].get(key) is not None and after[n].get(key) is not None]
    return round(statistics.mean(deltas) / elapsed_s, 1) if deltas else None


def footprint(cluster, names, idle_s):
    time.sleep(5)  # let the joins' catch-up and first anti-entropy rounds pass
    pids = [cluster[n].pid for n in names]
    stats_before = status_stats(cluster, names)
    start_ticks = {pid: proc_cpu_ticks(pid) for pid in pids}
    start_switches = {pid: proc_context_switches(pid) for pid in pids}
    start = time.monotonic()
    time.sleep(idle_s)
    elapsed = time.monotonic() - start
    cpu_s = sum(proc_cpu_ticks(pid) - start_ticks[pid] for pid in pids) / CLOCK_TICKS_PER_S
    switches = sum(proc_context_switches(pid) - start_switches[pid] for pid in pids)
    rss = [proc_rss_kb(pid) for pid in pids]
    stats_after = status_stats(cluster, names)
    record = {"bench": "real_footprint", "nodes": len(names),
              "rss_mb_per_node": round(statistics.mean(rss) / 1024, 1),
              "rss_mb_max": round(max(rss) / 1024, 1),
              "idle_cpu_pct_of_one_core_all_nodes": round(100 * cpu_s / elapsed, 2),
              "idle_s": round(elapsed, 1),
              "messages_sent_per_s_per_node": stat_rate_per_node(stats_before, stats_after,
                                                                 "transport.messages_sent", elapsed),
              "bytes_sent_per_s_per_node": stat_rate_per_node(stats_before, stats_after,
                                                              "transport.bytes_sent", elapsed),
              "context_switches_per_s_per_node": round(switches / elapsed / len(pids), 1),
              "load_avg_1m": load_avg_1m()}
    log(f"footprint: {record}")
    emit(record)


def kill_trials(cluster, names, victims):
    t90, t100, windows = [], [], []
    load = load_avg_1m()
    for victim_name in victims:
        victim = cluster[victim_name]
        others = [cluster[n] for n in names if n != victim_name]
        killed_us = monotonic_us()
        victim.kill()
        latencies = wait_marks(cluster, others, victim_name, "unreachable", killed_us, DETECT_TIMEOUT_S,
                               f"every node to log the killed {victim_name} unreachable")
        t90.append(latencies[math.ceil(0.9 * len(others)) - 1])
        t100.append(latencies[-1])
        victim.start()
        cluster.wait_for(lambda: whole(cluster, names), timeout_s=RECOVER_TIMEOUT_S,
                         what=f"the cluster to be whole again after {victim_name} restarted")
        time.sleep(SETTLE_S)
        windows.append((killed_us, monotonic_us(), victim_name))
        log(f"KILL {victim_name}: t90 {round_ms(t90[-1])} ms, t100 {round_ms(t100[-1])} ms, "
            f"first {round_ms(latencies[0])} ms")
    cluster.poll()
    fp = false_positive_marks(cluster, windows)
    if fp:
        log(f"KILL false positives (mono_us, observer, node): {fp}")
    emit({"bench": "real_detect", "signal": "KILL", "nodes": len(names), "trials": len(victims),
          "t90_p50_ms": round_ms(statistics.median(t90)), "t90_p90_ms": round_ms(percentile(t90, 0.9)),
          "t100_p50_ms": round_ms(statistics.median(t100)), "t100_max_ms": round_ms(max(t100)),
          "false_positives": len(fp), "load_avg_1m": load})


def stop_trials(cluster, names, victims):
    t100_stop, t100_cont, windows, by_victim = [], [], [], []
    load = load_avg_1m()
    for victim_name in victims:
        victim = cluster[victim_name]
        others = [cluster[n] for n in names if n != victim_name]
        stopped_us = monotonic_us()
        victim.pause()
        try:
            latencies = wait_marks(cluster, others, victim_name, "unreachable", stopped_us, DETECT_TIMEOUT_S,
                                   f"every node to log the stopped {victim_name} unreachable")
        finally:
            continued_us = monotonic_us()
            victim.resume()
        t100_stop.append(latencies[-1])
        back = wait_marks(cluster, others, victim_name, "reachable", continued_us, RECOVER_TIMEOUT_S,
                          f"every node to log {victim_name} reachable after SIGCONT")
        t100_cont.append(back[-1])
        cluster.wait_for(lambda: whole(cluster, names), timeout_s=RECOVER_TIMEOUT_S,
                         what=f"the cluster to be whole again after {victim_name} continued")
        time.sleep(SETTLE_S)
        windows.append((stopped_us, monotonic_us(), victim_name))
        cluster.poll()
        own = [m for m in reachability_marks([victim], "unreachable", stopped_us)]
        by_victim += own
        log(f"STOP {victim_name}: t100 {round_ms(t100_stop[-1])} ms (first {round_ms(latencies[0])} ms); "
            f"CONT: t100 {round_ms(t100_cont[-1])} ms; the victim's own unreachable marks: {len(own)}")
    cluster.poll()
    fp = false_positive_marks(cluster, windows)
    if fp:
        log(f"STOP false positives (mono_us, observer, node): {fp}")
    # The stopped node's own marks are its view after it resumed: its
    # neighbours had dropped it, so it was cut off until it rejoined. They
    # are counted apart from the false positives of the nodes that ran on.
    fp_running = [m for m in fp
                  if not any(since <= m[0] <= until and m[1] == victim for since, until, victim in windows)]
    emit({"bench": "real_detect", "signal": "STOP", "nodes": len(names), "trials": len(victims),
          "t100_p50_ms": round_ms(statistics.median(t100_stop)), "t100_p90_ms": round_ms(percentile(t100_stop, 0.9)),
          "false_positives": len(fp_running), "stopped_node_marks_after_resume": len(by_victim),
          "load_avg_1m": load})
    emit({"bench": "real_recover", "signal": "CONT", "nodes": len(names), "trials": len(victims),
          "t100_p50_ms": round_ms(statistics.median(t100_cont)), "t100_p90_ms": round_ms(percentile(t100_cont, 0.9)),
          "load_avg_1m": load})


def main():
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--kill-trials", type=int, default=15)
    parser.add_argument("--stop-trials", type=int, default=8)
    # Longer than the 30 s shuffle period: the window holds about 32 shuffles.
    parser.add_argument("--idle-s", type=float, default=60)
    options = parser.parse_args()
    cluster, names = bench_cluster(options)
    # Victims skip n01, the first seed, so that a restarting victim always
    # has a live contact; each trial takes the next node.
    candidates = names[1:]
    kill_victims = [candidates[i % len(candidates)] for i in range(options.kill_trials)]
    stop_victims = [candidates[(options.kill_trials + i) % len(candidates)] for i in range(options.stop_trials)]
    try:
        converge(cluster, names)
        footprint(cluster, names, options.idle_s)
        if kill_victims:
            kill_trials(cluster, names, kill_victims)
        if stop_victims:
            stop_trials(cluster, names, stop_victims)
        return 0
    except TimeoutError as error:
        cluster.poll()
        log(f"bench_real: FAILED: {error}")
        for name in names:
            view, _ = current_view(cluster[name])
            bad = {k: v for k, v in view.items() if v != "reachable"}
            log(f"  {name} ({'running' if cluster[name].running else 'exited'}): not reachable: {bad}; "
                f"stderr: {cluster[name].stderr().strip()[-300:]}")
        return 1
    finally:
        cluster.cleanup()


if __name__ == "__main__":
    sys.exit(main())
