#!/usr/bin/env python3
"""Eight lashupd hosts in network namespaces under nftables faults (label netns).

usage: netns_test.py PATH/TO/lashupd CASE      (CASE: one of CASES, or "all")

The hosts m1, m2, m3, a1..a5 (the original's asymmetric-partition setup)
each run one lashupd bound to its own address on a private bridged /24
(tests/netns/netns.py). m1 is the contact of the others.

- asymmetric_partition: all traffic between {a1,a2} and {a3,a4,a5} is
  dropped both ways while both sides still reach m1..m3. Every node must
  show link reports covering each of the 6 cut pairs (in at least one
  direction), no node may be marked unreachable by anyone, and after the
  rules are deleted the link reports disappear and everyone is reachable.
- one_way_drop: only packets a1 -> a3 are dropped: a link report for the
  pair, nobody unreachable; healed the same way.

Exit 77 (ctest: skipped) when not root. As root, a missing `ip` or `nft` is
a failure, not a skip: scripts/install-deps.sh installs both.
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "process"))
from lashupd_harness import (CaseFailed, check, say, CheckedCluster, Node, describe, exit_cleanly_on_signals,  # noqa: E402
                             first_full_status, monotonic_us, ms, reachability_marks,
                             status_lists_all_reachable)
import netns  # noqa: E402

HOSTS = ["m1", "m2", "m3", "a1", "a2", "a3", "a4", "a5"]
PORT = 7450  # the same in every namespace: each host has its own address
CONVERGE_S = 20
LINK_REPORTS_S = 30  # measured 0.6-2.4 s: pairs never neighbours are found by NEIGHBOR requests re-checked every 2 s
HOLD_S = 5  # the partition is kept this long after the reports appear, to watch for flapping
HEAL_S = 30  # measured 0.9-6.9 s (an attempt whose SYNs were dropped waits for its retransmission or timeout)
SKIP = 77


class NetnsNode(Node):
    """A lashupd node run inside its host's namespace, on the host's address."""

    def __init__(self, cluster, name, port, contacts, args):
        super().__init__(cluster, name, port, contacts, args)
        self.address = f"{cluster.network.address(name)}:{port}"

    def command(self):
        return self.cluster.network.exec_argv(self.name) + super().command()


class NetnsCluster(CheckedCluster):
    def __init__(self, binary, network, **kwargs):
        super().__init__(binary, **kwargs)
        self.network = network

    def add(self, name, contacts=(), port=None, args=()):
        port = PORT if port is None else port
        if name in self.nodes:
            raise ValueError(f"node {name} exists")
        contacts = [c.contact if isinstance(c, Node) else c for c in contacts]
        node = NetnsNode(self, name, port, contacts, args)
        self.nodes[name] = node
        return node


def pair(a, b):
    return frozenset((a, b))


def reported_pairs(status):
    """The link reports of a status line as unordered pairs."""
    return {pair(reporter, target) for reporter, target in status.get("link_reports", [])}


def covers(status, cut):
    return status is not None and cut <= reported_pairs(status)


def no_link_reports(status):
    return status is not None and not status.get("link_reports")


def link_report_times(node, cut, since_us):
    """mono_us of the link_report event after which `node` knew a report for
    every pair of `cut` (replaying its present/absent events), or None."""
    present = set()
    for e in node.find("link_report", since_us=since_us):
        key = (e["reporter"], e["target"])
        if e["present"]:
            present.add(key)
        else:
            present.discard(key)
        if cut <= {pair(*k) for k in present}:
            return e["mono_us"]
    return None


def start_converged(cluster):
    names = HOSTS
    cluster.make_certificates(names)
    launched_us = monotonic_us()
    contact = cluster.start(names[0], contacts=[f"{names[1]}@{cluster.network.address(names[1])}:{PORT}"])
    for name in names[1:]:
        cluster.start(name, contacts=[contact])
    nodes = list(cluster.nodes.values())
    cluster.wait_for(lambda: all(first_full_status(n, len(names), launched_us) for n in nodes),
                     timeout_s=CONVERGE_S, what=f"every node to list {len(names)} members, all reachable")
    converged_us = max(first_full_status(n, len(names), launched_us)["mono_us"] for n in nodes)
    say(f"  converged {ms(converged_us - launched_us):.0f} ms after the first launch")
    return converged_us


def partition_and_heal(cluster, cut, apply_fault):
    """Applies the fault, checks link reports for every pair of `cut` on every
    node and no unreachable mark, heals, checks the reports disappear."""
    net = cluster.network
    converged_us = start_converged(cluster)
    nodes = list(cluster.nodes.values())
    check(len(nodes) == len(HOSTS), f"{len(nodes)} nodes, not {len(HOSTS)}")

    fault_us = monotonic_us()
    apply_fault()
    cluster.wait_for(lambda: all(covers(n.latest("status", since_us=fault_us), cut) for n in nodes),
                     timeout_s=LINK_REPORTS_S,
                     what=f"every node's status to show link reports for {sorted(map(sorted, cut))}")
    times = {n.name: link_report_times(n, cut, fault_us) for n in nodes}
    say("  every cut pair reported, ms after the fault (from link_report events): "
        + ", ".join(f"{k} {ms(v - fault_us):.0f}" if v else f"{k} ?" for k, v in times.items()))
    time.sleep(HOLD_S)
    cluster.poll()
    for node in nodes:
        status = node.latest("status")
        check(covers(status, cut), f"{node.name} lost link reports while the fault holds: {status}")
        extra = reported_pairs(status) - cut
        check(not extra, f"{node.name} reports links that are not cut: {sorted(map(sorted, extra))}")
        check(status["unreachable"] == [] and status["reachable"] == len(nodes) - 1,
              f"{node.name} status during the fault: {status}")
    marks = reachability_marks(nodes, "unreachable", since_us=converged_us)
    check(not marks, f"nodes marked unreachable during the fault (mono_us, observer, node): {marks}")
    say(f"  held {HOLD_S} s: reports stable, nobody unreachable")

    heal_us = monotonic_us()
    net.heal()
    cluster.wait_for(lambda: all(no_link_reports(n.latest("status", since_us=heal_us)) for n in nodes)
                     and status_lists_all_reachable(nodes, len(nodes), heal_us),
                     timeout_s=HEAL_S, what="every node's link reports to disappear after the heal")
    cleared = {}
    for node in nodes:
        withdrawn = [e["mono_us"] for e in node.find("link_report", since_us=heal_us, present=False)]
        cleared[node.name] = max(withdrawn) if withdrawn else None
    say("  link reports gone, ms after the heal (last withdrawal event): "
        + ", ".join(f"{k} {ms(v - heal_us):.0f}" if v else f"{k} -" for k, v in cleared.items()))
    marks = reachability_marks(nodes, "unreachable", since_us=converged_us)
    check(not marks, f"nodes marked unreachable (mono_us, observer, node): {marks}")


def case_asymmetric_partition(cluster):
    """{a1,a2} and {a3,a4,a5} cannot talk, both ways; m1..m3 reach everyone."""
    left, right = ["a1", "a2"], ["a3", "a4", "a5"]
    cut = {pair(a, b) for a in left for b in right}
    partition_and_heal(cluster, cut, lambda: cluster.network.drop_between(left, right))


def case_one_way_drop(cluster):
    """Packets from a1 to a3 are lost; a3 -> a1 and everything else flow."""
    partition_and_heal(cluster, {pair("a1", "a3")}, lambda: cluster.network.drop_one_way("a1", "a3"))


CASES = {
    "asymmetric_partition": case_asymmetric_partition,
    "one_way_drop": case_one_way_drop,
}


def run_case(binary, name):
    say(f"{name}: {CASES[name].__doc__}")
    started = time.monotonic()
    net = netns.Network(HOSTS)
    cluster = None
    try:
        net.setup()
        cluster = NetnsCluster(binary, net, status_interval_ms=200)
        CASES[name](cluster)
        say(f"{name}: ok ({time.monotonic() - started:.1f} s)")
        return True
    except (CaseFailed, TimeoutError, RuntimeError) as error:
        if cluster is not None:
            cluster.poll()
            say(f"{name}: FAILED: {error}\n{describe(cluster)}\nnftables rules: {net.rules()}")
        else:
            say(f"{name}: FAILED: {error}")
        return False
    finally:
        if cluster is not None:
            cluster.cleanup()
        net.teardown()


def main():
    if len(sys.argv) != 3 or (sys.argv[2] not in CASES and sys.argv[2] != "all"):
        sys.exit(f"usage: {sys.argv[0]} PATH/TO/lashupd {{{'|'.join(CASES)}|all}}")
    missing = netns.missing_requirements()
    if missing == "not root":
        print("netns: skipped: network namespaces and nftables need root", flush=True)
        return SKIP
    if missing:
        print(f"netns: FAILED: {missing}", flush=True)
        return 1
    exit_cleanly_on_signals()
    binary, which = os.path.abspath(sys.argv[1]), sys.argv[2]
    names = list(CASES) if which == "all" else [which]
    results = [run_case(binary, name) for name in names]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
