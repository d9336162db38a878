#!/usr/bin/env python3
"""The replicated KV store between 16 real lashupd processes on 127.0.0.1
with mutual TLS: how fast a write reaches every node, and whether every node
holds every write of a full-speed burst soon after it, as JSON lines on
stdout.

usage: bench_kv.py [--nodes 16] [--latency-writes 200] [--burst-seconds 10]
                   [--burst-keys 100] [--new-node-keys 100000] [--set KEY=VALUE ...]
                   [--workdir DIR] PATH/TO/lashupd

Every node reads commands on stdin (examples/lashupd/README.md). Once the
cluster is whole, two phases:

  kv_real_latency   every node subscribes to the prefix "lat/" (with
                    kv.subscription_coalesce_ms = 0, so that an event is
                    queued as soon as the change is applied); then writes
                    are made one at a time, the writer taking turns among
                    the nodes (`kv-set lat/<i> v x`). For each, the time
                    from the writer's `kv_written` started_us (just before
                    the lashup_kv_update call) to the `kv_changed` line of
                    the last other node (when its loop queued the event).
                    p50/p99/max over the writes; a write not seen everywhere
                    within 5 s is counted in `incomplete`. All processes
                    share CLOCK_MONOTONIC.
  kv_burst          one node writes for burst_seconds as fast as its node
                    takes them (`kv-burst burst/ KEYS SECONDS`: counter adds
                    on KEYS keys with lashup_kv_update_async, at most 2,048
                    pending), then every node is asked to wait until the
                    counters add up to the number of acknowledged writes
                    (`kv-wait`). complete_after_burst_ms is the time from the
                    writer's last acknowledgement to the last node's
                    `kv_complete` line. A node that already held everything
                    when asked answers at once, so the figure is an upper
                    bound of when the last node was complete. `dropped` is
                    the writes missing from any node after the wait's limit
                    (30 s).
  kv_new_node       one node writes new_node_keys distinct keys, each once,
                    at 10,000 per second (`kv-burst new/ KEYS 0 10000`); once
                    every node holds them, a
                    node that was never in the cluster starts with an empty
                    data dir and one contact; receive_ms is the time from
                    its start to its `kv_complete` line for all of them
                    (anti-entropy transfers them: they are older than the
                    multicast history it is not replayed).

Progress goes to stderr. --set passes a configuration key to every node; the
lines then carry a "config" field.
"""

import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "process"))
from bench_real import (bench_cluster, bench_parser, converge_quietly, emit, load_avg_1m, log,  # noqa: E402
                        node_stats, percentile, stat_total)
from lashupd_harness import monotonic_us  # noqa: E402

LATENCY_PREFIX = "lat/"
BURST_PREFIX = "burst/"
DELIVERY_TIMEOUT_S = 5.0
BURST_WAIT_MS = 30000
NEW_NODE_WRITE_RATE = 10000



def latency(cluster, names, count):
    subscribed_us = monotonic_us()
    for name in names:
        cluster[name].send(f"kv-subscribe {LATENCY_PREFIX}")
    cluster.wait_for(lambda: all(cluster[n].find("kv_dump_done", since_us=subscribed_us) for n in names),
                     timeout_s=10, what="every node to subscribe")
    offsets = {n: len(cluster[n].events) for n in names}
    seen = {}  # key -> {node: mono_us}
    written = {}  # key -> started_us

    def read():
        for name in names:
            node = cluster[name]
            node.poll()
            new, offsets[name] = node.events[offsets[name]:], len(node.events)
            for e in new:
                kind = e.get("event")
                if kind == "kv_changed" and not e.get("initial") and e["key"].startswith(LATENCY_PREFIX):
                    seen.setdefault(e["key"], {}).setdefault(name, e["mono_us"])
                elif kind == "kv_written" and e["key"].startswith(LATENCY_PREFIX):
                    written[e["key"]] = e["started_us"]

    samples, incomplete = [], 0
    load = load_avg_1m()
    for i in range(count):
        writer = names[i % len(names)]
        others = [n for n in names if n != writer]
        key = f"{LATENCY_PREFIX}{i}"
        cluster[writer].send(f"kv-set {key} v x")
        deadline = time.monotonic() + DELIVERY_TIMEOUT_S
        while time.monotonic() < deadline:
            read()
            got = seen.get(key, {})
            if key in written and all(n in got for n in others):
                samples.append(max(got[n] for n in others) - written[key])
                break
            time.sleep(0.005)
        else:
            incomplete += 1
            log(f"latency: write {key} from {writer} not seen everywhere within {DELIVERY_TIMEOUT_S} s")
        time.sleep(0.01)  # one at a time, with a gap
    samples_ms = [s / 1000.0 for s in samples]
    record = {"bench": "kv_real_latency", "nodes": len(names), "writes": count,
              "p50_ms": round(statistics.median(samples_ms), 2) if samples_ms else None,
              "p99_ms": round(percentile(samples_ms, 0.99), 2) if samples_ms else None,
              "max_ms": round(max(samples_ms), 2) if samples_ms else None,
              "incomplete": incomplete, "load_avg_1m": load}
    log(f"latency: {record}")
    emit(record)


