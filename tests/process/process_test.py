#!/usr/bin/env python3
"""Five real lashupd processes on 127.0.0.1 with mutual TLS (label process).

usage: process_test.py PATH/TO/lashupd CASE      (CASE: one of CASES, or "all")

Each case starts its own five nodes (n1 is the contact of the others), waits
until every node lists 5 members, 4 reachable, applies one fault and checks
what every node logged. The bounds are generous on purpose: they tell a
broken detector from a working one on a loaded 2-core machine; the tight
figures are measured by tests/bench/real.

Every case also audits false positives: from convergence to the end, no node
may log any node but the victim as unreachable.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lashupd_harness import (CaseFailed, check, say, CheckedCluster, describe, exit_cleanly_on_signals, first_full_status,  # noqa: E402
                             marks_of, monotonic_us, ms, reachability_marks,
                             status_lists_all_reachable)

NAMES = ["n1", "n2", "n3", "n4", "n5"]
VICTIM = "n3"
CONVERGE_S = 15
KILL_DETECT_S = 5  # the detector's worst case for a closed connection is far below
STOP_DETECT_S = 10  # probe timeout (<= 2 s) + 2 x 400 ms indirect probes + flooding, with room
RECOVER_S = 10


def start_converged(cluster, args_by_name=None):
    """Starts the five nodes; returns the time every one listed 5 members,
    4 reachable."""
    args_by_name = args_by_name or {}
    cluster.make_certificates(NAMES)
    launched_us = monotonic_us()
    first = cluster.start(NAMES[0], args=args_by_name.get(NAMES[0], ()))
    for name in NAMES[1:]:
        cluster.start(name, contacts=[first], args=args_by_name.get(name, ()))
    nodes = list(cluster.nodes.values())
    cluster.wait_for(lambda: all(first_full_status(n, len(NAMES), launched_us) for n in nodes),
                     timeout_s=CONVERGE_S, what="every node to list 5 members, 4 reachable")
    converged_us = max(first_full_status(n, len(NAMES), launched_us)["mono_us"] for n in nodes)
    say(f"  converged {ms(converged_us - launched_us):.0f} ms after the first launch")
    startup_marks = reachability_marks(nodes, "unreachable", since_us=launched_us, until_us=converged_us)
    if startup_marks:
        say(f"  note: unreachable events while joining: {startup_marks}")
    return converged_us


def audit_false_positives(cluster, since_us, victim=None):
    """No node but the victim logged unreachable by anyone since since_us.
    The victim's own view of the others is judged by each case."""
    marks = [m for m in reachability_marks(cluster.nodes.values(), "unreachable", since_us=since_us)
             if m[2] != victim and m[1] != victim]
    check(not marks, f"false positives (mono_us, observer, node marked unreachable): {marks}")


def report_latencies(what, marks, since_us):
    figures = ", ".join(f"{name} {ms(t - since_us):.0f}" for name, t in sorted(marks.items()))
    say(f"  {what} (ms after the signal): {figures}")


# ---- cases ----

def case_converges(cluster):
    """Every node lists every member reachable; SIGTERM stops each with exit
    0 and a "stopped" line."""
    converged_us = start_converged(cluster)
    nodes = list(cluster.nodes.values())
    for node in nodes:
        reachable = {e["node"] for e in node.find("reachability", state="reachable")}
        check(reachable == set(NAMES) - {node.name},
              f"{node.name} logged reachable events for {sorted(reachable)}, not every other node")
    time.sleep(1.0)  # a quiet second: nothing may flap once converged
    cluster.poll()
    check(status_lists_all_reachable(nodes, len(NAMES), converged_us), "a node's latest status is not full")
    audit_false_positives(cluster, converged_us)
    codes = cluster.stop_all()
    check(all(code == 0 for code in codes.values()), f"exit codes after SIGTERM: {codes}")
    check(all(n.latest("stopped") for n in nodes), "a node did not print \"stopped\"")


