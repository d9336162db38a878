"""The operations endpoints against a real 3-node lashupd cluster (TLS on).

    ops_test.py LASHUPD LASHUPCTL lashupctl   every lashupctl command, auth and bad input
    ops_test.py LASHUPD LASHUPCTL metrics     /metrics scraped: every stat present, and moving
                                              when its event happens

n1 and n2 serve the admin API on unix sockets, n3 on a loopback port with a
bearer token; every node serves /metrics. Standard library only.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "process"))

from lashupd_harness import CaseFailed, CheckedCluster, check, describe, exit_cleanly_on_signals, free_port, say  # noqa: E402

LASHUPD = LASHUPCTL = None
TOKEN = "s3cret-token-0123456789abcdef"


def eventually(predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise CaseFailed(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


class Ops:
    """A 3-node cluster with admin and metrics endpoints."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.dir = cluster.dir
        self.sockets = {name: os.path.join(self.dir, f"{name}.sock") for name in ("n1", "n2")}
        self.admin_port = free_port()
        self.token_file = os.path.join(self.dir, "token")
        with open(self.token_file, "w") as f:
            f.write(TOKEN + "\n")
        self.metrics = {name: free_port(exclude={self.admin_port}) for name in ("n1", "n2", "n3")}
        cluster.make_certificates(["n1", "n2", "n3"])

    def start(self):
        c = self.cluster
        n1 = c.start("n1", args=["--subscribe", "shared", "--stdin-commands", "--admin", "unix:" + self.sockets["n1"],
                                 "--metrics", f"127.0.0.1:{self.metrics['n1']}"])
        c.start("n2", contacts=[n1], args=["--admin", "unix:" + self.sockets["n2"],
                                           "--metrics", f"127.0.0.1:{self.metrics['n2']}"])
        c.start("n3", contacts=[n1], args=["--admin", f"127.0.0.1:{self.admin_port}",
                                           "--set", f"admin.token_file={self.token_file}",
                                           "--metrics", f"127.0.0.1:{self.metrics['n3']}"])
        c.wait_for(lambda: c.converged(), timeout_s=15, what="3 reachable nodes")

    def where(self, node):
        if node == "n3":
            return ["--url", f"http://127.0.0.1:{self.admin_port}", "--token-file", self.token_file]
        return ["--socket", self.sockets[node]]

    def ctl(self, node, *args, json_out=False, expect=0, stdin=None, timeout=15):
        argv = [LASHUPCTL] + self.where(node) + (["--json"] if json_out else []) + list(args)
        done = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout)
        out = done.stdout.decode("utf-8", "replace")
        err = done.stderr.decode("utf-8", "replace")
        if expect is not None and done.returncode != expect:
            raise CaseFailed(f"{' '.join(argv[1:])}: exit {done.returncode}, expected {expect}; "
                             f"stdout: {out.strip()[:400]} stderr: {err.strip()[:400]}")
        if json_out and expect == 0:
            return json.loads(out)
        return out if expect == 0 else err

    def stream(self, node, *args):
        argv = [LASHUPCTL] + self.where(node) + ["--json"] + list(args)
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def scrape(self, node):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics[node]}/metrics", timeout=5) as answer:
            return answer.headers.get("Content-Type"), answer.read().decode()


def stream_lines(process, timeout_s=10):
    try:
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise CaseFailed(f"stream did not end: stdout {out.decode()[:400]} stderr {err.decode()[:400]}")
    check(process.returncode == 0, f"stream exit {process.returncode}: {err.decode()[:400]}")
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