def burst(cluster, names, seconds, keys):
    writer = names[len(names) // 2]  # not a seed: an ordinary node
    before = node_stats(cluster, names)
    load = load_avg_1m()
    started_us = monotonic_us()
    cluster[writer].send(f"kv-burst {BURST_PREFIX} {keys} {seconds}")
    cluster.wait_for(lambda: cluster[writer].latest("kv_burst_done", since_us=started_us) is not None,
                     timeout_s=seconds + 60, what="the burst to end", interval_s=0.2)
    done = cluster[writer].latest("kv_burst_done", since_us=started_us)
    asked_us = monotonic_us()
    for name in names:
        cluster[name].send(f"kv-wait {BURST_PREFIX} {done['written']} {BURST_WAIT_MS}")

    def answers():
        out = {}
        for n in names:
            line = (cluster[n].latest("kv_complete", since_us=asked_us) or
                    cluster[n].latest("kv_wait_timeout", since_us=asked_us))
            if line is not None:
                out[n] = line
        return out

    cluster.wait_for(lambda: len(answers()) == len(names), timeout_s=BURST_WAIT_MS / 1000 + 30,
                     what="every node to answer kv-wait", interval_s=0.05)
    got = answers()
    complete = [line for line in got.values() if line["event"] == "kv_complete"]
    dropped = sum(max(0, done["written"] - line["sum"]) for line in got.values())
    last_complete_us = max(line["mono_us"] for line in complete) if len(complete) == len(names) else None
    after = node_stats(cluster, names)
    burst_s = (done["last_ack_us"] - done["started_us"]) / 1e6
    record = {"bench": "kv_burst", "nodes": len(names), "burst_s": round(burst_s, 2), "keys": keys,
              "written": done["written"], "failed": done["failed"],
              "writes_per_s": round(done["written"] / burst_s) if burst_s > 0 else None,
              "complete_after_burst_ms": round((last_complete_us - done["last_ack_us"]) / 1000.0, 1)
              if last_complete_us else None,
              "nodes_complete": len(complete),
              "dropped": dropped,
              "deltas_applied": stat_total(before, after, "kv.deltas_applied"),
              "sync_states_applied": stat_total(before, after, "kv.sync_states_applied"),
              "multicast_repaired": stat_total(before, after, "multicast.repaired"),
              "send_queue_drops": stat_total(before, after, "transport.send_queue_drops"),
              "load_avg_1m": load}
    log(f"burst: {record}")
    emit(record)


def new_node(cluster, names, keys):
    writer = names[0]
    started_us = monotonic_us()
    # Each key once, at a rate the 16 processes on this machine absorb
    # (what is measured is the new node's catch-up, not this).
    cluster[writer].send(f"kv-burst new/ {keys} 0 {NEW_NODE_WRITE_RATE}")
    cluster.wait_for(lambda: cluster[writer].latest("kv_burst_done", since_us=started_us) is not None,
                     timeout_s=keys / NEW_NODE_WRITE_RATE + 60, what="the writes to end", interval_s=0.2)
    done = cluster[writer].latest("kv_burst_done", since_us=started_us)
    if done["written"] < keys:
        log(f"new node: only {done['written']} writes for {keys} keys")
    # Every node holds them all before the new one comes.
    asked_us = monotonic_us()
    for name in names:
        cluster[name].send(f"kv-wait new/ {done['written']} 110000")
    cluster.wait_for(lambda: all(cluster[n].latest("kv_complete", since_us=asked_us) for n in names),
                     timeout_s=120, what="every node to hold the keys", interval_s=0.5)
    cluster.make_certificates(["fresh"])
    newcomer = cluster.add("fresh", contacts=[cluster[names[0]]])
    launched_us = monotonic_us()
    newcomer.start()
    newcomer.send(f"kv-wait new/ {done['written']} 120000")
    cluster.wait_for(lambda: newcomer.latest("kv_complete") or newcomer.latest("kv_wait_timeout"),
                     timeout_s=180, what="the new node to answer kv-wait", interval_s=0.2)
    line = newcomer.latest("kv_complete")
    record = {"bench": "kv_new_node", "nodes": len(names) + 1, "keys": min(keys, done["written"]),
              "writes": done["written"],
              "receive_ms": round((line["mono_us"] - launched_us) / 1000.0, 1) if line else None,
              "complete": line is not None, "load_avg_1m": load_avg_1m()}
    log(f"new node: {record}")
    emit(record)


def main():
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--latency-writes", type=int, default=200)
    parser.add_argument("--burst-seconds", type=int, default=10)
    parser.add_argument("--burst-keys", type=int, default=100)
    parser.add_argument("--new-node-keys", type=int, default=100000)
    options = parser.parse_args()
    cluster, names = bench_cluster(options, ["--set", "kv.subscription_coalesce_ms=0", "--stdin-commands"])
    try:
        converge_quietly(cluster, names)  # its real_converge line is not ours
        if options.latency_writes > 0:
            latency(cluster, names, options.latency_writes)
        if options.burst_seconds > 0:
            burst(cluster, names, options.burst_seconds, options.burst_keys)
        if options.new_node_keys > 0:
            new_node(cluster, names, options.new_node_keys)
        return 0
    except TimeoutError as error:
        log(f"bench_kv: FAILED: {error}")
        return 1
    finally:
        cluster.cleanup()


if __name__ == "__main__":
    sys.exit(main())