def case_kill_detected(cluster):
    """kill -9 of a node: every survivor logs it unreachable within
    KILL_DETECT_S (the kernel closes its connections)."""
    converged_us = start_converged(cluster)
    victim = cluster[VICTIM]
    survivors = [n for n in cluster.nodes.values() if n is not victim]
    killed_us = monotonic_us()
    victim.kill()
    cluster.wait_for(lambda: len(marks_of(survivors, VICTIM, "unreachable", killed_us)) == len(survivors),
                     timeout_s=KILL_DETECT_S, what=f"every survivor to log {VICTIM} unreachable")
    report_latencies(f"{VICTIM} unreachable", marks_of(survivors, VICTIM, "unreachable", killed_us), killed_us)
    time.sleep(1.0)
    cluster.poll()
    audit_false_positives(cluster, converged_us, victim=VICTIM)


def case_stop_detected_without_false_positives(cluster):
    """SIGSTOP of a node (its connections stay open, it answers nothing):
    every other node logs it unreachable within STOP_DETECT_S, nobody else
    is marked unreachable; SIGCONT: reachable again everywhere."""
    converged_us = start_converged(cluster)
    victim = cluster[VICTIM]
    others = [n for n in cluster.nodes.values() if n is not victim]
    stopped_us = monotonic_us()
    victim.pause()
    try:
        cluster.wait_for(lambda: len(marks_of(others, VICTIM, "unreachable", stopped_us)) == len(others),
                         timeout_s=STOP_DETECT_S, what=f"every other node to log the stopped {VICTIM} unreachable")
        report_latencies(f"{VICTIM} unreachable", marks_of(others, VICTIM, "unreachable", stopped_us), stopped_us)
        time.sleep(2.0)  # stopped for a while: the others must stay stable
    finally:
        continued_us = monotonic_us()
        victim.resume()
    cluster.wait_for(lambda: len(marks_of(others, VICTIM, "reachable", continued_us)) == len(others)
                     and status_lists_all_reachable(cluster.nodes.values(), len(NAMES), continued_us),
                     timeout_s=RECOVER_S, what=f"every node to reach {VICTIM} again after SIGCONT")
    report_latencies(f"{VICTIM} reachable", marks_of(others, VICTIM, "reachable", continued_us), continued_us)
    time.sleep(1.0)
    cluster.poll()
    audit_false_positives(cluster, converged_us, victim=VICTIM)
    # The stopped node's own timers fire late when it continues; it must not
    # conclude that the others failed because it was the one asleep.
    own = [m for m in reachability_marks([victim], "unreachable", since_us=stopped_us)]
    check(not own, f"{VICTIM} logged others unreachable after SIGCONT: {own}")


def case_restart_rejoins_with_higher_incarnation(cluster):
    """A killed node restarted with its data dir rejoins with a higher
    incarnation and every node lists it reachable again."""
    converged_us = start_converged(cluster)
    victim = cluster[VICTIM]
    survivors = [n for n in cluster.nodes.values() if n is not victim]
    old_incarnation = victim.latest("started")["incarnation"]
    killed_us = monotonic_us()
    victim.kill()
    cluster.wait_for(lambda: len(marks_of(survivors, VICTIM, "unreachable", killed_us)) == len(survivors),
                     timeout_s=KILL_DETECT_S, what=f"every survivor to log {VICTIM} unreachable")
    restarted_us = monotonic_us()
    victim.start()
    started = cluster.wait_for(lambda: victim.latest("started", since_us=restarted_us),
                               timeout_s=10, what=f"{VICTIM} to print \"started\" again")
    check(started["incarnation"] > old_incarnation,
          f"incarnation after restart {started['incarnation']} is not above {old_incarnation}")
    say(f"  incarnation {old_incarnation} -> {started['incarnation']}")
    cluster.wait_for(lambda: len(marks_of(survivors, VICTIM, "reachable", restarted_us)) == len(survivors)
                     and status_lists_all_reachable(cluster.nodes.values(), len(NAMES), restarted_us),
                     timeout_s=RECOVER_S, what=f"every node to list the restarted {VICTIM} reachable")
    report_latencies(f"{VICTIM} reachable", marks_of(survivors, VICTIM, "reachable", restarted_us), restarted_us)

    # Reachability can come back before the new record arrives (the others'
    # records list the victim as a neighbour again), so the record is waited
    # for on its own.
    def knows_new_incarnation(node):
        return node.find("member_updated", since_us=restarted_us, node=VICTIM, incarnation=started["incarnation"])
    cluster.wait_for(lambda: all(knows_new_incarnation(n) for n in survivors), timeout_s=RECOVER_S,
                     what=f"every survivor to log {VICTIM}'s new incarnation {started['incarnation']}")
    report_latencies(f"{VICTIM} incarnation {started['incarnation']} known",
                     {n.name: knows_new_incarnation(n)[0]["mono_us"] for n in survivors}, restarted_us)
    audit_false_positives(cluster, converged_us, victim=VICTIM)


