"""A private network of hosts in Linux network namespaces, and faults on it.

Each host is a network namespace with one veth interface (eth0) whose other
end is a port of a bridge that lives in a namespace of its own, so nothing
is added to the root namespace: not an interface, not a route, not a
firewall rule. Deleting the namespaces deletes the bridge, the veth pairs
and the nftables tables with them.

Faults are nftables rules in the *receiving* host's own ruleset (every
namespace has its own): a table `inet lshp` with an input chain. Dropping on
input loses packets silently, as a broken link does; dropping on output
would instead fail the sender's own sends with EPERM, which no network does.

Names: every namespace is `lshp<pid>-<host>` (pid of the process that made
it), so concurrent runs do not collide and leftovers of a run that was
killed too hard to clean up are recognised (their pid is gone) and removed
by the next run.

Needs root, `ip` (iproute2) and `nft` (nftables). Standard library only.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

__all__ = ["Network", "missing_requirements", "remove_stale_namespaces"]

PREFIX = "lshp"
TABLE = "lshp"  # the nftables table in every host namespace (family inet)
_NAME = re.compile(r"^" + PREFIX + r"(\d+)-")


def missing_requirements():
    """Why this machine cannot run the network tests, or None if it can."""
    if os.geteuid() != 0:
        return "not root"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"`{tool}` not found (scripts/install-deps.sh installs iproute2 and nftables)"
    return None


def _run(argv, check=True, input_text=None):
    result = subprocess.run(argv, input=input_text, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {result.returncode}: {result.stderr.strip()}")
    return result


def _namespaces():
    result = _run(["ip", "netns", "list"], check=False)
    # Lines are "NAME" or "NAME (id: N)".
    return [line.split()[0] for line in result.stdout.splitlines() if line.strip()]


def _delete_namespace(name):
    """Kills whatever still runs in the namespace, then deletes it (with its
    interfaces and nftables ruleset)."""
    pids = _run(["ip", "netns", "pids", name], check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    _run(["ip", "netns", "del", name], check=False)


def remove_stale_namespaces():
    """Deletes the namespaces of earlier runs whose process is gone; returns
    their names. Namespaces of runs still alive are left alone."""
    removed = []
    for name in _namespaces():
        match = _NAME.match(name)
        if match and not os.path.exists(f"/proc/{match.group(1)}"):
            _delete_namespace(name)
            removed.append(name)
    return removed


class Network:
    """Hosts on one bridged /24, each in its own namespace.

        with Network(["m1", "a1", "a3"]) as net:   # setup(); teardown() on exit
            net.address("a1")                       # "10.231.0.11"
            subprocess.run(net.exec_argv("a1") + ["ping", "-c1", net.address("a3")])
            net.drop_between(["a1"], ["a3"])        # both directions
            net.drop_one_way("a1", "a3")            # a1 -> a3 only
            net.heal()                              # no drop rule anywhere
    """

    def __init__(self, hosts, subnet="10.231.0", first_host_octet=11):
        if len(hosts) + first_host_octet > 254:
            raise ValueError("too many hosts for a /24")
        self.hosts = list(hosts)
        self.tag = f"{PREFIX}{os.getpid()}"
        self.bridge_ns = f"{self.tag}-br"
        self.subnet = subnet
        self._addresses = {h: f"{subnet}.{first_host_octet + i}" for i, h in enumerate(self.hosts)}
        self._made = []  # namespaces created, in order, for teardown

    def __enter__(self):
        try:
            self.setup()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc):
        self.teardown()

    def namespace(self, host):
        return f"{self.tag}-{host}"

    def address(self, host):
        return self._addresses[host]

    def exec_argv(self, host):
        """The prefix that runs a command inside the host's namespace.
        `ip netns exec` execs the command, so the pid is the command's."""
        return ["ip", "netns", "exec", self.namespace(host)]

    # ---- setup and teardown ----

    def setup(self):
        remove_stale_namespaces()
        for name in [self.bridge_ns] + [self.namespace(h) for h in self.hosts]:
            if name in _namespaces():  # a pid reused by this run: the old owner is gone
                _delete_namespace(name)
        _run(["ip", "netns", "add", self.bridge_ns])
        self._made.append(self.bridge_ns)
        br = ["ip", "-n", self.bridge_ns]
        _run(br + ["link", "add", "br0", "type", "bridge"])
        _run(br + ["link", "set", "br0", "up"])
        for i, host in enumerate(self.hosts):
            ns = self.namespace(host)
            _run(["ip", "netns", "add", ns])
            self._made.append(ns)
            port = f"v{i}"
            # Both ends are created directly in their namespaces: no name in
            # the root namespace, so no collision with anything there.
            _run(["ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", port,
                  "netns", self.bridge_ns])
            _run(br + ["link", "set", port, "master", "br0", "up"])
            inside = ["ip", "-n", ns]
            _run(inside + ["addr", "add", f"{self.address(host)}/24", "dev", "eth0"])
            _run(inside + ["link", "set", "eth0", "up"])
            _run(inside + ["link", "set", "lo", "up"])
            self._nft(host, f"add table inet {TABLE}\n"
                            f"add chain inet {TABLE} input {{ type filter hook input priority 0; policy accept; }}\n")
        self._wait_for_links()

    def _wait_for_links(self, timeout_s=10):
        """The bridge ports forward once the veth carriers are up, which takes
        a moment. A TCP connect from the first host to a closed port of each
        other one proves the path: "connection refused" is an answer from
        that host (no ping needed: iputils is not a dependency)."""
        first = self.hosts[0]
        probe = ("import socket, sys\n"
                 "try:\n"
                 "    socket.create_connection((sys.argv[1], 9), timeout=0.5).close()\n"
                 "except ConnectionRefusedError:\n"
                 "    pass\n")
        deadline = time.monotonic() + timeout_s
        for host in self.hosts[1:]:
            while True:
                argv = self.exec_argv(first) + [sys.executable, "-c", probe, self.address(host)]
                if _run(argv, check=False).returncode == 0:
                    break
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"no path from {first} to {host} after {timeout_s} s")
                time.sleep(0.05)

    def teardown(self):
        """Removes every namespace this network made (and so the bridge, the
        veth pairs and the nftables tables). Safe to call twice."""
        for ns in reversed(self._made):
            self._nft_in(ns, f"delete table inet {TABLE}\n", check=False)
            _delete_namespace(ns)
        self._made = []

    # ---- faults ----

    def _nft_in(self, ns, script, check=True):
        return _run(["ip", "netns", "exec", ns, "nft", "-f", "-"], check=check, input_text=script)

    def _nft(self, host, script):
        self._nft_in(self.namespace(host), script)

    def drop_one_way(self, src, dst):
        """Packets from src to dst are lost (dropped as dst receives them);
        dst -> src still flows."""
        self._nft(dst, f"add rule inet {TABLE} input ip saddr {self.address(src)} drop\n")

    def drop_between(self, group_a, group_b):
        """Every packet between a host of group_a and one of group_b is lost,
        both ways; traffic within each group and with everyone else flows."""
        for a in group_a:
            for b in group_b:
                self.drop_one_way(a, b)
                self.drop_one_way(b, a)

    def heal(self):
        """Removes every drop rule."""
        for host in self.hosts:
            self._nft(host, f"flush chain inet {TABLE} input\n")

    def rules(self):
        """{host: nft listing of our table}, for failure messages."""
        return {h: _run(["ip", "netns", "exec", self.namespace(h), "nft", "list", "table", "inet", TABLE],
                        check=False).stdout for h in self.hosts}