def raw_http(path_or_bytes, sock_path, timeout_s=5):
    """Sends raw bytes (or a GET of a path) over the unix socket; returns the
    status code, or None when the node closed without an answer."""
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else (
        f"GET {path_or_bytes} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout_s)
        s.connect(sock_path)
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the node answered (or closed) before reading everything
        answer = b""
        try:
            while b"\r\n" not in answer:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    if not answer.startswith(b"HTTP/1."):
        return None
    return int(answer.split(b" ")[1])


# ---- lashupctl: every command ----

def case_lashupctl(ops):
    c = ops.cluster
    # The unix socket is the owner's only.
    for path in ops.sockets.values():
        mode = os.stat(path).st_mode & 0o777
        check(mode == 0o600, f"{path} has mode {oct(mode)}, expected 0o600")

    status = ops.ctl("n1", "status", json_out=True)
    check(status["node"] == "n1" and status["members"] == 3 and status["reachable"] == 2,
          f"status: {dict((k, v) for k, v in status.items() if k != 'stats')}")
    check("admin.requests" in status["stats"], "status lacks the admin stats")
    text = ops.ctl("n1", "status")
    check("members      3 (others: 2 reachable, 0 unreachable, 0 left)" in text, f"status table: {text[:300]}")

    members = ops.ctl("n2", "members", json_out=True)["members"]
    check(sorted(m["name"] for m in members) == ["n1", "n2", "n3"], f"members: {members}")
    check(all(m["state"] == "reachable" and m["incarnation"] > 0 for m in members), f"members: {members}")
    table = ops.ctl("n2", "members").splitlines()
    check(table[0].split() == ["NAME", "ADDRESS", "STATE", "INCARNATION", "LAST_HEARD_MS", "DISTANCE"],
          f"members header: {table[0]}")
    check(len(table) == 4 and any(line.startswith("n2 *") for line in table), f"members table: {table}")
    check(any(c["n3"].address in line and "reachable" in line for line in table), f"members table: {table}")

    # Trees follow the neighbours members announce, a moment after they
    # became reachable.
    for root in ("n1", "n2"):
        eventually(lambda: len(ops.ctl("n1", "tree", "--root", root, json_out=True)["nodes"]) == 3, 10,
                   f"n1's tree from {root} to span 3 nodes")
    tree = ops.ctl("n1", "tree", json_out=True)
    check(tree["root"] == "n1" and len(tree["nodes"]) == 3, f"tree: {tree}")
    text = ops.ctl("n1", "tree").splitlines()
    check(text[0] == "n1" and sorted(t.strip() for t in text[1:]) == ["n2", "n3"] and
          all(t.startswith("  ") for t in text[1:]), f"tree text: {text}")
    dot = ops.ctl("n1", "tree", "--root", "n2", "--dot")
    check(dot.startswith("digraph") and '"n2" [shape=doublecircle]' in dot and dot.count("->") == 2,
          f"tree --dot: {dot}")
    err = ops.ctl("n1", "tree", "--root", "nobody", expect=1)
    check("404" in err, f"tree of an unknown root: {err}")

    links = ops.ctl("n1", "links", json_out=True)
    check(len(links["neighbors"]) >= 1 and len(links["members"]) == 3, f"links: {links}")
    table = ops.ctl("n1", "links").splitlines()
    check(table[0].split() == ["NAME", "STATE", "NEIGHBORS", "CANNOT_REACH"] and len(table) == 4, f"links: {table}")

    # KV: writes on two nodes, read on the third (TCP + token).
    written = ops.ctl("n1", "kv", "put", "ops/a", "add", "x/hits", "5", json_out=True)
    check(written["value"] == {"x": {"map": {"hits": {"counter": 5}}}}, f"kv put add: {written}")
    ops.ctl("n2", "kv", "put", "ops/a", "set", "color", "deep blue")
    want = {"color": {"register": "deep blue"}, "x": {"map": {"hits": {"counter": 5}}}}
    eventually(lambda: kv_value(ops, "n3", "ops/a") == want, 10, "n3 to read both writes")
    text = ops.ctl("n3", "kv", "get", "ops/a")
    check("x/hits" in text and "counter" in text and '"deep blue"' in text, f"kv get table: {text}")
    ops.ctl("n1", "kv", "put", "ops/b", "add", "n", "1")
    eventually(lambda: ops.ctl("n3", "kv", "keys", "ops/").split() == ["ops/a", "ops/b"], 10, "kv keys on n3")
    check(ops.ctl("n3", "kv", "keys", "ops/*", "--glob", json_out=True)["keys"] == ["ops/a", "ops/b"], "kv keys --glob")
    err = ops.ctl("n1", "kv", "put", "ops/a", "add", "x/hits", "many", expect=1)
    check("400" in err, f"kv put with a bad amount: {err}")
    err = ops.ctl("n1", "kv", "put", "nodes/n2/x", "add", "c", "1", expect=1)
    check("403" in err, f"kv put into another node's namespace: {err}")

    # kv watch on n3: the dump, then a change made on n1.
    watch = ops.stream("n3", "kv", "watch", "ops/b", "--count", "2")
    eventually(lambda: ops.ctl("n3", "status", json_out=True)["stats"]["admin.streams"] >= 1, 5, "the watch stream")
    ops.ctl("n1", "kv", "put", "ops/b", "add", "n", "2")
    lines = stream_lines(watch)
    changes = [line for line in lines if line["event"] == "kv_changed"]
    check(len(changes) == 2 and changes[0]["initial"] and changes[0]["value"] == {"n": {"counter": 1}} and
          not changes[1]["initial"] and changes[1]["value"] == {"n": {"counter": 3}},
          f"kv watch lines: {lines}")
    check(any(line["event"] == "kv_dump_done" for line in lines), f"kv watch: no dump_done in {lines}")

    ops.ctl("n1", "kv", "del", "ops/a")
    eventually(lambda: "404" in ops.ctl("n2", "kv", "get", "ops/a", expect=1), 10, "the delete on n2")
    err = ops.ctl("n1", "kv", "del", "ops/none", expect=1)
    check("404" in err, f"kv del of an absent key: {err}")

    # mc sub on n2 (its lashupd does not subscribe), pub on n1 twice.
    sub = ops.stream("n2", "mc", "sub", "ops-news", "--count", "2")
    eventually(lambda: ops.ctl("n2", "status", json_out=True)["stats"]["admin.streams"] >= 1, 5, "the mc stream")
    ops.ctl("n1", "mc", "pub", "ops-news", "first message")
    out = ops.ctl("n1", "mc", "pub", "ops-news", stdin=b"from stdin \xe2\x9c\x93")
    check("published 14 bytes on ops-news" in out, f"mc pub from stdin: {out}")
    lines = stream_lines(sub)
    messages = [line for line in lines if line["event"] == "mc_message"]
    check([m["payload"] for m in messages] == ["first message", "from stdin \u2713"] and
          all(m["origin"] == "n1" for m in messages), f"mc sub lines: {lines}")
    c.poll()
    check(not c["n2"].find("mc_message"), "n2's application got messages only the admin stream subscribed to")
    # A topic both n1's application and admin streams subscribe to: each
    # keeps its subscription when the other ends its own.
    def app_payloads():
        c.poll()
        return [e["payload"] for e in c["n1"].find("mc_message", topic="shared")]
    sub = ops.stream("n1", "mc", "sub", "shared", "--count", "1")
    eventually(lambda: ops.ctl("n1", "status", json_out=True)["stats"]["admin.streams"] >= 1, 5, "the shared stream")
    ops.ctl("n2", "mc", "pub", "shared", "one")
    check([m["payload"] for m in stream_lines(sub) if m["event"] == "mc_message"] == ["one"], "stream: one")
    eventually(lambda: ops.ctl("n1", "status", json_out=True)["stats"]["admin.streams"] == 0, 5, "the stream's end")
    ops.ctl("n2", "mc", "pub", "shared", "two")
    eventually(lambda: app_payloads() == ["one", "two"], 10, "n1's application to keep its subscription")
    sub = ops.stream("n1", "mc", "sub", "shared", "--count", "1")
    eventually(lambda: ops.ctl("n1", "status", json_out=True)["stats"]["admin.streams"] >= 1, 5, "the shared stream")
    since = c["n1"].events[-1]["mono_us"] if c["n1"].events else 0
    c["n1"].send("unsubscribe shared")
    c.wait_for(lambda: c["n1"].find("unsubscribed", since_us=since), timeout_s=5, what="n1's unsubscribe")
    ops.ctl("n2", "mc", "pub", "shared", "three")
    check([m["payload"] for m in stream_lines(sub) if m["event"] == "mc_message"] == ["three"],
          "the stream lost its topic when the application unsubscribed")
    time.sleep(0.3)  # an absence: what the stream got at once, the application would have too
    check(app_payloads() == ["one", "two"], f"n1's application after unsubscribing: {app_payloads()}")

    err = ops.ctl("n1", "mc", "pub", "lashup/x", "y", expect=1)
    check("400" in err and "reserved" in err, f"mc pub on a reserved topic: {err}")

    # Health checks: answered when the event comes.
    out = ops.ctl("n1", "health", "n2")
    check(out.startswith("n2 alive, round trip "), f"health n2: {out}")
    check(ops.ctl("n3", "health", "n1", json_out=True)["alive"] is True, "health over TCP")
    out = subprocess.run([LASHUPCTL, "--socket", ops.sockets["n1"], "health", "nobody"], capture_output=True,
                         timeout=15)
    check(out.returncode == 1 and out.stdout == b"nobody not alive\n", f"health nobody: {out}")
    check(not c["n1"].find("health_check"), "n1's application got the admin server's health check answers")

    # Auth: the token is required over TCP.
    bad = os.path.join(ops.dir, "bad-token")
    with open(bad, "w") as f:
        f.write("wrong-token-0123456789abcdef\n")
    done = subprocess.run([LASHUPCTL, "--url", f"http://127.0.0.1:{ops.admin_port}", "--token-file", bad, "status"],
                          capture_output=True, timeout=10)
    check(done.returncode == 1 and b"401" in done.stderr, f"a wrong token: exit {done.returncode} {done.stderr}")
    code = status_without_token(ops)
    check(code == 401, f"no token: {code}")

    # Bad input: 4xx, never a crash.
    sock = ops.sockets["n1"]
    check(raw_http("/v1/nothing", sock) == 404, "unknown endpoint")
    check(raw_http("/v1/kv", sock) == 400, "kv without a key")
    check(raw_http("/v1/status?" + "a" * 10000, sock) in (400, 414, None), "a 10 kB URL")
    check(raw_http(b"GARBAGE\r\n\r\n", sock) in (400, None), "garbage request line")
    check(raw_http(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n" + b"X-Long: " + b"a" * 20000 + b"\r\n\r\n", sock)
          in (400, 413, 431, None), "20 kB of headers")
    big = b"x" * (2 << 20)
    code = raw_http(b"POST /v1/mc/publish?topic=t HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                    str(len(big)).encode() + b"\r\n\r\n" + big, sock)
    check(code in (413, None), f"a 2 MiB body: {code}")
    check(raw_http(b"POST /v1/kv?key=k&op=add&path=a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n1x2", sock) == 400,
          "a bad counter amount")
    # At most 32 streams: the 33rd is refused.
    held = []
    try:
        for _ in range(32):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock)
            s.sendall(b"GET /v1/kv/watch?prefix=zz HTTP/1.1\r\nHost: x\r\n\r\n")
            held.append(s)
        eventually(lambda: ops.ctl("n1", "status", json_out=True)["stats"]["admin.streams"] == 32, 5, "32 streams")
        check(raw_http("/v1/kv/watch?prefix=zz", sock) == 503, "a 33rd stream")
    finally:
        for s in held:
            s.close()
    eventually(lambda: ops.ctl("n1", "status", json_out=True)["stats"]["admin.streams"] == 0, 10,
               "closed streams to be forgotten")
    check(c["n1"].running and ops.ctl("n1", "status", json_out=True)["members"] == 3, "n1 after bad input")

    # The daemon's structured log lines.
    err = c["n1"].stderr()
    check('level=info component=node msg="started" node=n1' in err, f"n1 stderr: {err[:400]}")

    # A non-loopback TCP admin address is refused at start.
    done = subprocess.run([LASHUPD, "run", "--name", "x1", "--listen", "127.0.0.1:0", "--data-dir",
                           os.path.join(ops.dir, "x1"), "--set", "tls=off", "--admin", "0.0.0.0:1",
                           "--set", f"admin.token_file={ops.token_file}"], capture_output=True, timeout=10)
    check(done.returncode == 2 and b"not a loopback address" in done.stderr,
          f"admin on 0.0.0.0: exit {done.returncode} {done.stderr[:300]}")


def status_without_token(ops):
    """The status code of a TCP admin request without Authorization."""
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{ops.admin_port}/v1/status", timeout=5)
        return 200
    except urllib.error.HTTPError as e:
        return e.code


def kv_value(ops, node, key):
    """The key's value on node, or None when it is absent."""
    done = subprocess.run([LASHUPCTL] + ops.where(node) + ["--json", "kv", "get", key], capture_output=True, timeout=10)
    return json.loads(done.stdout)["value"] if done.returncode == 0 else None


# ---- metrics ----

def _scrapes(ops, node):
    try:
        ops.scrape(node)
        return True
    except OSError:
        return False


def parse_metrics(text):
    values = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, value = line.rsplit(" ", 1)
        values[name] = float(value)
    return values


def stat_metric(stat, gauge=False):
    return "lashup_" + stat.replace(".", "_") + ("" if gauge else "_total")


def case_metrics(ops):
    c = ops.cluster
    content_type, text = ops.scrape("n1")
    check(content_type.startswith("text/plain; version=0.0.4"), f"content type {content_type}")
    # Every stat of the C API is there.
    status = ops.ctl("n1", "status", json_out=True)
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
    for stat in status["stats"]:
        if ".le_" in stat or stat.endswith(".sum"):
            continue
        if stat.endswith(".count"):
            base = stat[:-6]
            metric = "lashup_" + base.replace(".", "_")[:-3] + "_seconds"
        else:
            metric = None
        candidates = [metric] if metric else [stat_metric(stat), stat_metric(stat, gauge=True)]
        check(any(m in names for m in candidates), f"no metric for stat {stat} (looked for {candidates})")

    label = '{node="n1"}'

    def n1(name, node="n1"):
        return parse_metrics(ops.scrape(node)[1]).get(name + f'{{node="{node}"}}', None)

    def moves(name, action, what, node="n1", timeout_s=10):
        before = n1(name, node)
        check(before is not None, f"{name} missing on {node}")
        if action:
            action()
        eventually(lambda: (n1(name, node) or 0) > before, timeout_s, f"{name} on {node} to move ({what})")

    moves("lashup_detector_probes_sent_total", None, "probing")
    moves("lashup_admin_requests_total", lambda: ops.ctl("n1", "status"), "an admin request")
    moves("lashup_kv_local_updates_total", lambda: ops.ctl("n1", "kv", "put", "m/k", "add", "c", "1"), "a write")
    moves("lashup_storage_commit_seconds_count", lambda: ops.ctl("n1", "kv", "put", "m/k", "add", "c", "1"),
          "a write's commit")
    moves("lashup_kv_deltas_applied_total", lambda: ops.ctl("n1", "kv", "put", "m/k", "add", "c", "1"),
          "a write replicated", node="n2")
    moves("lashup_kv_sync_rounds_total", None, "anti-entropy rounds")
    moves("lashup_kv_sync_bytes_sent_total", None, "anti-entropy bytes", timeout_s=15)
    moves("lashup_health_rtt_seconds_count", lambda: ops.ctl("n1", "health", "n2"), "a health check")
    sub = ops.stream("n2", "mc", "sub", "m-topic", "--count", "1")
    eventually(lambda: ops.ctl("n2", "status", json_out=True)["stats"]["admin.streams"] >= 1, 5, "the mc stream")
    moves("lashup_multicast_delivered_total", lambda: ops.ctl("n1", "mc", "pub", "m-topic", "x"),
          "a message delivered", node="n2")
    stream_lines(sub)
    moves("lashup_multicast_published_total", lambda: ops.ctl("n1", "mc", "pub", "m-topic", "y"), "a publish")

    def garbage_connection():
        # Not TLS: the handshake fails.
        with socket.create_connection(("127.0.0.1", c["n1"].port), timeout=5) as s:
            s.sendall(b"\x16\x03\x01\x00\x05hello" + b"\x00" * 64)
            try:
                s.recv(100)
            except OSError:
                pass
    moves("lashup_transport_tls_failures_total", garbage_connection, "a connection that is not TLS")

    # A plaintext node (alone) gets a frame header announcing 0 bytes.
    plain_port = free_port(exclude=set(ops.metrics.values()) | {ops.admin_port})
    ops.metrics["p1"] = plain_port
    p1 = c.start("p1", args=["--set", "tls=off", "--metrics", f"127.0.0.1:{plain_port}"])
    eventually(lambda: _scrapes(ops, "p1"), 10, "p1's metrics endpoint")

    def bad_frame():
        with socket.create_connection(("127.0.0.1", p1.port), timeout=5) as s:
            s.sendall(b"\x00" * 8)
            try:
                s.recv(100)
            except OSError:
                pass
    moves("lashup_transport_malformed_frames_total", bad_frame, "a frame announcing 0 bytes", node="p1")
    p1.terminate()

    # n3 stops answering: probes fail, it is evicted and marked unreachable.
    values = parse_metrics(ops.scrape("n1")[1])
    check(values['lashup_members_by_state{node="n1",state="reachable"}'] == 3, "members by state")
    before = {name: values[name + label] for name in (
        "lashup_detector_probes_missed_total", "lashup_membership_unreachable_marks_total",
        "lashup_detection_unreachable_seconds_count", "lashup_members_unreachable",
        "lashup_convergence_whole_seconds_count")}
    # n1 reached every member since it started: one partial period is over.
    check(before["lashup_convergence_whole_seconds_count"] >= 1, "no convergence sample after the start")
    def evictions():
        # A neighbour that stops answering is evicted after its probes fail
        # (neighbors_failed) or as not directly reachable (links_broken).
        total = 0
        for node in ("n1", "n2"):
            values = parse_metrics(ops.scrape(node)[1])
            for name in ("neighbors_failed", "links_broken"):
                total += values[f'lashup_detector_{name}_total{{node="{node}"}}']
        return total
    evicted_before = evictions()
    c["n3"].pause()
    try:
        eventually(lambda: parse_metrics(ops.scrape("n1")[1])["lashup_members_unreachable" + label] == 1, 15,
                   "n3 unreachable in n1's metrics")
        values = parse_metrics(ops.scrape("n1")[1])
        check(values['lashup_members_by_state{node="n1",state="unreachable"}'] == 1, "members by state: unreachable")
        # The transition is counted when its event is emitted, after
        # membership.event_coalesce_ms; the gauge shows it at once.
        for name in ("lashup_membership_unreachable_marks_total", "lashup_detection_unreachable_seconds_count"):
            eventually(lambda: parse_metrics(ops.scrape("n1")[1])[name + label] > before[name], 5,
                       f"{name} to move from {before[name]}")
        try:
            eventually(lambda: evictions() > evicted_before, 20, "an eviction of n3 by n1 or n2")
        except CaseFailed:
            detail = {node: {k: v for k, v in parse_metrics(ops.scrape(node)[1]).items() if "detector" in k}
                      for node in ("n1", "n2")}
            raise CaseFailed(f"no eviction of n3 by n1 or n2 within 20 s: {detail}")
        indirect = sum(parse_metrics(ops.scrape(node)[1])[
            f'lashup_detector_indirect_requests_sent_total{{node="{node}"}}'] for node in ("n1", "n2"))
        check(indirect > 0, "no indirect probe on n1 or n2")
        probes_missed = sum(parse_metrics(ops.scrape(node)[1])[f'lashup_detector_probes_missed_total{{node="{node}"}}']
                            for node in ("n1", "n2"))
        check(probes_missed > 0, "no missed probe on n1 or n2")
    finally:
        c["n3"].resume()
    # n3 is back: n1's view is whole again, which ends a partial period.
    eventually(lambda: parse_metrics(ops.scrape("n1")[1])["lashup_convergence_whole_seconds_count" + label] >
               before["lashup_convergence_whole_seconds_count"], 20, "a convergence sample after n3 came back")
    _, text = ops.scrape("n1")
    check("lashup_events_queued" in text and "lashup_commands_queued" in text, "queue depth gauges")
    check('lashup_storage_commit_seconds_bucket{node="n1",le="+Inf"}' in text, "commit histogram buckets")


def main():
    global LASHUPD, LASHUPCTL
    if len(sys.argv) != 4 or sys.argv[3] not in ("lashupctl", "metrics"):
        print(__doc__, file=sys.stderr)
        return 2
    LASHUPD, LASHUPCTL, case = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
    exit_cleanly_on_signals()
    started = time.monotonic()
    cluster = CheckedCluster(LASHUPD, status_interval_ms=200)
    try:
        ops = Ops(cluster)
        ops.start()
        (case_lashupctl if case == "lashupctl" else case_metrics)(ops)
    except (CaseFailed, TimeoutError, RuntimeError) as failure:
        say(f"FAIL ops_{case}: {failure}\n{describe(cluster)}")
        say("0 passed, 1 failed")
        return 1
    finally:
        cluster.cleanup()
    say(f"ok ops_{case} ({time.monotonic() - started:.1f} s)")
    say("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
