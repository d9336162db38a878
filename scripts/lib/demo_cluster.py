"""The real-process part of scripts/demo.sh: five lashupd nodes with mutual
TLS on 127.0.0.1 converge, one is killed with SIGKILL and detected, restarted
with its data dir and rejoins with a higher incarnation, then all stop.

usage: demo_cluster.py [--workdir DIR] PATH/TO/lashupd
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, monotonic_us  # noqa: E402

NAMES = ["n1", "n2", "n3", "n4", "n5"]
VICTIM = "n3"


def say(text):
    print(f"\n== {text}", flush=True)


def show(text):
    print(f"   {text}", flush=True)


def ms(delta_us):
    return f"{delta_us / 1000:.1f} ms"


def first_full_status(node, count, since_us):
    """The first status line at or after since_us counting all `count`
    members, all reachable."""
    for line in node.find("status", since_us=since_us):
        if line["members"] == count and line["reachable"] == count - 1:
            return line
    return None


def all_reachable_at(node, others, since_us):
    """When node's reachability events (at or after since_us) first had
    every one of others reachable at once; None if they never did."""
    reachable = set()
    for event in node.find("reachability", since_us=since_us):
        if event["state"] == "reachable":
            reachable.add(event["node"])
        else:
            reachable.discard(event["node"])
        if reachable >= set(others):
            return event["mono_us"]
    return None


def diagnose(cluster):
    """What each node last said, for a demo step that timed out."""
    for node in cluster.nodes.values():
        state = "running" if node.running else f"exited {node.returncode}"
        status = node.latest("status")
        summary = (f"members={status['members']} reachable={status['reachable']} "
                   f"unreachable={status['unreachable']}") if status else "no status line"
        show(f"{node.name} ({state}): {summary}")
        for line in node.stderr().strip().splitlines()[-3:]:
            show(f"   stderr: {line}")


def run(cluster):
    say("5 lashupd nodes on 127.0.0.1 with mutual TLS 1.3; n1 is the contact node of the others")
    cluster.make_certificates(NAMES)
    show(f"CA and certificates: {cluster.tls_dir} (lashupd ca init / ca issue)")
    launched_us = monotonic_us()
    first = cluster.start(NAMES[0])
    for name in NAMES[1:]:
        cluster.start(name, contacts=[first])
    for node in cluster.nodes.values():
        show(f"{node.name}: pid {node.pid}, {node.address}, log {node.log_path}")

    all_nodes = list(cluster.nodes.values())
    cluster.wait_for(lambda: all(first_full_status(n, 5, launched_us) for n in all_nodes),
                     timeout_s=15, what="every node to list 5 members, 4 reachable")
    converged_us = max(all_reachable_at(n, [o.name for o in all_nodes if o is not n], launched_us)
                       for n in all_nodes)
    show(f"converged {ms(converged_us - launched_us)} after launch "
         f"(the reachability event that made the last node reach all 4 others)")
    status_us = max(first_full_status(n, 5, launched_us)["mono_us"] for n in all_nodes)
    show(f"every node's status line lists 5 members, 4 reachable: {ms(status_us - launched_us)} after launch "
         f"(status lines every {cluster.status_interval_ms} ms)")

    victim = cluster[VICTIM]
    survivors = [n for n in all_nodes if n is not victim]
    old_incarnation = victim.latest("started")["incarnation"]
    say(f"kill -9 {VICTIM}: time until each survivor marks it unreachable")
    killed_us = monotonic_us()
    victim.kill()
    cluster.wait_for(
        lambda: all(n.find("reachability", since_us=killed_us, node=VICTIM, state="unreachable") for n in survivors),
        timeout_s=10, what=f"every survivor to mark {VICTIM} unreachable")
    for node in survivors:
        event = node.find("reachability", since_us=killed_us, node=VICTIM, state="unreachable")[0]
        show(f"{node.name}: {ms(event['mono_us'] - killed_us)}")

    say(f"restart {VICTIM} with the same data dir: it rejoins with a higher incarnation")
    restarted_us = monotonic_us()
    victim.start()
    started = cluster.wait_for(lambda: victim.latest("started", since_us=restarted_us),
                               timeout_s=10, what=f"{VICTIM} to start")
    new_incarnation = started["incarnation"]
    show(f"{VICTIM} incarnation {old_incarnation} -> {new_incarnation}")

    def rejoined(node):
        if node is victim:
            return first_full_status(node, 5, restarted_us)
        return node.latest("reachability", since_us=restarted_us, node=VICTIM, state="reachable")

    cluster.wait_for(
        lambda: all(rejoined(n) for n in all_nodes)
        and all(n.latest("status", since_us=restarted_us) is not None
                and VICTIM not in n.latest("status", since_us=restarted_us)["unreachable"] for n in survivors),
        timeout_s=15, what=f"every node to reach {VICTIM} again")
    for node in survivors:
        updated = node.latest("member_updated", since_us=restarted_us, node=VICTIM)
        seen = f", knows incarnation {updated['incarnation']}" if updated else ""
        show(f"{node.name}: {VICTIM} reachable after {ms(rejoined(node)['mono_us'] - restarted_us)}{seen}")
    show(f"{VICTIM}: lists 5 members, 4 reachable after {ms(rejoined(victim)['mono_us'] - restarted_us)}")

    say("SIGTERM to every node")
    codes = cluster.stop_all()
    for node in all_nodes:
        stopped = node.latest("stopped", since_us=restarted_us)
        show(f"{node.name}: exit {codes[node.name]}, {'printed' if stopped else 'did not print'} \"stopped\"")
    return 0 if all(code == 0 for code in codes.values()) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", help="an existing directory for logs, data dirs and certificates "
                        "(default: a temporary one, removed at the end)")
    parser.add_argument("lashupd", help="path of the lashupd binary")
    options = parser.parse_args()
    cluster = Cluster(options.lashupd, workdir=options.workdir, status_interval_ms=200)
    try:
        return run(cluster)
    except TimeoutError as error:
        show(f"FAILED: {error}")
        diagnose(cluster)
        return 1
    except KeyboardInterrupt:
        show("interrupted")
        return 130
    finally:
        cluster.cleanup()


if __name__ == "__main__":
    sys.exit(main())
