"""What the process, netns and real-benchmark runs share on top of
scripts/lib/cluster.py: reading reachability out of the JSON lines, the
false-positive audit, a clean exit on SIGTERM and a failure report.

cluster.py starts lashupd processes and reads their lines; this module only
interprets the lines (examples/lashupd/README.md):

    {"mono_us":N,"event":"reachability","node":"n2","state":"reachable"|"unreachable"|"left"}
    {"mono_us":N,"event":"status","node":"n1","members":5,"reachable":4,"unreachable":[],...}

Every time is CLOCK_MONOTONIC in microseconds (`monotonic_us()`), the same
clock in every process and network namespace of the host.

Standard library only.
"""

import os
import signal
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "scripts", "lib"))

from cluster import Cluster, Node, free_port, monotonic_us  # noqa: E402,F401

__all__ = ["Cluster", "Node", "CheckedCluster", "free_port", "monotonic_us", "REPO", "exit_cleanly_on_signals",
           "reachability_marks", "first_mark", "marks_of", "full_status", "first_full_status",
           "status_lists_all_reachable", "describe", "ms", "CaseFailed", "check", "say"]


class CaseFailed(Exception):
    """A test case's expectation did not hold (the runner reports it)."""


def check(condition, message):
    if not condition:
        raise CaseFailed(message)


def say(text):
    print(text, flush=True)


def exit_cleanly_on_signals():
    """SIGTERM and SIGHUP (ctest's timeout, a closed terminal) raise
    SystemExit, so `finally` blocks kill the nodes and remove what the run
    made instead of leaving processes and namespaces behind."""
    def handler(signo, _frame):
        raise SystemExit(128 + signo)
    for signo in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signo, handler)


def ms(delta_us):
    return delta_us / 1000.0


class CheckedCluster(Cluster):
    """A Cluster whose waits fail at once, naming the node and its stderr,
    when a node exits by itself (a crash, a refused configuration) instead
    of waiting out the timeout. Exits the test caused are expected: 0 after
    SIGTERM, -9 after kill()."""

    def wait_for(self, predicate, timeout_s, what="a condition", interval_s=0.02):
        def checked():
            for node in self.nodes.values():
                code = node.returncode
                if code not in (None, 0, -signal.SIGKILL):
                    raise RuntimeError(f"{node.name} exited with status {code} while waiting for {what}; "
                                       f"stderr: {node.stderr().strip()[-500:]}")
            return predicate()
        return super().wait_for(checked, timeout_s, what, interval_s)


# ---- reachability events ----

def reachable_views(cluster, names):
    """True when every node's latest reachability event about each other
    node says reachable."""
    for name in names:
        view = {}
        for e in cluster[name].events:
            if e.get("event") == "reachability":
                view[e["node"]] = e["state"]
        if any(view.get(other) != "reachable" for other in names if other != name):
            return False
    return True


def reachability_marks(nodes, state, since_us=None, until_us=None):
    """Every reachability event of `state` logged by any of `nodes` in
    [since_us, until_us], as (mono_us, observer, node) sorted by time."""
    marks = []
    for observer in nodes:
        for e in observer.find("reachability", since_us=since_us, state=state):
            if until_us is None or e["mono_us"] <= until_us:
                marks.append((e["mono_us"], observer.name, e["node"]))
    return sorted(marks)


def first_mark(observer, target, state, since_us):
    """mono_us of the first reachability event of `state` about `target` that
    `observer` logged at or after since_us, or None."""
    found = observer.find("reachability", since_us=since_us, node=target, state=state)
    return found[0]["mono_us"] if found else None


def marks_of(observers, target, state, since_us):
    """{observer name: first mono_us it logged `target` in `state`} for
    the observers that did."""
    result = {}
    for observer in observers:
        t = first_mark(observer, target, state, since_us)
        if t is not None:
            result[observer.name] = t
    return result


# ---- status lines ----

def full_status(status, count):
    return status is not None and status["members"] == count and status["reachable"] == count - 1


def first_full_status(node, count, since_us):
    """The first status line at or after since_us listing `count` members,
    every other one reachable."""
    for line in node.find("status", since_us=since_us):
        if full_status(line, count):
            return line
    return None


def status_lists_all_reachable(nodes, count, since_us):
    """True when the latest status line (at or after since_us) of every node
    lists `count` members, all reachable."""
    return all(full_status(n.latest("status", since_us=since_us), count) for n in nodes)


# ---- failure report ----

def describe(cluster, since_us=None, tail=12):
    """What each node last said: process state, latest status, the last
    reachability/link/neighbour events and stderr. For failure messages."""
    lines = []
    for node in cluster.nodes.values():
        state = f"running pid {node.pid}" if node.running else f"exited {node.returncode}"
        status = node.latest("status")
        summary = (f"members={status['members']} reachable={status['reachable']} "
                   f"unreachable={status['unreachable']} link_reports={status.get('link_reports')}"
                   if status else "no status line")
        lines.append(f"  {node.name} ({state}): {summary}")
        interesting = [e for e in node.events if e.get("event") not in ("status",)
                       and (since_us is None or e.get("mono_us", 0) >= since_us)]
        for e in interesting[-tail:]:
            lines.append(f"      {e}")
        for text in node.stderr().strip().splitlines()[-3:]:
            lines.append(f"      stderr: {text}")
    return "\n".join(lines)
