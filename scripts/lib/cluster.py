"""Run a cluster of lashupd processes on one host and read what they print.

Each node is a `lashupd run` process whose stdout (one JSON object per line,
examples/lashupd/README.md) goes to DIR/NAME.log, its stderr to DIR/NAME.err
and its pid to DIR/NAME.pid; its data dir is DIR/NAME.data.
The logs are read incrementally, so a test can wait for a line while the
nodes run:

    from cluster import Cluster, monotonic_us

    with Cluster("build/default/examples/lashupd") as cluster:
        cluster.make_certificates(["n1", "n2", "n3"])
        n1 = cluster.start("n1")
        for name in ("n2", "n3"):
            cluster.start(name, contacts=[n1])
        cluster.wait_for(lambda: cluster.converged(), timeout_s=10, what="3 reachable nodes")
        killed_us = monotonic_us()
        cluster["n2"].kill()
        cluster.wait_for(
            lambda: all(n.find("reachability", node="n2", state="unreachable", since_us=killed_us)
                        for n in cluster.running()),
            timeout_s=5, what="n2 unreachable everywhere")

A node started with "--stdin-commands" among its arguments reads commands
from a pipe: `node.send("publish topic hello")`.

Times: `mono_us` in the lines is CLOCK_MONOTONIC in microseconds, the clock
of `time.monotonic_ns()` on Linux, so `monotonic_us()` taken here compares
with them directly.

Standard library only; Python 3.9 or newer.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

__all__ = ["Cluster", "Node", "monotonic_us", "free_port"]


def monotonic_us():
    """CLOCK_MONOTONIC in microseconds, the clock of lashupd's mono_us."""
    return time.monotonic_ns() // 1000


