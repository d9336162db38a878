#!/usr/bin/env python3
"""Runs two lashupd builds in one cluster: the OLD build as n1-n3 (n1 the
contact), the NEW build as n4-n5, all on 127.0.0.1 with TLS. With --pin the
new nodes run with protocol.version = 1 (docs/OPERATIONS.md, Upgrades).
Checks that all five converge, that KV writes of an old and of a new node
reach all, and that kill -9 of an old and of a new node is seen by all
others; exits 1 at the first check that fails.

    scripts/interop.py [--pin] OLD_LASHUPD NEW_LASHUPD

An old build to compare with: git worktree add /tmp/old COMMIT, then
cmake -S /tmp/old -B /tmp/old-build -G Ninja -DLASHUP_BUILD_TESTS=OFF
-DLASHUP_BUILD_BINDINGS=OFF && cmake --build /tmp/old-build --target lashupd.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "process"))
from lashupd_harness import CheckedCluster, monotonic_us, status_lists_all_reachable, reachability_marks  # noqa: E402

parser = argparse.ArgumentParser(description="two lashupd builds in one cluster")
parser.add_argument("--pin", action="store_true", help="run the new nodes with protocol.version = 1")
parser.add_argument("old")
parser.add_argument("new")
options = parser.parse_args()
OLD, NEW = os.path.abspath(options.old), os.path.abspath(options.new)
pin = options.pin
c = CheckedCluster(OLD, status_interval_ms=200)
try:
    names = ["n1", "n2", "n3", "n4", "n5"]
    c.make_certificates(names)
    t0 = monotonic_us()
    first = c.start("n1", args=["--stdin-commands"])
    for n in names[1:]:
        node = c.add(n, contacts=[first], args=["--stdin-commands"] + (["--set", "protocol.version=1"] if pin and n in ("n4", "n5") else []))
        if n in ("n4", "n5"):
            node.command_orig = node.command
            node.command = (lambda nd: (lambda: [NEW] + nd.command_orig()[1:]))(node)
        node.start()
    nodes = list(c.nodes.values())
    try:
        c.wait_for(lambda: status_lists_all_reachable(nodes, 5, t0), timeout_s=15, what="all 5 reachable everywhere")
        print(f"converged: every node lists 5 members, 4 reachable, {(monotonic_us() - t0) / 1000:.0f} ms after the start")
    except Exception as e:
        c.poll()
        for n in nodes:
            st = n.latest("status")
            print(n.name, "members", st and st["members"], "reachable", st and st["reachable"],
                  "handshake_failures", st and st["stats"]["transport.handshake_failures"],
                  "version_mismatches", st and st["stats"].get("transport.version_mismatches"))
        print("NOT converged:", e)
        sys.exit(1)
    for writer, prefix in (("n1", "old/"), ("n5", "new/")):
        t = monotonic_us()
        c[writer].send(f"kv-burst {prefix} 20 0")
        c.wait_for(lambda: c[writer].latest("kv_burst_done", since_us=t) is not None, timeout_s=10, what="writes")
        t = monotonic_us()
        for n in nodes:
            n.send(f"kv-wait {prefix} 20 10000")
        c.wait_for(lambda: all(n.latest("kv_complete", since_us=t) for n in nodes), timeout_s=15, what=f"{prefix} everywhere")
        print(f"KV writes of {writer} ({prefix}) reached all 5")
    # kill -9 of an old node and of a new node
    for victim in ("n2", "n4"):
        t = monotonic_us()
        c[victim].kill()
        others = [n for n in nodes if n.name != victim]
        c.wait_for(lambda: all(n.find("reachability", since_us=t, node=victim, state="unreachable") for n in others), timeout_s=10, what=f"{victim} unreachable")
        seen_us = max(n.find("reachability", since_us=t, node=victim, state="unreachable")[0]["mono_us"] for n in others)
        print(f"kill -9 {victim}: seen by all 4 within {(seen_us - t) / 1000:.1f} ms")
        c[victim].start()
        t = monotonic_us()
        c.wait_for(lambda: status_lists_all_reachable(nodes, 5, t), timeout_s=15, what="whole again")
    false_positives = [m for m in reachability_marks(nodes, "unreachable") if m[2] not in ("n2", "n4")]
    print("false positives:", false_positives)
    if false_positives:
        sys.exit(1)
finally:
    c.cleanup()
