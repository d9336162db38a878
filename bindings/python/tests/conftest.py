"""Fixtures of the Python binding's tests: nodes on 127.0.0.1 with free ports,
in temporary directories, plaintext (tls = off) unless a test asks for TLS."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import lashup

# Tuned for a cluster in one process on loopback: fast joins and anti-entropy.
FAST = {
    "overlay.neighbor_retry_ms": 50,
    "overlay.join_retry_ms": 50,
    "kv.anti_entropy_interval_ms": 200,
    "log.level": "warn",
}


def eventually(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Polls condition until it returns a true value (returned) or fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not reached within {timeout} s")
        time.sleep(0.02)


class NodeFactory:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.nodes: list[lashup.Node] = []

    def make(self, name: str, contact: lashup.Node | None = None, start: bool = True, **settings: Any) -> lashup.Node:
        config: dict[str, Any] = dict(FAST)
        config.update(
            node_name=name,
            data_dir=str(self.root / f"{name}-{len(self.nodes)}"),
            listen_address="127.0.0.1:0",
        )
        if contact is not None:
            config["contact_nodes"] = [f"{contact.name}@{contact.address}"]
        if "tls" not in settings and not any(k.startswith("tls") for k in settings):
            config["tls"] = False
        node = lashup.Node(config, **settings)
        self.nodes.append(node)
        if start:
            node.start()
        return node

    def close_all(self) -> None:
        for node in self.nodes:
            node.close()


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[NodeFactory]:
    factory = NodeFactory(tmp_path)
    yield factory
    factory.close_all()


def wait_converged(cluster: list[lashup.Node], timeout: float = 10.0) -> None:
    names = [n.name for n in cluster]
    eventually(
        lambda: all(node.reachable(other) for node in cluster for other in names),
        timeout,
        "every node reachable from every node",
    )


@pytest.fixture
def cluster(nodes: NodeFactory) -> list[lashup.Node]:
    """Three nodes a, b, c; b and c join through a."""
    a = nodes.make("a")
    b = nodes.make("b", contact=a)
    c = nodes.make("c", contact=a)
    wait_converged([a, b, c])
    return [a, b, c]


@pytest.fixture
def lashupd() -> str:
    path = os.environ.get("LASHUP_LASHUPD", "")
    if not path or not os.access(path, os.X_OK):
        # A missing program is a broken setup, not a reason to pass: fail.
        pytest.fail("LASHUP_LASHUPD does not name the lashupd program (ctest sets it; by hand, "
                    "LASHUP_LASHUPD=build/<dir>/examples/lashupd)")
    return path
