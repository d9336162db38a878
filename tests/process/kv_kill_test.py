#!/usr/bin/env python3
"""kill -9 during a stream of KV updates (label process).

usage: kv_kill_test.py PATH/TO/lashupd [--durability sync|group] [--writes 20000] [--keys 20]

Three lashupd processes on 127.0.0.1 with mutual TLS. One of them, n2, is
sent a stream of `kv-add kI n 1` commands (examples/lashupd/README.md); each
prints `kv_written` with the key's value once lashup_kv_update returned,
i.e. once the update is acknowledged. 50 ms after the first acknowledgement
n2 is killed with SIGKILL, and started again on the same data dir. Then:
  - every acknowledged update is there: for every key, n2's counter is at
    least the highest value a `kv_written` line reported before the kill
    (n2 is the only writer, so that value counts n2's acknowledged adds);
  - the replicas converge: n1, n2 and n3 read the same value for every key.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lashupd_harness import (CaseFailed, CheckedCluster, check, exit_cleanly_on_signals, monotonic_us,  # noqa: E402
                             reachable_views, say)

CONVERGE_S = 30
WRITE_S = 60
KILL_AFTER_S = 0.05
AGREE_S = 60


def send_quietly(node, commands):
    """Writes the commands in chunks; stops when the node dies under it."""
    try:
        for first in range(0, len(commands), 500):
            node.send(*commands[first:first + 500])
    except (BrokenPipeError, OSError):
        pass


def counter_of(line):
    """The counter `n` of a kv_written / kv_value line (0 when absent)."""
    value = line.get("value") or {}
    return value.get("n", {}).get("counter", 0)


def read_all(cluster, names, keys, since_us):
    """Asks every node for every key; returns {name: {key: counter}} once
    every answer is in."""
    for name in names:
        cluster[name].send(*[f"kv-get {k}" for k in keys])

    def answers():
        out = {}
        for name in names:
            got = {}
            for e in cluster[name].find("kv_value", since_us=since_us):
                got[e["key"]] = counter_of(e)
            failed = [e for e in cluster[name].find("command_failed", since_us=since_us)]
            missing = [k for k in keys if k not in got]
            if missing and failed:
                # An absent key answers with an error line: count it as 0.
                if len(failed) + len(got) < len(keys):
                    return None
                for k in missing:
                    got[k] = 0
            elif missing:
                return None
            out[name] = got
        return out
    return cluster.wait_for(answers, timeout_s=20, what="every node to answer kv-get for every key")


def run(binary, durability, writes, key_count):
    names = ["n1", "n2", "n3"]
    keys = [f"k{i}" for i in range(key_count)]
    say(f"kv kill -9: durability={durability}, {writes} adds to {key_count} keys on n2, killed mid-stream")
    cluster = CheckedCluster(binary, status_interval_ms=0,
                             args=["--stdin-commands", "--set", f"durability={durability}"])
    try:
        cluster.make_certificates(names)
        n1 = cluster.add("n1")
        for name in names[1:]:
            cluster.add(name, contacts=[n1.contact])
        for node in cluster.nodes.values():
            node.start()
        cluster.wait_for(lambda: reachable_views(cluster, names), timeout_s=CONVERGE_S,
                         what="3 nodes reachable from each other")
        n2 = cluster["n2"]
        started_us = monotonic_us()
        # The stream is written by a thread (it is larger than a pipe holds),
        # and n2 is killed shortly after it began: many adds are then in
        # flight (in the pipe, being applied, being persisted).
        commands = [f"kv-add {keys[i % key_count]} n 1" for i in range(writes)]
        sender = threading.Thread(target=send_quietly, args=(n2, commands))
        sender.start()
        cluster.wait_for(lambda: n2.find("kv_written", since_us=started_us), timeout_s=WRITE_S,
                         what="a first acknowledged add on n2")
        time.sleep(KILL_AFTER_S)
        n2.kill()
        sender.join()
        cluster.poll()
        acked = {}
        for e in n2.find("kv_written", since_us=started_us):
            acked[e["key"]] = max(acked.get(e["key"], 0), counter_of(e))
        acknowledged = len(n2.find("kv_written", since_us=started_us))
        check(acknowledged < writes, "n2 was killed after the stream ended; nothing was in flight")
        say(f"  n2 killed after {acknowledged} acknowledged adds")

        restarted_us = monotonic_us()
        n2.start()
        cluster.wait_for(lambda: reachable_views(cluster, names) and
                         all(e.get("state") == "reachable"
                             for e in cluster["n1"].find("reachability", since_us=restarted_us, node="n2")[-1:]),
                         timeout_s=CONVERGE_S, what="n2 back in the cluster")

        values = read_all(cluster, ["n2"], keys, monotonic_us())
        lost = {k: (values["n2"][k], v) for k, v in acked.items() if values["n2"][k] < v}
        check(not lost, f"acknowledged adds lost on n2 (key: (read, acknowledged)): {lost}")
        say(f"  n2 kept every acknowledged add ({sum(values['n2'].values())} in all, {sum(acked.values())} acknowledged)")

        deadline = time.monotonic() + AGREE_S
        while True:
            values = read_all(cluster, names, keys, monotonic_us())
            if values["n1"] == values["n2"] == values["n3"]:
                break
            if time.monotonic() > deadline:
                asked_us = monotonic_us()
                for name in names:
                    cluster[name].send("status")
                time.sleep(0.5)
                cluster.poll()
                stats = {}
                for name in names:
                    line = cluster[name].latest("status", since_us=asked_us) or {}
                    stats[name] = {k: v for k, v in (line.get("stats") or {}).items()
                                   if k.startswith("kv.") or k in ("neighbors", "members.reachable")}
                raise CaseFailed(f"replicas differ after {AGREE_S} s: {json.dumps(values)}; stats: {json.dumps(stats)}")
            time.sleep(1)
        say(f"  the three replicas agree on all {key_count} keys")
        return True
    finally:
        cluster.cleanup()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durability", choices=["sync", "group"], default="group")
    parser.add_argument("--writes", type=int, default=20000)
    parser.add_argument("--keys", type=int, default=20)
    parser.add_argument("lashupd")
    options = parser.parse_args()
    exit_cleanly_on_signals()
    started = time.monotonic()
    try:
        run(options.lashupd, options.durability, options.writes, options.keys)
    except (CaseFailed, TimeoutError, RuntimeError) as failure:
        print(f"kv kill ({options.durability}): FAILED: {failure}", flush=True)
        return 1
    print(f"kv kill ({options.durability}): ok ({time.monotonic() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
