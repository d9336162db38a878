#!/usr/bin/env python3
"""The nginx example end to end (ctest: lua_nginx_example, label bindings).

Starts two lashupd nodes (n1, n2) with mutual TLS from lashupd's dev CA,
then a real nginx with lua-nginx-module (examples/nginx/nginx.conf, on a
free port, its prefix in a temporary directory, in the foreground) whose
worker runs the node "web" through the LuaJIT FFI module, and checks over
HTTP:
  - GET /members lists n1, n2 and web, all reachable;
  - a counter written on n1 (stdin command kv-add) reads back from
    GET /kv/<key> once replicated, and an absent key is a 404;
  - POST /kv/<key>?field=..&add=.. adds through nginx, and n2 reads the sum;
  - a bad path is a 400 carrying the library's message;
  - on a reload (SIGHUP) the old worker leaves (n1 marks web "left") and
    the new one starts the node again (a higher incarnation, the same data);
  - on a graceful stop (SIGQUIT) nginx exits 0, without an error logged,
    and n1 no longer counts web as reachable.

With --workers 2 (ctest: lua_nginx_example_workers) nginx runs two workers,
each with its own node (web-0, web-1, from node-{worker}.conf): both join,
and requests answered by either see the whole cluster and the data.

    nginx_test.py [--workers 2] --nginx /usr/sbin/nginx \
                  --lashupd build/x/examples/lashupd --library build/x/capi/liblashup.so

Every wait polls for its condition with a deadline. Standard library only.
"""

import argparse
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "scripts", "lib"))

from cluster import Cluster, free_port, monotonic_us  # noqa: E402

WAIT_S = 30


def say(text):
    print(text, flush=True)


def wait_for(predicate, what, timeout_s=WAIT_S, interval_s=0.05, alive=None):
    """Calls predicate() until it returns a true value, which is returned;
    alive() is checked on each turn to fail at once when a process died."""
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        if alive is not None:
            alive()
        try:
            result = predicate()
        except (urllib.error.URLError, ConnectionError, OSError) as e:
            result, last = None, e
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout_s} s waiting for {what} (last error: {last})")
        time.sleep(interval_s)


def http(method, url):
    """(status, parsed JSON body)."""
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def nginx_config(port, workers, as_root):
    """examples/nginx/nginx.conf on `port` with `workers` workers, and
    "user root;" when run as root (the worker must read the node's key, which
    is mode 0600)."""
    with open(os.path.join(HERE, "nginx.conf")) as f:
        text = f.read()
    # With several workers, reuseport gives each its own socket, and the
    # kernel spreads the test's connections over them (without it, one
    # worker may take them all).
    listen = f"listen 127.0.0.1:{port}{' reuseport' if workers > 1 else ''};"
    text, count = re.subn(r"listen 127\.0\.0\.1:8080;", listen, text)
    assert count == 1, "nginx.conf: listen line not found"
    text, count = re.subn(r"(?m)^worker_processes 1;", f"worker_processes {workers};", text)
    assert count == 1, "nginx.conf: worker_processes line not found"
    if as_root:
        text = "user root;\n" + text
    return text


