#!/usr/bin/env python3
"""Multicast between 16 real lashupd processes on 127.0.0.1 with mutual TLS
(label process).

usage: multicast_test.py PATH/TO/lashupd [--nodes 16] [--messages 10000] [--publishers 4]
                                          [--settle-s 0]

Every node subscribes to one topic (--subscribe, before it starts). Once the
cluster is whole, the publishers each publish their share of the messages
as fast as their node takes them (a `burst` on stdin, examples/lashupd/README.md).
Then every node must have delivered every message exactly once: the set of
(origin, sequence) of its mc_message lines is exactly {publisher} x
{1..share} for every publisher, with no line twice. The origin's own
deliveries count: a publisher subscribes too.

The wait is generous (it tells a working multicast from a broken one on a
loaded 2-core machine); speed is measured by tests/bench/real/bench_mc.py.
On failure it prints each node's multicast counters.
"""

import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lashupd_harness import (CaseFailed, CheckedCluster, check, exit_cleanly_on_signals, monotonic_us,  # noqa: E402
                             reachable_views, say)

TOPIC = "mc"
PAYLOAD_BYTES = 16
CONVERGE_S = 30
# A joining node takes the first summary a neighbour sends it as the horizon
# of what it is not replayed (core/multicast/multicast.h); publishing starts
# as soon as the overlay has converged, while later neighbours still come up.
SETTLE_S = 0
DELIVER_S = 90  # every message everywhere, from the first publish
QUIET_S = 2  # after the last expected message: no further copy may come


class Deliveries:
    """The mc_message lines of one node, read incrementally."""

    def __init__(self, node):
        self.node = node
        self.seen = set()  # (origin, sequence)
        self.duplicates = []
        self.last_us = None

    def read(self):
        for e in self.node.poll():
            if e.get("event") != "mc_message" or e.get("topic") != TOPIC:
                continue
            key = (e["origin"], e["sequence"])
            if key in self.seen:
                self.duplicates.append(key)
            self.seen.add(key)
            self.last_us = e["mono_us"]


def multicast_counters(cluster, names):
    """{name: {stat: value}} of the multicast.* stats (and a few transport
    ones) from a status line each node prints on SIGUSR1."""
    asked_us = monotonic_us()
    for name in names:
        cluster[name].signal(signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(cluster[n].latest("status", since_us=asked_us) for n in names):
        cluster.poll()
        time.sleep(0.05)
    result = {}
    for name in names:
        status = cluster[name].latest("status", since_us=asked_us)
        stats = status["stats"] if status else {}
        result[name] = {k: v for k, v in stats.items()
                        if k.startswith("multicast.") or k in ("transport.send_queue_drops", "events.dropped",
                                                               "node.malformed_messages", "commands.refused")}
    return result


def run(binary, node_count, message_count, publisher_count, settle_s):
    names = [f"n{i:02d}" for i in range(1, node_count + 1)]
    publishers = names[::max(1, node_count // publisher_count)][:publisher_count]
    share = message_count // len(publishers)
    expected = {(p, s) for p in publishers for s in range(1, share + 1)}
    say(f"multicast: {node_count} nodes, {len(publishers)} publishers ({', '.join(publishers)}) x {share} "
        f"messages of {PAYLOAD_BYTES} bytes, every node subscribed")
    cluster = CheckedCluster(binary, status_interval_ms=0, args=["--subscribe", TOPIC, "--stdin-commands"])
    try:
        cluster.make_certificates(names)
        seeds = [cluster.add(n) for n in names[:2]]
        for name in names[2:]:
            cluster.add(name)
        for node in cluster.nodes.values():
            node.contacts = [s.contact for s in seeds if s is not node]
        launched = time.monotonic()
        for node in cluster.nodes.values():
            node.start()
        cluster.wait_for(lambda: reachable_views(cluster, names), timeout_s=CONVERGE_S,
                         what=f"every node to log all {node_count} reachable")
        say(f"  converged {time.monotonic() - launched:.1f} s after the first launch")
        time.sleep(settle_s)

        deliveries = {name: Deliveries(cluster[name]) for name in names}
        started_us = monotonic_us()
        for name in publishers:
            cluster[name].send(f"burst {TOPIC} {share} {PAYLOAD_BYTES}")
        deadline = time.monotonic() + DELIVER_S
        while time.monotonic() < deadline:
            for d in deliveries.values():
                d.read()
            if all(len(d.seen) >= len(expected) for d in deliveries.values()):
                break
            for node in cluster.nodes.values():
                code = node.returncode
                check(code is None, f"{node.name} exited with status {code}; stderr: {node.stderr().strip()[-500:]}")
            time.sleep(0.1)
        complete_us = max((d.last_us or started_us) for d in deliveries.values())
        time.sleep(QUIET_S)
        for d in deliveries.values():
            d.read()

        for name in publishers:
            done = cluster[name].latest("burst_done")
            check(done is not None and done["published"] == share,
                  f"{name} did not publish its {share} messages: {done}")
        problems = []
        for name, d in deliveries.items():
            missing = expected - d.seen
            extra = d.seen - expected
            if missing or extra or d.duplicates:
                problems.append(f"{name}: {len(d.seen)} distinct, {len(missing)} missing (e.g. {sorted(missing)[:5]}), "
                                f"{len(extra)} unexpected (e.g. {sorted(extra)[:5]}), {len(d.duplicates)} duplicates "
                                f"(e.g. {d.duplicates[:5]})")
        if problems:
            counters = multicast_counters(cluster, names)
            report = "\n".join(f"  {p}" for p in problems)
            stats = "\n".join(f"  {n}: {counters[n]}" for n in names)
            raise CaseFailed(f"deliveries differ from {len(expected)} messages once each:\n{report}\n"
                             f"multicast counters:\n{stats}")
        counters = multicast_counters(cluster, names)
        repaired = sum(c.get("multicast.repaired", 0) for c in counters.values())
        lost = sum(c.get("multicast.lost", 0) for c in counters.values())
        duplicates_received = sum(c.get("multicast.duplicates_received", 0) for c in counters.values())
        say(f"  every node delivered the {len(expected)} messages once each, the last "
            f"{(complete_us - started_us) / 1e6:.2f} s after the first burst started "
            f"(repaired copies {repaired}, duplicate copies received and dropped {duplicates_received}, "
            f"lost {lost})")
        check(lost == 0, f"multicast.lost is {lost}")
        return True
    finally:
        cluster.cleanup()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=16)
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--settle-s", type=float, default=SETTLE_S,
                        help="wait after convergence before publishing (default: none)")
    parser.add_argument("lashupd")
    options = parser.parse_args()
    exit_cleanly_on_signals()
    started = time.monotonic()
    try:
        run(options.lashupd, options.nodes, options.messages, options.publishers, options.settle_s)
    except (CaseFailed, TimeoutError, RuntimeError) as error:
        say(f"multicast: FAILED: {error}")
        return 1
    say(f"multicast: ok ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
