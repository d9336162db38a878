"""node.mc: publish and subscribe across a three-node cluster."""

from __future__ import annotations

import pytest

import lashup


def test_message_reaches_every_subscriber_once(cluster: list[lashup.Node]) -> None:
    a, b, c = cluster
    subs = {node.name: node.mc.subscribe("news") for node in cluster}
    sequence = a.mc.publish_seq("news", b"hello")
    a.mc.publish("news", "second")  # str payloads are UTF-8
    for name, sub in subs.items():
        first = sub.get(timeout=10)
        assert first == lashup.Message("news", b"hello", "a", a.incarnation, sequence)
        second = sub.get(timeout=10)
        assert second.data == b"second" and second.sequence == sequence + 1
        with pytest.raises(TimeoutError):
            sub.get(timeout=0.2)  # exactly once
        sub.close()


def test_two_subscriptions_of_one_topic_each_get_every_message(cluster: list[lashup.Node]) -> None:
    a, b, _ = cluster
    first = b.mc.subscribe("t")
    second = b.mc.subscribe("t")
    a.mc.publish("t", b"1")
    assert first.get(timeout=10).data == b"1"
    assert second.get(timeout=10).data == b"1"
    first.close()
    # The topic stays subscribed while one subscription remains.
    a.mc.publish("t", b"2")
    assert second.get(timeout=10).data == b"2"
    second.close()
    assert list(second) == []


def test_bounded_buffer_drops_the_oldest(cluster: list[lashup.Node]) -> None:
    a = cluster[0]
    sub = a.mc.subscribe("burst", maxsize=5)
    for i in range(20):
        a.mc.publish_seq("burst", str(i))
    received = []
    while True:
        try:
            received.append(sub.get(timeout=0.5).data)
        except TimeoutError:
            break
    assert received == [str(i).encode() for i in range(15, 20)]
    assert sub.dropped == 15


def test_publish_errors(cluster: list[lashup.Node]) -> None:
    a = cluster[0]
    with pytest.raises(lashup.InvalidArgument, match="lashup/"):
        a.mc.publish("lashup/internal", b"x")
    with pytest.raises(lashup.InvalidArgument):
        a.mc.publish("", b"x")
    with pytest.raises(lashup.InvalidArgument):
        a.mc.subscribe("bad\0topic")
    with pytest.raises(lashup.TooLarge):
        a.mc.publish("t", b"x" * (1024 * 1024 + 1))
    with pytest.raises(TypeError):
        a.mc.publish("t", 12)  # type: ignore[arg-type]


def test_payload_limit_from_configuration(nodes) -> None:
    node = nodes.make("small", multicast_payload_bytes_max=10)
    node.mc.publish("t", b"x" * 10)
    with pytest.raises(lashup.TooLarge):
        node.mc.publish("t", b"x" * 11)