def stop_with_parent():
    """In the nginx master before exec: SIGTERM (nginx's fast shutdown, which
    also stops the workers) when this test process dies, even by SIGKILL
    (a ctest timeout), so that no nginx and no node outlive the test."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Nginx:
    """nginx in the foreground with examples/nginx/nginx.conf, its prefix in
    the cluster's directory; node names `names` (one per worker: with one
    worker LASHUP_NGINX_NODE_CONF names its file, with more it holds
    "{worker}")."""

    def __init__(self, args, cluster, names, contact):
        self.prefix = tempfile.mkdtemp(prefix="nginx-", dir=cluster.dir)
        os.makedirs(os.path.join(self.prefix, "tmp"))
        used = {n.port for n in cluster.nodes.values()}
        tls = cluster.tls_dir
        for index, name in enumerate(names):
            port = free_port(exclude=used)
            used.add(port)
            # a lashup configuration file, as an operator writes it
            with open(os.path.join(self.prefix, f"node-{index}.conf"), "w") as f:
                f.write(f"node_name = {name}\n"
                        f"listen_address = 127.0.0.1:{port}\n"
                        f"data_dir = {os.path.join(self.prefix, name + '.data')}\n"
                        f"contact_nodes = {contact.contact}\n"
                        f"tls.ca_file = {tls}/ca.pem\n"
                        f"tls.cert_file = {tls}/{name}.pem\n"
                        f"tls.key_file = {tls}/{name}.key\n")
        http_port = free_port(exclude=used)
        self.base = f"http://127.0.0.1:{http_port}"
        conf = os.path.join(self.prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(nginx_config(http_port, len(names), os.geteuid() == 0))

        env = dict(os.environ)
        env["LUA_PATH"] = f"{REPO}/bindings/lua/?.lua;{HERE}/?.lua;;"
        env["LASHUP_LIBRARY"] = os.path.abspath(args.library)
        node_conf = "node-0.conf" if len(names) == 1 else "node-{worker}.conf"
        env["LASHUP_NGINX_NODE_CONF"] = os.path.join(self.prefix, node_conf)
        self.err_path = os.path.join(self.prefix, "nginx.err")
        with open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(
                [args.nginx, "-p", self.prefix, "-c", conf, "-e", "stderr", "-g", "daemon off;"],
                env=env, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                start_new_session=True,  # its own process group: the master and its workers
                preexec_fn=stop_with_parent)
        self.cluster = cluster

    def log(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()[-4000:]

    def alive(self):
        """Raises when nginx or a lashupd node exited."""
        if self.process.poll() is not None:
            raise RuntimeError(f"nginx exited with {self.process.returncode}:\n{self.log()}")
        for node in self.cluster.nodes.values():
            if not node.running:
                raise RuntimeError(f"{node.name} exited: {node.stderr()[-500:]}")

    def get(self, path):
        return http("GET", self.base + path)

    def post(self, path):
        return http("POST", self.base + path)

    def wait_for(self, predicate, what):
        return wait_for(predicate, what, alive=self.alive)

    def signal(self, signo):
        self.process.send_signal(signo)

    def kill(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def check_clean_stop(self):
        code = self.process.wait(timeout=WAIT_S)
        log = self.log()
        assert code == 0, f"nginx exited with {code}:\n{log}"
        assert "[error]" not in log and "[alert]" not in log and "[emerg]" not in log, log


def members_view(nginx, expected):
    """GET /members when it lists exactly `expected` names, all reachable."""
    status, body = nginx.get("/members")
    if status != 200:
        return None
    states = {m["name"]: m["state"] for m in body["members"]}
    return body if states == {name: "reachable" for name in expected} else None


def one_worker(nginx, cluster):
    n1, n2 = cluster["n1"], cluster["n2"]

    # 1. The nginx node sees both lashupd nodes, and they see it.
    started = time.monotonic()
    members = nginx.wait_for(lambda: members_view(nginx, {"n1", "n2", "web"}),
                             "web, n1 and n2 reachable in GET /members")
    say(f"GET /members after {time.monotonic() - started:.2f} s: {json.dumps(members)}")
    assert members["node"] == "web", members
    by_name = {m["name"]: m for m in members["members"]}
    assert by_name["web"]["distance"] == 0 and by_name["n1"]["distance"] >= 1, members
    assert by_name["n1"]["address"] == n1.address, members
    cluster.wait_for(lambda: n1.find("reachability", node="web", state="reachable"),
                     WAIT_S, "n1 sees web reachable")

    # The timer drains the event queue every 50 ms: the membership events
    # are drained within a turn or two (the view may be whole before the first).
    def drained():
        status, body = nginx.get("/status")
        assert status == 200 and body["node"] == "web", (status, body)
        return body if body["events_drained"] >= 1 else None
    body = nginx.wait_for(drained, "the timer to drain the membership events")
    say(f"GET /status: {json.dumps(body)}")

    # 2. A write on n1 reads back through nginx once replicated.
    n1.send("kv-add app/config hits 5", "kv-set app/config color blue")
    cluster.wait_for(lambda: len(n1.find("kv_written", key="app/config")) == 2, WAIT_S, "n1's two writes")

    def replicated():
        status, body = nginx.get("/kv/app/config")
        value = body.get("value", {}) if status == 200 else {}
        ok = value.get("hits", {}).get("counter") == 5 and value.get("color", {}).get("register") == "blue"
        return body if ok else None
    body = nginx.wait_for(replicated, "app/config from n1 in GET /kv/app/config")
    assert body == {"key": "app/config", "value": {"hits": {"counter": 5}, "color": {"register": "blue"}}}, body
    say(f"GET /kv/app/config: {json.dumps(body)}")

    status, body = nginx.get("/kv/app/absent")
    assert status == 404 and body["key"] == "app/absent" and body["error"], (status, body)

    # 3. A counter add through nginx reaches n2.
    status, body = nginx.post("/kv/app/config?field=hits&add=2")
    assert status == 200, (status, body)
    assert body["value"]["hits"]["counter"] == 7, body
    say(f"POST /kv/app/config?field=hits&add=2: {json.dumps(body)}")

    def n2_reads_7():
        n2.send("kv-get app/config")
        line = n2.latest("kv_value", key="app/config")
        return line and line.get("value", {}).get("hits", {}).get("counter") == 7
    cluster.wait_for(n2_reads_7, WAIT_S, "n2 reads hits = 7", interval_s=0.1)

    # 4. A bad path is refused with the library's message.
    status, body = nginx.post("/kv/app/config?field=a//b&add=1")
    assert status == 400 and "bad path" in body["error"], (status, body)
    status, body = nginx.post("/kv/app/config?field=hits&add=x")
    assert status == 400, (status, body)

    # 5. A reload (SIGHUP): the old worker leaves and closes its node; the
    # new worker starts it again (retrying while the old one still holds the
    # data dir and port), with a higher incarnation.
    _, before = nginx.get("/status")
    reload_us = monotonic_us()
    nginx.signal(signal.SIGHUP)

    def restarted():
        status, body = nginx.get("/status")
        return body if status == 200 and body["incarnation"] > before["incarnation"] else None
    after = nginx.wait_for(restarted, "the node of the new worker")
    cluster.wait_for(lambda: n1.find("reachability", node="web", state="left", since_us=reload_us)
                     and n1.find("member_updated", node="web", incarnation=after["incarnation"]),
                     WAIT_S, "n1 sees web leave and come back")
    nginx.wait_for(lambda: members_view(nginx, {"n1", "n2", "web"}), "web, n1 and n2 reachable after the reload")
    status, body = nginx.get("/kv/app/config")
    assert status == 200 and body["value"]["hits"]["counter"] == 7, (status, body)
    say(f"reload: incarnation {before['incarnation']} -> {after['incarnation']}; the data survived")

    # 6. A graceful stop: the worker leaves and closes its node, nginx exits 0.
    stop_us = monotonic_us()
    nginx.signal(signal.SIGQUIT)
    nginx.check_clean_stop()
    # n1 no longer counts web as reachable. (Not checked through a "left"
    # reachability event: n1 sends none for a member that left, came back
    # with a higher incarnation and left again — the leave itself is checked
    # at the reload above.)
    cluster.wait_for(lambda: any(s["reachable"] == 1 for s in n1.find("status", since_us=stop_us)),
                     WAIT_S, "n1 counts web as gone")
    say("nginx stopped; n1 counts web as gone; its log:\n" + nginx.log().strip())


def two_workers(nginx, cluster):
    """Two workers, two nodes (web-0, web-1, from node-{worker}.conf): both
    join, and whichever worker answers sees the cluster and the data."""
    n1 = cluster["n1"]
    names = {"n1", "n2", "web-0", "web-1"}
    cluster.wait_for(lambda: n1.find("reachability", node="web-0", state="reachable")
                     and n1.find("reachability", node="web-1", state="reachable"),
                     WAIT_S, "n1 sees web-0 and web-1 reachable")
    answered = set()

    def both_workers_answered():
        body = members_view(nginx, names)
        if body is not None:
            answered.add(body["node"])
        return answered == {"web-0", "web-1"}
    # Requests go to either worker; a fresh connection each time spreads them.
    nginx.wait_for(both_workers_answered, "GET /members from both workers, each listing all four")
    say(f"GET /members answered by {sorted(answered)}, each listing {sorted(names)}")

    n1.send("kv-add app/shared n 3")
    for _ in range(6):  # several requests: both workers read their replica
        body = nginx.wait_for(lambda: (lambda r: r[1] if r[0] == 200 else None)(nginx.get("/kv/app/shared")),
                              "app/shared in GET /kv/app/shared")
        assert body["value"] == {"n": {"counter": 3}}, body
    nginx.signal(signal.SIGQUIT)
    nginx.check_clean_stop()
    say("two workers: both nodes joined and served; nginx stopped cleanly")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nginx", default="/usr/sbin/nginx")
    parser.add_argument("--lashupd", required=True)
    parser.add_argument("--library", required=True)
    parser.add_argument("--workers", type=int, choices=(1, 2), default=1)
    args = parser.parse_args()

    for signo in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signo, lambda s, _f: sys.exit(128 + s))

    names = ["web"] if args.workers == 1 else ["web-0", "web-1"]
    nginx = None
    with Cluster(args.lashupd) as cluster:
        try:
            cluster.make_certificates(["n1", "n2"] + names)
            n1 = cluster.start("n1", args=["--stdin-commands"])
            cluster.start("n2", contacts=[n1], args=["--stdin-commands"])
            nginx = Nginx(args, cluster, names, contact=n1)
            if args.workers == 1:
                one_worker(nginx, cluster)
            else:
                two_workers(nginx, cluster)
            say("PASS")
        except BaseException:
            if nginx is not None:
                say("nginx log:\n" + nginx.log())
            for node in cluster.nodes.values():
                about_web = [e for e in node.events if str(e.get("node", "")).startswith("web")]
                say(f"{node.name} events about the nginx nodes: {about_web[-8:]}")
                say(f"{node.name} stderr: {node.stderr()[-500:]}")
            raise
        finally:
            if nginx is not None:
                nginx.kill()


if __name__ == "__main__":
    main()
