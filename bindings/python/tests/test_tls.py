"""Nodes over mutual TLS, with certificates from the development CA of
lashupd (`lashupd ca init` / `lashupd ca issue`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import NodeFactory, wait_converged

import lashup


def make_pki(lashupd: str, directory: Path, *names: str) -> Path:
    subprocess.run([lashupd, "ca", "init", "--dir", str(directory)], check=True, capture_output=True)
    issue = [lashupd, "ca", "issue", "--dir", str(directory)]
    for name in names:
        issue += ["--name", name]
    subprocess.run(issue, check=True, capture_output=True)
    return directory


def tls_settings(pki: Path, name: str) -> dict[str, str]:
    return {
        "tls_ca_file": str(pki / "ca.pem"),
        "tls_cert_file": str(pki / f"{name}.pem"),
        "tls_key_file": str(pki / f"{name}.key"),
    }


def test_cluster_over_tls_replicates_and_multicasts(nodes: NodeFactory, lashupd: str, tmp_path: Path) -> None:
    pki = make_pki(lashupd, tmp_path / "pki", "a", "b")
    a = nodes.make("a", **tls_settings(pki, "a"))
    b = nodes.make("b", contact=a, **tls_settings(pki, "b"))
    wait_converged([a, b])
    sub = b.mc.subscribe("secure")
    a.mc.publish("secure", b"over tls")
    assert sub.get(timeout=10).data == b"over tls"
    a.kv.update("tls/key").counter_add("n", 2).commit()
    with b.kv.subscribe("tls/") as changes:
        event = changes.get(timeout=10)
    assert event.key == "tls/key" and event.value is not None and event.value["n"] == 2


def test_certificate_of_another_name_is_refused_at_start(nodes: NodeFactory, lashupd: str, tmp_path: Path) -> None:
    pki = make_pki(lashupd, tmp_path / "pki", "a", "b")
    node = nodes.make("a", start=False, **tls_settings(pki, "b") | {"tls_key_file": str(pki / "b.key")})
    with pytest.raises(lashup.TLSError) as raised:
        node.start()
    assert raised.value.code == -8 and str(raised.value)


def test_missing_tls_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(lashup.InvalidArgument, match="tls"):
        lashup.Node(node_name="a", data_dir=str(tmp_path), listen_address="127.0.0.1:0")