def case_leave_seen_as_left(cluster):
    """SIGTERM to a node run with --leave-on-exit: it exits 0 and every
    other node logs it "left", never "unreachable"."""
    leaver_name = "n5"
    converged_us = start_converged(cluster, {leaver_name: ["--leave-on-exit"]})
    leaver = cluster[leaver_name]
    others = [n for n in cluster.nodes.values() if n is not leaver]
    stopping_us = monotonic_us()
    code = leaver.stop()
    check(code == 0, f"{leaver_name} exited {code} after SIGTERM")
    check(leaver.latest("stopped", since_us=stopping_us), f"{leaver_name} did not print \"stopped\"")
    cluster.wait_for(lambda: len(marks_of(others, leaver_name, "left", stopping_us)) == len(others),
                     timeout_s=5, what=f"every other node to log {leaver_name} left")
    report_latencies(f"{leaver_name} left", marks_of(others, leaver_name, "left", stopping_us), stopping_us)
    time.sleep(1.0)
    cluster.poll()
    unreachable = marks_of(others, leaver_name, "unreachable", stopping_us)
    check(not unreachable, f"{leaver_name} logged unreachable (not only left) by {unreachable}")
    audit_false_positives(cluster, converged_us, victim=leaver_name)


def case_rolling_upgrade(cluster):
    """A rolling upgrade: the five nodes start pinned to protocol version 1
    (protocol.version = 1, as a build that speaks only version 1); one at a
    time each leaves, stops and starts again unpinned (version 2). After
    each restart every node lists every member reachable and the restarted
    node's KV writes reach all. Half-way, a SIGSTOP of a version-1 node is
    seen by all. At the end every node takes heartbeats (version 2); nobody
    was ever marked unreachable but the stopped node."""
    pinned = ["--set", "protocol.version=1", "--leave-on-exit", "--stdin-commands"]
    converged_us = start_converged(cluster, {name: pinned for name in NAMES})
    nodes = list(cluster.nodes.values())

    def heartbeats(node, since_us):
        cluster.poll()
        line = node.latest("status", since_us=since_us)
        return None if line is None else line["stats"]["detector.heartbeats_received"]

    def kv_reaches_all(writer, prefix):
        written_us = monotonic_us()
        cluster[writer].send(f"kv-burst {prefix} 20 0")
        cluster.wait_for(lambda: cluster[writer].latest("kv_burst_done", since_us=written_us) is not None,
                         timeout_s=10, what=f"{writer}'s writes under {prefix}")
        done = cluster[writer].latest("kv_burst_done", since_us=written_us)
        check(done["written"] == 20, f"{writer} acknowledged {done['written']} of 20 writes")
        asked_us = monotonic_us()
        for node in nodes:
            node.send(f"kv-wait {prefix} 20 10000")
        cluster.wait_for(lambda: all(n.latest("kv_complete", since_us=asked_us) or
                                     n.latest("kv_wait_timeout", since_us=asked_us) for n in nodes),
                         timeout_s=15, what=f"every node to answer kv-wait {prefix}")
        late = [n.name for n in nodes if n.latest("kv_complete", since_us=asked_us) is None]
        check(not late, f"{writer}'s writes under {prefix} did not reach {late}")

    kv_reaches_all("n1", "v1/")
    started_us = monotonic_us()
    time.sleep(1.0)
    counts = {n.name: heartbeats(n, started_us) for n in nodes}
    check(all(c == 0 for c in counts.values()), f"heartbeats between nodes pinned to version 1: {counts}")

    # (node, from_us, until_us): a node that restarts is briefly unknown or
    # unreachable to some while it joins again (as in restart_rejoins...),
    # and the stopped node is unreachable to all while stopped.
    excused = []
    for index, name in enumerate(reversed(NAMES)):
        node = cluster[name]
        stopping_us = monotonic_us()
        check(node.stop() == 0, f"{name} did not exit 0 on SIGTERM")
        cluster.wait_for(lambda: len(marks_of([n for n in nodes if n is not node], name, "left", stopping_us)) == 4,
                         timeout_s=5, what=f"every other node to log {name} left")
        node.args = ["--leave-on-exit", "--stdin-commands"]  # the new build: no pin
        restarted_us = monotonic_us()
        node.start()
        cluster.wait_for(lambda: status_lists_all_reachable(nodes, len(NAMES), restarted_us),
                         timeout_s=CONVERGE_S, what=f"every node to list all reachable after upgrading {name}")
        excused.append((name, stopping_us, monotonic_us()))
        say(f"  {name} upgraded: whole again {ms(monotonic_us() - restarted_us):.0f} ms after its restart")
        kv_reaches_all(name, f"up{index}/")
        if index == 1:
            # n5 and n4 speak version 2 to each other; n1-n3 are still pinned.
            victim = cluster["n2"]
            others = [n for n in nodes if n is not victim]
            paused_us = monotonic_us()
            victim.pause()
            try:
                cluster.wait_for(lambda: len(marks_of(others, "n2", "unreachable", paused_us)) == len(others),
                                 timeout_s=STOP_DETECT_S, what="every other node to log the stopped n2 unreachable")
                report_latencies("n2 (version 1) unreachable", marks_of(others, "n2", "unreachable", paused_us),
                                 paused_us)
                time.sleep(2.0)  # stopped for a while: the others must stay stable
            finally:
                continued_us = monotonic_us()
                victim.resume()
            cluster.wait_for(lambda: status_lists_all_reachable(nodes, len(NAMES), continued_us),
                             timeout_s=RECOVER_S, what="every node to reach n2 again after SIGCONT")
            excused.append(("n2", paused_us, monotonic_us()))
            # Its own timers fired late when it went on: it must not take the
            # others for failed because it was the one asleep.
            own = reachability_marks([victim], "unreachable", since_us=paused_us)
            check(not own, f"n2 logged others unreachable after SIGCONT: {own}")
    # All on version 2: every node takes heartbeats from its neighbours. The
    # counters in the status lines are those of the node's last published
    # snapshot (about once a second), so each must grow within a few.
    upgraded_us = monotonic_us()
    time.sleep(1.0)
    first = {n.name: heartbeats(n, upgraded_us) or 0 for n in nodes}

    def quiet():
        return [n.name for n in nodes if (heartbeats(n, upgraded_us) or 0) <= first[n.name]]
    try:
        cluster.wait_for(lambda: not quiet(), timeout_s=5, what="heartbeats on every node")
    except TimeoutError:
        check(False, f"no heartbeats on {quiet()} after the upgrade")
    marks = [m for m in reachability_marks(nodes, "unreachable", since_us=converged_us)
             if not any(m[2] == who and since <= m[0] <= until for who, since, until in excused)]
    check(not marks, f"unreachable marks during the upgrade (mono_us, observer, node): {marks}")


