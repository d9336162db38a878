#!/usr/bin/env python3
"""A first lashup cluster in one process: two nodes over mutual TLS.

Starts node "alpha", joins node "beta" to it, writes a key on alpha and reads
it back, receives the change through a subscription on beta, and sends beta a
multicast message. Certificates come from the development CA of lashupd
(`lashupd ca init` / `lashupd ca issue`); without lashupd the nodes run with
tls = off.

    PYTHONPATH=build/ci/bindings/python python3 examples/python/quickstart.py \
        --lashupd build/ci/examples/lashupd
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import lashup


def tls_material(lashupd: str | None, pki: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """Per node: the TLS settings, or tls = off when there is no lashupd."""
    if lashupd is None:
        print("no lashupd found: running without TLS (pass --lashupd to use it)")
        return {name: {"tls": False} for name in names}
    subprocess.run([lashupd, "ca", "init", "--dir", str(pki)], check=True, capture_output=True)
    issue = [lashupd, "ca", "issue", "--dir", str(pki)]
    for name in names:
        issue += ["--name", name]
    subprocess.run(issue, check=True, capture_output=True)
    return {
        name: {
            "tls_ca_file": pki / "ca.pem",
            "tls_cert_file": pki / f"{name}.pem",
            "tls_key_file": pki / f"{name}.key",
        }
        for name in names
    }


def wait_for(condition: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lashupd", default=os.environ.get("LASHUP_LASHUPD") or shutil.which("lashupd"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lashup-quickstart-") as scratch:
        root = Path(scratch)
        tls = tls_material(args.lashupd, root / "pki", ["alpha", "beta"])

        # Port 0: the system picks a free port; node.address tells which.
        with lashup.Node(
            node_name="alpha", data_dir=root / "alpha", listen_address="127.0.0.1:0", **tls["alpha"]
        ) as alpha:
            print(f"alpha listens on {alpha.address}")
            with lashup.Node(
                node_name="beta",
                data_dir=root / "beta",
                listen_address="127.0.0.1:0",
                contact_nodes=[f"alpha@{alpha.address}"],
                **tls["beta"],
            ) as beta:
                wait_for(lambda: beta.reachable("alpha") and alpha.reachable("beta"), "beta to join")
                print("members seen by beta:", [(m.name, m.state.name, m.distance) for m in beta.members()])

                changes = beta.kv.subscribe("demo/")
                messages = beta.mc.subscribe("greetings")

                # A write: a batch of operations on one key, applied when the block ends.
                with alpha.kv.update("demo/visits") as update:
                    update.counter_add("count", 1)
                    update.set_add("visitors", "alpha")
                value = alpha.kv["demo/visits"]
                print(f"alpha reads demo/visits: count={value['count']} visitors={sorted(value.set('visitors'))}")

                # beta's subscription: maybe the key in the initial dump, or the change.
                event = changes.get(timeout=10)
                assert event.value is not None
                print(f"beta's subscription: {event.key} count={event.value['count']} (initial dump: {event.initial})")

                alpha.mc.publish("greetings", "hello from alpha")
                message = messages.get(timeout=10)
                print(f"beta received on {message.topic!r} from {message.origin}: {message.data.decode()}")

                changes.close()
                messages.close()
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
