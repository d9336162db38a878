#!/usr/bin/env python3
"""Multicast between 16 real lashupd processes on 127.0.0.1 with mutual TLS:
latency to every subscriber and messages/s through one node, as JSON lines
on stdout.

usage: bench_mc.py [--nodes 16] [--latency-messages 300] [--throughput-messages 20000]
                   [--payload-bytes 16] [--set KEY=VALUE ...] [--workdir DIR] PATH/TO/lashupd

Every node subscribes to the topic before it starts and reads commands on
stdin (examples/lashupd/README.md). Once the cluster is whole (and past the
nodes' one-second join window), two phases:

  mc_real_latency     messages of payload_bytes sent one at a time, the
                      publisher taking turns among the nodes (`publish` on
                      its stdin); for each, the time from its `published`
                      line (taken just before the publish call) to the last
                      `mc_message` line of the other nodes (when their loop
                      queued the delivery). p50/p99/max over the messages.
                      All processes share CLOCK_MONOTONIC, so the times of
                      different processes compare directly. A message not
                      delivered everywhere within 5 s is counted in
                      `incomplete` and left out of the percentiles.
  mc_real_throughput  one publisher sends the messages as fast as its node
                      takes them (`burst`); messages_per_s is the rate at
                      the slowest receiver: messages / (its last delivery -
                      the first publish). lost and duplicates compare each
                      node's deliveries with the publisher's own; the
                      copies the nodes repaired, and the extra copies they
                      received and dropped, come from the multicast.* stats.

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

LATENCY_TOPIC = "latency"
THROUGHPUT_TOPIC = "throughput"
JOIN_WINDOW_S = 1.0  # core/multicast/multicast.h: what a joining node is not replayed
DELIVERY_TIMEOUT_S = 5.0
THROUGHPUT_TIMEOUT_S = 120.0
QUIET_S = 2.0  # nothing written for this long: the throughput run is over



class Reader:
    """Each node's lines, sorted by kind as they are read (from the node's
    event list, so lines other waits read are not missed)."""

    def __init__(self, cluster, names):
        self.cluster = cluster
        self.names = names
        self.offsets = {name: len(cluster[name].events) for name in names}
        # (topic, origin, sequence) -> {receiver: [mono_us, ...]}
        self.deliveries = {}
        self.published = {}  # node -> [published lines]

    def read(self):
        for name in self.names:
            node = self.cluster[name]
            node.poll()
            new, self.offsets[name] = node.events[self.offsets[name]:], len(node.events)
            for e in new:
                kind = e.get("event")
                if kind == "mc_message":
                    key = (e["topic"], e["origin"], e["sequence"])
                    self.deliveries.setdefault(key, {}).setdefault(name, []).append(e["mono_us"])
                elif kind == "published":
                    self.published.setdefault(name, []).append(e)


def payload(index, size):
    """A printable payload of `size` bytes naming the message."""
    text = f"m{index}."
    return (text * (size // len(text) + 1))[:size]


def latency(cluster, reader, names, count, size):
    samples, incomplete = [], 0
    load = load_avg_1m()
    for i in range(count):
        origin = names[i % len(names)]
        others = [n for n in names if n != origin]
        published_before = len(reader.published.get(origin, []))
        cluster[origin].send(f"publish {LATENCY_TOPIC} {payload(i + 1, size)}")
        deadline = time.monotonic() + DELIVERY_TIMEOUT_S
        line = None
        while time.monotonic() < deadline:
            reader.read()
            lines = reader.published.get(origin, [])
            if line is None and len(lines) > published_before:
                line = lines[published_before]
            if line is not None:
                got = reader.deliveries.get((LATENCY_TOPIC, origin, line["sequence"]), {})
                if all(n in got for n in others):
                    samples.append(max(got[n][0] for n in others) - line["mono_us"])
                    break
            time.sleep(0.01)
        else:
            incomplete += 1
            log(f"latency: message {i + 1} from {origin} not delivered everywhere within {DELIVERY_TIMEOUT_S} s")
        time.sleep(0.01)  # one at a time, with a gap
    samples_ms = [s / 1000.0 for s in samples]
    record = {"bench": "mc_real_latency", "nodes": len(names), "payload_bytes": size, "messages": count,
              "p50_ms": round(statistics.median(samples_ms), 2) if samples_ms else None,
              "p99_ms": round(percentile(samples_ms, 0.99), 2) if samples_ms else None,
              "max_ms": round(max(samples_ms), 2) if samples_ms else None,
              "incomplete": incomplete, "load_avg_1m": load}
    log(f"latency: {record}")
    emit(record)


def throughput(cluster, reader, names, count, size):
    publisher = names[len(names) // 2]  # not a seed: an ordinary node
    receivers = [n for n in names if n != publisher]
    subscribed_us = monotonic_us()
    for name in names:
        cluster[name].send(f"subscribe {THROUGHPUT_TOPIC}")
    cluster.wait_for(lambda: all(cluster[n].find("subscribed", since_us=subscribed_us, topic=THROUGHPUT_TOPIC)
                                 for n in names), timeout_s=10, what="every node to subscribe")
    reader.read()
    before = node_stats(cluster, names)
    load = load_avg_1m()
    started_us = monotonic_us()
    cluster[publisher].send(f"burst {THROUGHPUT_TOPIC} {count} {size}")

    def ours():
        return {k: v for k, v in reader.deliveries.items() if k[0] == THROUGHPUT_TOPIC and k[1] == publisher}

    # The logs are parsed once every node has written nothing for QUIET_S
    # (late duplicates would show by then): parsing while the messages flow
    # would take the CPU the nodes need.
    deadline = time.monotonic() + THROUGHPUT_TIMEOUT_S
    sizes, quiet_since = None, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - quiet_since < QUIET_S:
        time.sleep(0.2)
        now_sizes = [os.path.getsize(cluster[n].log_path) for n in names]
        if now_sizes != sizes:
            sizes, quiet_since = now_sizes, time.monotonic()
    reader.read()
    done = cluster[publisher].latest("burst_done", since_us=started_us)
    first_publish = cluster[publisher].find("published", since_us=started_us, topic=THROUGHPUT_TOPIC, index=1)
    after = node_stats(cluster, names)

    mine = ours()
    expected = {k[2] for k, got in mine.items() if publisher in got}  # the publisher's own deliveries
    if done is None or len(expected) != done["published"]:
        log(f"throughput: the publisher delivered {len(expected)} of its own messages; burst_done: {done}")
    lost = duplicates = 0
    last_us = {}
    for name in receivers:
        have = {k[2] for k, got in mine.items() if name in got}
        lost += len(expected - have)
        duplicates += sum(len(got[name]) - 1 for got in mine.values() if name in got)
        last_us[name] = max((got[name][0] for got in mine.values() if name in got), default=None)
    first_us = first_publish[0]["mono_us"] if first_publish else started_us
    slowest = max((t for t in last_us.values() if t is not None), default=None)
    rate = round(len(expected) / ((slowest - first_us) / 1e6)) if slowest and slowest > first_us else None
    record = {"bench": "mc_real_throughput", "nodes": len(names), "payload_bytes": size, "messages": count,
              "messages_per_s": rate,
              "publish_per_s": round(done["published"] / (done["elapsed_us"] / 1e6)) if done else None,
              "published": done["published"] if done else 0,
              "lost": lost,
              "duplicates": duplicates,
              "repaired_copies": stat_total(before, after, "multicast.repaired"),
              "duplicate_copies_dropped": stat_total(before, after, "multicast.duplicates_received"),
              "send_queue_drops": stat_total(before, after, "transport.send_queue_drops"),
              "events_dropped": stat_total(before, after, "events.dropped"),
              "load_avg_1m": load}
    log(f"throughput: {record}")
    emit(record)


def main():
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--latency-messages", type=int, default=300)
    parser.add_argument("--throughput-messages", type=int, default=20000)
    parser.add_argument("--payload-bytes", type=int, default=16)
    options = parser.parse_args()
    cluster, names = bench_cluster(options, ["--subscribe", LATENCY_TOPIC, "--stdin-commands"])
    try:
        converge_quietly(cluster, names)  # its real_converge line is not ours
        time.sleep(2 * JOIN_WINDOW_S)
        reader = Reader(cluster, names)
        if options.latency_messages > 0:
            latency(cluster, reader, names, options.latency_messages, options.payload_bytes)
        if options.throughput_messages > 0:
            throughput(cluster, reader, names, options.throughput_messages, options.payload_bytes)
        return 0
    except TimeoutError as error:
        log(f"bench_mc: FAILED: {error}")
        return 1
    finally:
        cluster.cleanup()


if __name__ == "__main__":
    sys.exit(main())