CASES = {
    "converges": case_converges,
    "kill_detected": case_kill_detected,
    "stop_detected_without_false_positives": case_stop_detected_without_false_positives,
    "restart_rejoins_with_higher_incarnation": case_restart_rejoins_with_higher_incarnation,
    "leave_seen_as_left": case_leave_seen_as_left,
    "rolling_upgrade": case_rolling_upgrade,
}


def run_case(binary, name):
    say(f"{name}: {' '.join(CASES[name].__doc__.split())}")
    started = time.monotonic()
    cluster = CheckedCluster(binary, status_interval_ms=200)
    try:
        CASES[name](cluster)
        say(f"{name}: ok ({time.monotonic() - started:.1f} s)")
        return True
    except (CaseFailed, TimeoutError, RuntimeError) as error:
        cluster.poll()
        say(f"{name}: FAILED: {error}\n{describe(cluster)}")
        return False
    finally:
        cluster.cleanup()


def main():
    if len(sys.argv) != 3 or (sys.argv[2] not in CASES and sys.argv[2] != "all"):
        sys.exit(f"usage: {sys.argv[0]} PATH/TO/lashupd {{{'|'.join(CASES)}|all}}")
    exit_cleanly_on_signals()
    binary, which = sys.argv[1], sys.argv[2]
    names = list(CASES) if which == "all" else [which]
    results = [run_case(binary, name) for name in names]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