def free_port(host="127.0.0.1", exclude=()):
    """A TCP port nothing listens on now (the kernel's pick for port 0).

    Another process may take it before lashupd binds it; the window is short
    and the ports the kernel hands out rotate, so in practice it does not
    happen on a test host."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
        if port not in exclude:
            return port


class Node:
    """One lashupd process (restartable with the same name, port and data dir)."""

    def __init__(self, cluster, name, port, contacts, args):
        self.cluster = cluster
        self.name = name
        self.port = port
        self.address = f"{cluster.host}:{port}"
        self.contacts = list(contacts)
        self.args = list(args)
        self.data_dir = os.path.join(cluster.dir, name + ".data")
        self.log_path = os.path.join(cluster.dir, name + ".log")
        self.err_path = os.path.join(cluster.dir, name + ".err")
        self.pid_path = os.path.join(cluster.dir, name + ".pid")
        self.events = []  # every JSON line of every run, in order
        self.process = None
        self._log = None
        self._partial = b""

    @property
    def contact(self):
        """This node as a contact_nodes entry: name@host:port."""
        return f"{self.name}@{self.address}"

    def command(self):
        cluster = self.cluster
        argv = [cluster.binary, "run", "--name", self.name, "--listen", self.address,
                "--data-dir", self.data_dir]
        if cluster.tls:
            argv += ["--tls-dir", cluster.tls_dir]
        else:
            argv += ["--set", "tls=off"]
        if self.contacts:
            argv += ["--contacts", ",".join(self.contacts)]
        if cluster.status_interval_ms:
            argv += ["--status-interval-ms", str(cluster.status_interval_ms)]
        if cluster.cluster_id:
            argv += ["--cluster-id", cluster.cluster_id]
        return argv + cluster.args + self.args

    def start(self):
        """Starts the process (again, after a kill or stop). The log is
        appended to, so events of earlier runs stay in `events`."""
        if self.running:
            raise RuntimeError(f"{self.name} is running already")
        os.makedirs(self.data_dir, exist_ok=True)
        if self.process is not None and self.process.stdin is not None:
            try:
                self.process.stdin.close()  # the pipe of an earlier run
            except OSError:
                pass  # commands left unread by a process that was killed
        argv = self.command()
        stdin = subprocess.PIPE if "--stdin-commands" in argv else subprocess.DEVNULL
        with open(self.log_path, "ab") as out, open(self.err_path, "ab") as err:
            self.process = subprocess.Popen(argv, stdout=out, stderr=err, stdin=stdin)
        # For a shell trap that cleans up after a Python killed too hard to do it.
        with open(self.pid_path, "w") as f:
            f.write(f"{self.process.pid}\n")
        return self

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self):
        return self.process.pid if self.process is not None else None

    @property
    def returncode(self):
        return self.process.poll() if self.process is not None else None

    def poll(self):
        """Reads the lines written since the last call; returns the new events."""
        if self._log is None:
            if not os.path.exists(self.log_path):
                return []
            self._log = open(self.log_path, "rb")
        data = self._partial + self._log.read()
        lines = data.split(b"\n")
        self._partial = lines.pop()  # an incomplete last line waits for its end
        new = []
        for line in lines:
            if not line.strip():
                continue
            try:
                new.append(json.loads(line))
            except ValueError:
                new.append({"event": "_unparsed", "text": line.decode("utf-8", "replace")})
        self.events.extend(new)
        return new

    def find(self, event=None, since_us=None, **fields):
        """Events of type `event` (any when None) at or after since_us whose
        fields equal the keyword arguments."""
        return [e for e in self.events
                if (event is None or e.get("event") == event)
                and (since_us is None or e.get("mono_us", 0) >= since_us)
                and all(e.get(k) == v for k, v in fields.items())]

    def latest(self, event=None, since_us=None, **fields):
        found = self.find(event, since_us, **fields)
        return found[-1] if found else None

    def stderr(self):
        try:
            with open(self.err_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def send(self, *lines):
        """Writes command lines to a node started with --stdin-commands
        (examples/lashupd/README.md)."""
        if self.process is None or self.process.stdin is None:
            raise RuntimeError(f"{self.name} does not read commands (start it with --stdin-commands)")
        self.process.stdin.write("".join(line + "\n" for line in lines).encode())
        self.process.stdin.flush()

    # ---- process control ----

    def signal(self, signo):
        if self.running:
            self.process.send_signal(signo)

    def kill(self):
        """kill -9, and reap the process."""
        if self.process is not None:
            self.signal(signal.SIGKILL)
            self.process.wait()
            self.poll()

    def pause(self):
        self.signal(signal.SIGSTOP)

    def resume(self):
        self.signal(signal.SIGCONT)

    def terminate(self):
        """SIGTERM without waiting (see stop)."""
        self.signal(signal.SIGCONT)  # a paused process cannot handle SIGTERM
        self.signal(signal.SIGTERM)

    def stop(self, timeout_s=10):
        """SIGTERM, then waits for the exit; returns the exit status (a
        process that does not exit in time is killed and raises)."""
        if self.process is None:
            return None
        self.terminate()
        return self.wait(timeout_s)

    def wait(self, timeout_s=10):
        """Waits for the exit; returns the exit status (a process that does
        not exit in time is killed and raises)."""
        try:
            code = self.process.wait(timeout_s)
            self.poll()  # the last lines, e.g. "stopped"
            return code
        except subprocess.TimeoutExpired:
            self.kill()
            raise TimeoutError(f"{self.name} did not exit within {timeout_s} s")

    def restart(self):
        self.kill()
        return self.start()

    def close(self):
        self.kill()
        if self.process is not None and self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except OSError:
                pass  # commands left unread by a process that was killed
        if self._log is not None:
            self._log.close()
            self._log = None


class Cluster:
    """lashupd processes sharing a work directory (a fresh temporary one by
    default, removed by cleanup) and, with tls=True, one development CA."""

    def __init__(self, binary, workdir=None, host="127.0.0.1", tls=True, status_interval_ms=200,
                 cluster_id=None, args=()):
        self.binary = os.path.abspath(binary)
        self.host = host
        self.tls = tls
        self.status_interval_ms = status_interval_ms
        self.cluster_id = cluster_id
        self.args = list(args)  # added to every node's command line
        self._owns_dir = workdir is None
        self.dir = tempfile.mkdtemp(prefix="lashupd-") if workdir is None else os.path.abspath(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.tls_dir = os.path.join(self.dir, "tls")
        self.nodes = {}  # name -> Node, in creation order

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def __getitem__(self, name):
        return self.nodes[name]

    # ---- setup ----

    def make_certificates(self, names):
        """A CA in DIR/tls (once) and a certificate for each name."""
        if not os.path.exists(os.path.join(self.tls_dir, "ca.key")):
            subprocess.run([self.binary, "ca", "init", "--dir", self.tls_dir], check=True)
        issue = [self.binary, "ca", "issue", "--dir", self.tls_dir]
        for name in names:
            issue += ["--name", name]
        subprocess.run(issue, check=True)

    def add(self, name, contacts=(), port=None, args=()):
        """A node that is not started yet. contacts: Nodes or name@host:port strings."""
        if name in self.nodes:
            raise ValueError(f"node {name} exists")
        used = {n.port for n in self.nodes.values()}
        port = port if port is not None else free_port(self.host, exclude=used)
        contacts = [c.contact if isinstance(c, Node) else c for c in contacts]
        node = Node(self, name, port, contacts, args)
        self.nodes[name] = node
        return node

    def start(self, name, contacts=(), port=None, args=()):
        return self.add(name, contacts, port, args).start()

    def running(self):
        return [n for n in self.nodes.values() if n.running]

    # ---- observation ----

    def poll(self):
        for node in self.nodes.values():
            node.poll()

    def wait_for(self, predicate, timeout_s, what="a condition", interval_s=0.02):
        """Reads every log and calls predicate() until it returns a true
        value, which is returned. Raises TimeoutError after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.poll()
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")
            time.sleep(interval_s)

    def converged(self, nodes=None, since_us=None):
        """True when the latest status line of each node (all running nodes
        by default) counts every one of them as a member and reachable."""
        nodes = self.running() if nodes is None else nodes
        for node in nodes:
            status = node.latest("status", since_us=since_us)
            if status is None or status["members"] != len(nodes) or status["reachable"] != len(nodes) - 1:
                return False
        return True

    # ---- teardown ----

    def stop_all(self, timeout_s=10):
        """SIGTERM to every running node at once; returns {name: exit status}."""
        nodes = self.running()
        for node in nodes:
            node.terminate()
        return {node.name: node.wait(timeout_s) for node in nodes}

    def cleanup(self):
        """Kills every node still running and removes the work directory if
        this cluster created it."""
        for node in self.nodes.values():
            node.close()
        if self._owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
